namespace Cached.Generators.Tests.Scenarios;

/// <summary>The shapes of [MultiCached] methods.</summary>
public partial class ForecastService(CallCounter calls)
{
    public List<string[]> Requests { get; } = [];

    public static double Celsius(string city) => city.Length;

    [MultiCached(KeysFrom = "cities", Alias = UserService.Alias, Ttl = 60)]
    public partial Dictionary<string, double> ByArray(string[] cities);

    private Dictionary<string, double> ByArrayCore(string[] cities)
    {
        Requests.Add(cities);
        calls.Hit(nameof(ByArray));
        return cities.Where(static c => c != "Atlantis").ToDictionary(static c => c, Celsius);
    }

    [MultiCached(KeysFrom = "cities", Alias = UserService.Alias, Namespace = "list")]
    public partial IDictionary<string, double> ByList(List<string> cities);

    private IDictionary<string, double> ByListCore(List<string> cities)
    {
        Requests.Add([.. cities]);
        return cities.ToDictionary(static c => c, Celsius);
    }

    [MultiCached(KeysFrom = "cities", Alias = UserService.Alias, Namespace = "readonly")]
    public partial IReadOnlyDictionary<string, double> ByReadOnlyList(IReadOnlyList<string> cities);

    private IReadOnlyDictionary<string, double> ByReadOnlyListCore(IReadOnlyList<string> cities)
    {
        Requests.Add([.. cities]);
        return cities.ToDictionary(static c => c, Celsius);
    }

    [MultiCached(KeysFrom = "ids", Alias = UserService.Alias, Namespace = "set", KeyBuilder = nameof(IdKey), SkipCacheWhen = nameof(IsNegative))]
    public partial Task<Dictionary<int, double>> BySetAsync(HashSet<int> ids, CancellationToken cancellationToken);

    private static string IdKey(int id) => "id-" + id;

    private static bool IsNegative(int id, double value) => value < 0;

    private async Task<Dictionary<int, double>> BySetAsyncCore(HashSet<int> ids, CancellationToken cancellationToken)
    {
        await Task.Yield();
        Requests.Add([.. ids.Select(static i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        return ids.ToDictionary(static i => i, static i => (double)i);
    }

    [MultiCached(KeysFrom = "cities", Alias = UserService.Alias, Namespace = "enumerable")]
    public partial ValueTask<IDictionary<string, double>> ByEnumerableAsync(IEnumerable<string> cities);

    private ValueTask<IDictionary<string, double>> ByEnumerableAsyncCore(IEnumerable<string> cities)
    {
        var list = cities.ToList();
        Requests.Add([.. list]);
        return new(list.ToDictionary(static c => c, Celsius));
    }

    /// <summary>The comparer of the set each call of the body got.</summary>
    public List<IEqualityComparer<string>> SetComparers { get; } = [];

    [MultiCached(KeysFrom = "codes", Alias = UserService.Alias, Namespace = "codes")]
    public partial Dictionary<string, int> ByCodeSet(ISet<string> codes);

    private Dictionary<string, int> ByCodeSetCore(ISet<string> codes)
    {
        var set = (HashSet<string>)codes;
        SetComparers.Add(set.Comparer);
        // A case-insensitive caller relies on Contains seeing "AB" in a set that holds "ab".
        return new[] { "AB", "CD" }.Where(codes.Contains).ToDictionary(static c => c.ToLowerInvariant(), static c => c.Length);
    }

    // Invalidators of [MultiCached] methods name the keys with a parameter of the KeysFrom name.
    [InvalidateCache(nameof(ByArray))]
    public partial void Refresh(IEnumerable<string> cities);

    private void RefreshCore(IEnumerable<string> cities)
    {
    }

    [InvalidateCache(nameof(BySetAsync))]
    public partial Task ForgetAsync(int ids, CancellationToken cancellationToken);

    private Task ForgetAsyncCore(int ids, CancellationToken cancellationToken) => Task.CompletedTask;

    [InvalidateCache(nameof(ByArray), nameof(ByList))]
    public partial Task RefreshAsync(IEnumerable<string> cities);

    private Task RefreshAsyncCore(IEnumerable<string> cities) => Task.CompletedTask;
}
