namespace Cached.Generators.Tests.Scenarios;

// Shapes of C# 13 and 14 that the in-memory Roslyn of the generator tests cannot parse, compiled here by the SDK's own
// compiler with the generator as analyzer (OutsiderModernShapesReviewTests runs them). All use the default cache.

/// <summary>C# 13 params collections on [Cached], [MultiCached] and [InvalidateCache] methods.</summary>
public partial class ModernParams
{
    public CallCounter Calls { get; } = new();

    [Cached]
    public partial int Sum(params IEnumerable<int> values);

    private int SumCore(IEnumerable<int> values)
    {
        Calls.Hit(nameof(Sum));
        return values.Sum();
    }

    [Cached]
    public partial string Join(params List<string> parts);

    private string JoinCore(List<string> parts)
    {
        Calls.Hit(nameof(Join));
        return string.Join("+", parts);
    }

    [MultiCached(KeysFrom = "ids", Namespace = "modern-params")]
    public partial Dictionary<int, string> Names(params IReadOnlyList<int> ids);

    private Dictionary<int, string> NamesCore(IReadOnlyList<int> ids)
    {
        Calls.Hit(nameof(Names) + ":" + string.Join(",", ids));
        return ids.ToDictionary(static id => id, static id => "n" + id);
    }

    [InvalidateCache(nameof(Names))]
    public partial void ForgetNames(params int[] ids);

    private void ForgetNamesCore(int[] ids)
    {
    }

    [InvalidateCache(nameof(Sum))]
    public partial void ForgetSum(params IEnumerable<int> values);

    private void ForgetSumCore(IEnumerable<int> values)
    {
    }
}

/// <summary>A C# 14 extension block beside classic [Cached] extension methods in one static partial class.</summary>
public static partial class ModernExtensions
{
    public static CallCounter Calls { get; set; } = new();

    extension(int number)
    {
        public int Halved => number / 2;

        public bool IsEven() => number % 2 == 0;
    }

    extension<T>(IEnumerable<T> items)
    {
        public int CountOf(T item) => items.Count(x => EqualityComparer<T>.Default.Equals(x, item));
    }

    [Cached]
    public static partial int Quadrupled(this int number);

    private static int QuadrupledCore(int number)
    {
        Calls.Hit(nameof(Quadrupled));
        return number.Halved * 8 + (number.IsEven() ? 0 : 4);
    }

    [Cached]
    public static partial Task<int> CountAsync<T>(this IEnumerable<T> items, T item, CancellationToken cancellationToken = default)
        where T : notnull;

    private static Task<int> CountAsyncCore<T>(IEnumerable<T> items, T item, CancellationToken cancellationToken)
        where T : notnull
    {
        Calls.Hit(nameof(CountAsync) + "<" + typeof(T).Name + ">");
        return Task.FromResult(items.CountOf(item));
    }
}

/// <summary>A containing type with a C# 14 <c>field</c>-backed property and a primary constructor.</summary>
public partial class ModernFieldService(string region)
{
    public CallCounter Calls { get; } = new();

    public int Offset
    {
        get => field;
        set => field = value < 0 ? 0 : value;
    }

    [Cached]
    public partial string Describe(int id);

    private string DescribeCore(int id)
    {
        Calls.Hit(nameof(Describe));
        return region + ":" + (id + Offset);
    }

    /// <summary>A token first, a nullable result: neither moves the key.</summary>
    [Cached]
    public partial Task<string?> FindAsync(CancellationToken cancellationToken, int id, string? name = null);

    private Task<string?> FindAsyncCore(CancellationToken cancellationToken, int id, string? name)
    {
        Calls.Hit(nameof(FindAsync));
        return Task.FromResult(id < 0 ? null : name + id);
    }
}

/// <summary>A static virtual [Cached] interface member: each implementing type has entries of its own.</summary>
public partial interface IModernCatalog<TSelf>
    where TSelf : IModernCatalog<TSelf>
{
    static CallCounter Calls { get; } = new();

    [Cached]
    public static virtual partial string Label(int id);

    private static string LabelCore(int id)
    {
        Calls.Hit(typeof(TSelf).Name);
        return typeof(TSelf).Name + "#" + id;
    }
}

public sealed class ModernBooks : IModernCatalog<ModernBooks>;

public sealed class ModernFilms : IModernCatalog<ModernFilms>;

/// <summary>A readonly record struct whose [Cached] body reads its positional members.</summary>
public readonly partial record struct ModernPoint(int X, int Y)
{
    public static CallCounter Calls { get; } = new();

    [Cached]
    public partial int Scaled(int factor);

    private int ScaledCore(int factor)
    {
        Calls.Hit(nameof(Scaled));
        return (X + Y) * factor;
    }
}

/// <summary>A C# 13 <c>allows ref struct</c> type parameter that is neither a key part nor the result.</summary>
public partial class ModernGauge<T>
    where T : allows ref struct
{
    public static int Calls { get; set; }

    [Cached]
    public partial int Count(int id);

    private int CountCore(int id)
    {
        Calls++;
        return id * 2;
    }
}
