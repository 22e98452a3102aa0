// pycached's examples/multicached_decorator.py: [MultiCached] on a partial method that takes a list of keys and
// returns a dictionary. One multi-get reads every key; only the missing keys reach the body; its entries are stored
// one per key, so later calls with other lists reuse them.
//
//   dotnet run --project samples/MulticachedDecorator                                      # the memory backend
//   dotnet run --project samples/MulticachedDecorator -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using Cached;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name}");

// Generated methods without an Alias or Cache use the "default" alias: make it this cache.
Caches.AddInstance(Caches.DefaultAlias, cache);
var lookups = new Lookups();

Show("multi_cached_ids([a, b])", lookups.MultiCachedIds(["a", "b"]));
Show("multi_cached_ids([a, c])", lookups.MultiCachedIds(["a", "c"]));
Show("multi_cached_keys([d])", await lookups.MultiCachedKeysAsync(["d"]));
Show("multi_cached_ids([a, b, c, d])", lookups.MultiCachedIds(["a", "b", "c", "d"]));

string[] keys = ["a", "b", "c", "d"];
Console.WriteLine($"exists a, b, c, d in main: {string.Join(", ", keys.Select(key => cache.Exists(key, "main")))}");
Console.WriteLine($"deleted: {keys.Sum(key => cache.Delete(key, "main"))}");

void Show(string call, IReadOnlyDictionary<string, string> result)
{
    var entries = string.Join(", ", result.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}: {pair.Value}"));
    var body = lookups.LastBodyKeys is { } asked ? $"the body was asked for [{string.Join(", ", asked)}]" : "the body was not called";
    Console.WriteLine($"{call} = {{{entries}}}; {body}");
    lookups.LastBodyKeys = null;
}

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
static ICache CreateCache(string[] args)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    return string.IsNullOrEmpty(redisUrl) ? new SimpleMemoryCache() : Cache.FromUrl(redisUrl);
}

internal sealed partial class Lookups
{
    private static readonly Dictionary<string, string> s_dict = new() { ["a"] = "Z", ["b"] = "Y", ["c"] = "X", ["d"] = "W" };

    /// <summary>The keys the last body call was given, to show which keys missed.</summary>
    public IReadOnlyCollection<string>? LastBodyKeys { get; set; }

    [MultiCached(KeysFrom = "ids", Namespace = "main")]
    public partial Dictionary<string, string> MultiCachedIds(IReadOnlyList<string> ids);

    [MultiCached(KeysFrom = "keys", Namespace = "main")]
    public partial Task<Dictionary<string, string>> MultiCachedKeysAsync(string[] keys, CancellationToken cancellationToken = default);

    private Dictionary<string, string> MultiCachedIdsCore(IReadOnlyList<string> ids)
    {
        LastBodyKeys = ids;
        return ids.ToDictionary(id => id, id => s_dict[id]);
    }

    private async Task<Dictionary<string, string>> MultiCachedKeysAsyncCore(string[] keys, CancellationToken cancellationToken)
    {
        LastBodyKeys = keys;
        await Task.Delay(10, cancellationToken);   // stands in for a slow service
        return keys.ToDictionary(key => key, key => s_dict[key]);
    }
}
