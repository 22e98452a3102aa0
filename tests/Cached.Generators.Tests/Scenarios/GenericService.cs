namespace Cached.Generators.Tests.Scenarios;

public interface IShape
{
    double Area { get; }
}

public sealed class Square : IShape
{
    public double Area => 4;
}

public sealed class Circle : IShape
{
    public double Area => 3;
}

/// <summary>Generic [Cached] and [InvalidateCache] methods: each instantiation keeps entries of its own.</summary>
public partial class GenericService(CallCounter calls)
{
    private readonly CallCounter _calls = calls;

    [Cached(Alias = UserService.Alias)]
    public partial T Echo<T>(T value)
        where T : notnull;

    private T EchoCore<T>(T value)
        where T : notnull
    {
        _calls.Hit($"Echo<{typeof(T).Name}>");
        return value;
    }

    /// <summary>The type argument appears in no parameter: only the key tells the instantiations apart.</summary>
    [Cached(Alias = UserService.Alias)]
    public partial string Describe<T>(int id);

    private string DescribeCore<T>(int id)
    {
        _calls.Hit($"Describe<{typeof(T).Name}>");
        return typeof(T).Name + " " + id;
    }

    [Cached(Alias = UserService.Alias, Key = "area:{TShape}:{id}")]
    public partial Task<double> AreaAsync<TShape>(int id, CancellationToken cancellationToken = default)
        where TShape : class, IShape, new();

    private Task<double> AreaAsyncCore<TShape>(int id, CancellationToken cancellationToken)
        where TShape : class, IShape, new()
    {
        _calls.Hit($"AreaAsync<{typeof(TShape).Name}>");
        return Task.FromResult(new TShape().Area * id);
    }

    [Cached(Alias = UserService.Alias, KeyBuilder = nameof(ParseKey), SkipCacheWhen = nameof(IsMissing))]
    public partial ValueTask<T?> Parse<T>(string text)
        where T : struct, IParsable<T>;

    private ValueTask<T?> ParseCore<T>(string text)
        where T : struct, IParsable<T>
    {
        _calls.Hit($"Parse<{typeof(T).Name}>");
        return new(T.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null);
    }

    private static string ParseKey<T>(string text)
        where T : struct, IParsable<T>
        => $"parse:{typeof(T).Name}:{text}";

    private static bool IsMissing<T>(T? value)
        where T : struct, IParsable<T>
        => value is null;

    [InvalidateCache(nameof(Echo), nameof(AreaAsync))]
    public partial void Forget<T, TShape>(T value, int id)
        where T : notnull
        where TShape : class, IShape, new();

    private void ForgetCore<T, TShape>(T value, int id)
        where T : notnull
        where TShape : class, IShape, new()
    {
    }
}

/// <summary>A generic method of a generic type: the key carries both type arguments.</summary>
public partial class GenericRepository<TEntity>(CallCounter calls)
    where TEntity : class
{
    [Cached(Alias = UserService.Alias)]
    public partial string Find<TId>(TId id)
        where TId : notnull;

    private string FindCore<TId>(TId id)
        where TId : notnull
    {
        calls.Hit($"Find<{typeof(TEntity).Name},{typeof(TId).Name}>");
        return $"{typeof(TEntity).Name}#{id}";
    }
}
