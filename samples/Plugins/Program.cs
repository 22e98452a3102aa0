// pycached's examples/plugins.py: hooks that run before and after every command. HitMissRatioPlugin counts hits and
// misses, TimingPlugin measures each command, and a plugin of your own is a CachePlugin that overrides the hooks it
// needs (here PreSet and PostSet).
//
//   dotnet run --project samples/Plugins                                      # the memory backend
//   dotnet run --project samples/Plugins -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends, except those starting with '#'
// (durations).
using System.Globalization;
using Cached;
using Cached.Plugins;

var hitMissRatio = new HitMissRatioPlugin();
var timing = new TimingPlugin();
using var cache = CreateCache(args, [hitMissRatio, timing, new MyCustomPlugin()]);
Console.WriteLine($"backend: {cache.GetType().Name}");

cache.Set("a", "1");
cache.Set("b", "2");
cache.Set("c", "3");
cache.Set("d", "4");

// pycached picks 1000 keys at random; going round the six in order keeps the counts checkable.
string[] possibleKeys = ["a", "b", "c", "d", "e", "f"];
for (var i = 0; i < 1000; i++)
{
    cache.Get<string>(possibleKeys[i % possibleKeys.Length]);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"hit_miss_ratio: hits {hitMissRatio.Hits}, misses {hitMissRatio.Misses}, total {hitMissRatio.Total}, hit_ratio {hitMissRatio.HitRatio:0.000}"));
foreach (var command in new[] { CacheCommand.Set, CacheCommand.Get })
{
    var measured = timing[command];
    Console.WriteLine($"timing {command}: count {measured.Count}, min <= average <= max: {measured.Min <= measured.Average && measured.Average <= measured.Max}");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"# timing {command}: min {measured.Min.TotalMilliseconds:0.000} ms, average {measured.Average.TotalMilliseconds:0.000} ms, max {measured.Max.TotalMilliseconds:0.000} ms"));
}

Console.WriteLine($"deleted: {cache.Delete("a") + cache.Delete("b") + cache.Delete("c") + cache.Delete("d")}");

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
// A URL names the connection; the plugins, objects rather than text, are given beside it.
static ICache CreateCache(string[] args, ICachePlugin[] plugins)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    if (string.IsNullOrEmpty(redisUrl))
    {
        return new SimpleMemoryCache { Namespace = "main", Plugins = plugins };
    }

    return Cache.FromUrl(Namespaced(redisUrl), plugins: plugins);

    static string Namespaced(string url) => $"{url}{(url.Contains('?') ? '&' : '?')}namespace=main";
}

/// <summary>pycached's MyCustomPlugin: says what it sees before and after every set.</summary>
internal sealed class MyCustomPlugin : CachePlugin
{
    protected override void PreSet(CacheCommandContext context)
        => Console.WriteLine($"pre_set: key {context.Key} in namespace {context.Namespace}, value {context.Value}");

    protected override void PostSet(CacheCommandContext context)
        => Console.WriteLine($"post_set: key {context.Key}, result {context.Result}");
}
