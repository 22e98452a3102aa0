using Cached.Plugins;
using Cached.Serializers;

namespace Cached.Generators.Tests.Scenarios;

/// <summary>The shapes of [Cached] methods, all on the alias "scenario" that each test points at a fresh cache.</summary>
public partial class UserService(CallCounter calls)
{
    public const string Alias = "scenario";

    public Func<int, User?> Source { get; set; } = static id => new User(id, "user" + id);

    [Cached(Alias = Alias, Ttl = 10, Key = "user:{id}")]
    public partial User? GetUser(int id);

    private User? GetUserCore(int id)
    {
        calls.Hit(nameof(GetUser));
        return Source(id);
    }

    [Cached(Alias = Alias, Key = "user-async:{id}")]
    public partial Task<User?> GetUserAsync(int id, CancellationToken cancellationToken = default);

    private async Task<User?> GetUserAsyncCore(int id, CancellationToken cancellationToken)
    {
        calls.Hit(nameof(GetUserAsync));
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return Source(id);
    }

    [Cached(Alias = Alias, Key = "user-value:{id}")]
    public partial ValueTask<User?> GetUserValueAsync(int id);

    private ValueTask<User?> GetUserValueAsyncCore(int id)
    {
        calls.Hit(nameof(GetUserValueAsync));
        return new(Source(id));
    }

    [Cached(Alias = Alias)]
    public partial string Describe(int id, string? name, Region region, Guid tenant, DateTime at, DateTimeOffset seen, int[] tags, User owner, int? limit, [CacheKeyIgnore] string traceId);

    private string DescribeCore(int id, string? name, Region region, Guid tenant, DateTime at, DateTimeOffset seen, int[] tags, User owner, int? limit, string traceId)
    {
        calls.Hit(nameof(Describe));
        return $"{id}/{name}/{region}/{tags.Length}/{owner.Name}/{limit}/{traceId}";
    }

    [Cached(Alias = Alias, Key = "order:{id:D6}")]
    public partial string Order(int id);

    private string OrderCore(int id)
    {
        calls.Hit(nameof(Order));
        return "order" + id;
    }

    [Cached(Alias = Alias, KeyBuilder = nameof(SearchKey))]
    public partial string Search(string term, int page);

    private static string SearchKey(string term, int page) => $"search/{term.ToUpperInvariant()}/{page}";

    private string SearchCore(string term, int page)
    {
        calls.Hit(nameof(Search));
        return term + page;
    }

    [Cached(Alias = Alias)]
    public partial Task<int> Twice(int id, CancellationToken? cancellationToken = null);

    private async Task<int> TwiceCore(int id, CancellationToken? cancellationToken)
    {
        calls.Hit(nameof(Twice));
        await Task.Yield();
        cancellationToken?.ThrowIfCancellationRequested();
        return id * 2;
    }

    [Cached(Alias = Alias, SkipCacheWhen = nameof(IsEmpty))]
    public partial string Lookup(string term);

    private static bool IsEmpty(string result) => result.Length == 0;

    private string LookupCore(string term)
    {
        calls.Hit(nameof(Lookup));
        return term == "none" ? string.Empty : term;
    }

    [Cached(Alias = Alias, Key = "tag:{label}")]
    public partial string Tag(string label);

    private string TagCore(string label)
    {
        calls.Hit(nameof(Tag));
        return label.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    [Cached(Alias = Alias)]
    public partial int Fail(int id);

    private int FailCore(int id)
    {
        calls.Hit(nameof(Fail));
        throw new InvalidOperationException("body failed " + id);
    }

    [Cached(Alias = Alias, Namespace = "users")]
    public partial string InNamespace(int id);

    private string InNamespaceCore(int id)
    {
        calls.Hit(nameof(InNamespace));
        return "ns" + id;
    }

    [Cached(Alias = Alias, Key = "slow:{id}", Lease = 5)]
    public partial Task<string> SlowAsync(int id, TaskCompletionSource gate);

    private async Task<string> SlowAsyncCore(int id, TaskCompletionSource gate)
    {
        calls.Hit(nameof(SlowAsync));
        await gate.Task;
        return "slow" + id;
    }

    [Cached(Alias = Alias, Key = "blocking:{id}")]
    public partial string Blocking(int id, ManualResetEventSlim gate);

    private string BlockingCore(int id, ManualResetEventSlim gate)
    {
        calls.Hit(nameof(Blocking));
        gate.Wait(TimeSpan.FromSeconds(10));
        return "blocking" + id;
    }

    [Cached(Cache = typeof(SimpleMemoryCache), Serializer = typeof(JsonSerializer), Plugins = [typeof(HitMissRatioPlugin)], Key = "own:{id}")]
    public partial User OwnCache(int id);

    internal static ICache OwnCacheInstance => __cached_OwnCache.CurrentCache;

    private User OwnCacheCore(int id)
    {
        calls.Hit(nameof(OwnCache));
        return new User(id, "own");
    }

    [InvalidateCache(nameof(GetUser), nameof(GetUserAsync))]
    public partial void Rename(int id, string name);

    private void RenameCore(int id, string name) => Source = i => new User(i, i == id ? name : "user" + i);

    [InvalidateCache(nameof(GetUserValueAsync))]
    public partial Task RenameAsync(int id, string name, CancellationToken cancellationToken);

    private Task RenameAsyncCore(int id, string name, CancellationToken cancellationToken)
    {
        Source = i => new User(i, i == id ? name : "user" + i);
        return Task.CompletedTask;
    }

    [InvalidateCache(nameof(GetUser), nameof(GetUserAsync), nameof(GetUserValueAsync))]
    public partial Task ForgetAsync(int id, CancellationToken cancellationToken);

    private Task ForgetAsyncCore(int id, CancellationToken cancellationToken) => Task.CompletedTask;

    [InvalidateCache(nameof(GetUser), nameof(GetUserAsync), nameof(GetUserValueAsync))]
    public partial void Forget(int id);

    private void ForgetCore(int id) { }
}

/// <summary>Methods with no cache option: they use the "default" alias when configured, else one shared memory cache.</summary>
public static partial class DefaultCacheScenario
{
    public static int Calls;

    [Cached]
    public static partial string Echo(string text);

    private static string EchoCore(string text)
    {
        Interlocked.Increment(ref Calls);
        return text;
    }

    [Cached(IncludeInstance = false, Key = "fixed")]
    public static partial int Fixed();

    private static int FixedCore() => Interlocked.Increment(ref Calls);
}

/// <summary>A key that includes the instance (pycached's noself=False).</summary>
public sealed partial record Tenant(string Name)
{
    public int Calls { get; private set; }

    [Cached(Alias = UserService.Alias, IncludeInstance = true)]
    public partial string Greeting(string who);

    private string GreetingCore(string who)
    {
        Calls++;
        return $"{Name} greets {who}";
    }
}

public static partial class Outer
{
    /// <summary>A nested generic type: each closed type has its own keys.</summary>
    public partial class Repository<T>
    {
        public int Calls { get; private set; }

        [Cached(Alias = UserService.Alias)]
        public partial string Find(int id);

        private string FindCore(int id)
        {
            Calls++;
            return typeof(T).Name + id;
        }
    }
}
