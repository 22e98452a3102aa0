using System.Text.Json.Serialization;
using Cached;
using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Logging;

public sealed record Forecast(string City, double Celsius);

public sealed record UserDto(int Id, string Name);

public sealed record Point(int X, int Y);

public enum Colour { Red, Green }

// The usual System.Text.Json context; Cached's generator registers it.
[JsonSerializable(typeof(Forecast))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(List<Forecast>))]
internal sealed partial class ReviewJsonContext : JsonSerializerContext;

public sealed partial class Shapes
{
    public int Calls { get; private set; }

    public int UserCalls { get; private set; }

    public List<string> Asked { get; } = [];

    [Cached]
    public partial int Square(int x);

    private int SquareCore(int x)
    {
        Calls++;
        return x * x;
    }

    [Cached(Key = "describe:{id}:{name}")]
    public partial Task<string> DescribeAsync(int id, string name);

    private Task<string> DescribeAsyncCore(int id, string name)
    {
        Calls++;
        return Task.FromResult($"{name}#{id}@{Calls}");
    }

    [Cached]
    public partial ValueTask<int> SumAsync(List<int> values);

    private ValueTask<int> SumAsyncCore(List<int> values)
    {
        Calls++;
        return ValueTask.FromResult(values.Sum());
    }

    [Cached]
    public partial string Mixed(Colour colour, Guid id, DateOnly day, bool? flag);

    private string MixedCore(Colour colour, Guid id, DateOnly day, bool? flag)
    {
        Calls++;
        return $"{colour}{day.Day}{flag?.ToString() ?? "-"}";
    }

    [Cached]
    public partial string Where(Point p);

    private string WhereCore(Point p)
    {
        Calls++;
        return $"({p.X};{p.Y})";
    }

    [Cached]
    public partial T Echo<T>(T value) where T : notnull;

    private T EchoCore<T>(T value) where T : notnull
    {
        Calls++;
        return value;
    }

    [InvalidateCache(nameof(Echo))]
    public partial void Forget<T>(T value) where T : notnull;

    private void ForgetCore<T>(T value) where T : notnull
    {
    }

    [InvalidateCache(nameof(DescribeAsync))]
    public partial void Rename(int id, string name);

    private void RenameCore(int id, string name)
    {
    }

    [MultiCached(KeysFrom = "ids")]
    public partial Dictionary<int, string> Names(IReadOnlyList<int> ids);

    private Dictionary<int, string> NamesCore(IReadOnlyList<int> ids)
    {
        Asked.Add(string.Join(",", ids));
        return ids.ToDictionary(id => id, id => "n" + id);
    }

    [Cached(Key = "user:{id}", Tags = new[] { "user:{id}", "users" })]
    public partial Task<UserDto> GetUserAsync(int id);

    private Task<UserDto> GetUserAsyncCore(int id)
    {
        UserCalls++;
        return Task.FromResult(new UserDto(id, "u" + id));
    }

    [InvalidateTags("user:{id}")]
    public partial void Touch(int id);

    private void TouchCore(int id)
    {
    }

    // A cache of the method's own, made by generated code: a memory cache storing JSON copies, with a plugin.
    [Cached(Cache = typeof(SimpleMemoryCache), Serializer = typeof(JsonSerializer), Plugins = new[] { typeof(HitMissRatioPlugin) })]
    public partial Forecast OwnCache(string city);

    private Forecast OwnCacheCore(string city)
    {
        Calls++;
        return new Forecast(city, 20);
    }
}

public sealed partial class Packed
{
    public int Calls { get; private set; }

    // The MessagePack serializer named by type: the generator writes its construction into the project.
    [Cached(Cache = typeof(SimpleMemoryCache), Serializer = typeof(MessagePackSerializer))]
    public partial Forecast Get(int id);

    private Forecast GetCore(int id)
    {
        Calls++;
        return new Forecast("m" + id, id);
    }
}

public static partial class Extensions
{
    public static int Calls { get; private set; }

    [Cached]
    public static partial int Twice(this int x);

    private static int TwiceCore(int x)
    {
        Calls++;
        return 2 * x;
    }
}

public sealed partial class RedisWeather
{
    public int Calls { get; private set; }

    public int ManyCalls { get; private set; }

    public int TaggedCalls { get; private set; }

    [Cached(Alias = "redis", Ttl = 60, Key = "forecast:{city}")]
    public partial Task<Forecast> GetAsync(string city);

    private Task<Forecast> GetAsyncCore(string city)
    {
        Calls++;
        return Task.FromResult(new Forecast(city, 21.5));
    }

    [MultiCached(Alias = "redis", KeysFrom = "cities", Ttl = 60)]
    public partial Dictionary<string, Forecast> GetMany(IReadOnlyList<string> cities);

    private Dictionary<string, Forecast> GetManyCore(IReadOnlyList<string> cities)
    {
        ManyCalls++;
        return cities.ToDictionary(c => c, c => new Forecast(c, 10));
    }

    [Cached(Alias = "redis", Ttl = 60, Key = "tagged:{id}", Tags = new[] { "item:{id}" })]
    public partial Task<UserDto> TaggedAsync(int id);

    private Task<UserDto> TaggedAsyncCore(int id)
    {
        TaggedCalls++;
        return Task.FromResult(new UserDto(id, "t"));
    }

    [InvalidateTags("item:{id}", Alias = "redis")]
    public partial Task TouchAsync(int id);

    private Task TouchAsyncCore(int id) => Task.CompletedTask;
}

public sealed partial class Configured
{
    public int Calls { get; private set; }

    [Cached(Key = "plain:{id}")]
    public partial string Plain(int id);

    private string PlainCore(int id)
    {
        Calls++;
        return "p" + id;
    }

    [Cached(Alias = "cfgjson", Key = "json:{id}")]
    public partial Forecast Json(int id);

    private Forecast JsonCore(int id)
    {
        Calls++;
        return new Forecast("j" + id, id);
    }

    [Cached(Alias = "cfgredis", Key = "cfg:{id}")]
    public partial Task<Forecast> OnRedisAsync(int id);

    private Task<Forecast> OnRedisAsyncCore(int id)
    {
        Calls++;
        return Task.FromResult(new Forecast("r" + id, id));
    }

    [Cached(Alias = "redis", Key = "di:{id}")]
    public partial Task<Forecast> DiRedisAsync(int id);

    private Task<Forecast> DiRedisAsyncCore(int id)
    {
        Calls++;
        return Task.FromResult(new Forecast("d" + id, id));
    }
}

/// <summary>Keeps what Cached logs at Warning and above, as "category event-id".</summary>
internal sealed class RecordingLoggerFactory : ILoggerFactory
{
    public List<string> Messages { get; } = [];

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                lock (owner.Messages)
                {
                    owner.Messages.Add($"{category} {eventId.Id} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " [" + exception.GetType().Name + "]")}");
                }
            }
        }
    }
}
