using System.Diagnostics.Metrics;
using System.Globalization;
using Cached;
using Cached.DependencyInjection;
using Cached.Plugins;
using Cached.Redis;
using Cached.Serializers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Every line this prints is "section: result"; OutsiderAotReviewTests compares the lines of the JIT run and of the
// NativeAOT binary, and asserts the expected ones. A section that throws prints "section: FAILED <type>: <message>"
// and the next one runs. The only argument is the port of a redis-server on the loopback address.
var port = int.Parse(args[0], CultureInfo.InvariantCulture);
var configuration = $"127.0.0.1:{port}";

var logs = new RecordingLoggerFactory();
CachedLogging.LoggerFactory = logs;
var instruments = new SortedSet<string>(StringComparer.Ordinal);
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, l) =>
    {
        if (instrument.Meter.Name == "Cached")
        {
            l.EnableMeasurementEvents(instrument);
        }
    },
};
listener.SetMeasurementEventCallback<long>((instrument, _, _, _) => { lock (instruments) { instruments.Add(instrument.Name); } });
listener.SetMeasurementEventCallback<double>((instrument, _, _, _) => { lock (instruments) { instruments.Add(instrument.Name); } });
listener.SetMeasurementEventCallback<int>((instrument, _, _, _) => { lock (instruments) { instruments.Add(instrument.Name); } });
listener.Start();

Console.WriteLine($"aot: {!System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported}".Replace("aot: True", "mode: native").Replace("aot: False", "mode: jit"));

await Section("shapes", async () =>
{
    var s = new Shapes();
    var results = new List<string>
    {
        $"{s.Square(3)}{s.Square(3)}",
        await s.DescribeAsync(1, "ada") + await s.DescribeAsync(1, "ada"),
        (await s.SumAsync([1, 2, 3])).ToString(CultureInfo.InvariantCulture) + (await s.SumAsync([1, 2, 3])).ToString(CultureInfo.InvariantCulture),
        s.Mixed(Colour.Green, new Guid("7d9f3c1e-0000-4000-8000-000000000001"), new DateOnly(2024, 2, 29), null) + s.Mixed(Colour.Green, new Guid("7d9f3c1e-0000-4000-8000-000000000001"), new DateOnly(2024, 2, 29), null),
        s.Where(new Point(1, 2)) + s.Where(new Point(1, 2)) + s.Where(new Point(2, 1)),
        $"{s.Echo(5)}{s.Echo(5)}{s.Echo("5")}",
        $"{4.Twice()}{4.Twice()}",
    };
    s.Forget(5);
    results.Add($"{s.Echo(5)}");
    s.Rename(1, "ada");
    results.Add(await s.DescribeAsync(1, "ada"));
    return $"{string.Join(",", results)} | bodies {s.Calls} | twice bodies {Extensions.Calls}";
});

await Section("multicached", () =>
{
    var s = new Shapes();
    var first = s.Names([1, 2]);
    var second = s.Names([2, 3]);
    return Task.FromResult($"{string.Join(",", first.OrderBy(p => p.Key).Select(p => p.Value))} {string.Join(",", second.OrderBy(p => p.Key).Select(p => p.Value))} | asked {string.Join(";", s.Asked)}");
});

await Section("tags-memory", async () =>
{
    var s = new Shapes();
    await s.GetUserAsync(1);
    await s.GetUserAsync(2);
    await s.GetUserAsync(1);
    s.Touch(1);
    await s.GetUserAsync(1);
    await s.GetUserAsync(2);
    using var cache = new SimpleMemoryCache();
    cache.Set("profile:42", "tea", new CacheEntryOptions { Tags = ["user:42"] });
    var before = cache.Get<string>("profile:42");
    cache.InvalidateTags("user:42");
    return $"user bodies {s.UserCalls} | set with tag {before} then {cache.Get<string>("profile:42") ?? "(miss)"}";
});

await Section("own-cache-json", () =>
{
    var s = new Shapes();
    var a = s.OwnCache("Porto");
    var b = s.OwnCache("Porto");
    return Task.FromResult($"{b.City} {b.Celsius} | copy {!ReferenceEquals(a, b)} | bodies {s.Calls}");
});

await Section("plugins", () =>
{
    var ratio = new HitMissRatioPlugin();
    var timing = new TimingPlugin();
    using var cache = new SimpleMemoryCache { Plugins = [ratio, timing] };
    cache.Set("a", "1");
    cache.Get<string>("a");
    cache.Get<string>("b");
    cache.Get<string>("a");
    return Task.FromResult(string.Create(CultureInfo.InvariantCulture, $"hits {ratio.Hits} misses {ratio.Misses} ratio {ratio.HitRatio:0.00} | timed gets {timing[CacheCommand.Get].Count} sets {timing[CacheCommand.Set].Count}"));
});

await Section("getorset-memory", () => FailSafeAndEagerRefresh(new SimpleMemoryCache { Serializer = new JsonSerializer() }));

var redis = new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "review" };
Caches.AddInstance("redis", redis);

await Section("redis-json", async () =>
{
    var w = new RedisWeather();
    var a = await w.GetAsync("Lisbon");
    var b = await w.GetAsync("Lisbon");
    var many = w.GetMany(["Lisbon", "Oslo"]);
    var again = w.GetMany(["Oslo"]);
    var stored = await redis.GetAsync<Forecast>("forecast:Lisbon");
    var raw = await redis.GetAsync<string>("raw");
    await redis.SetAsync("list", new List<Forecast> { new("Rome", 30) });
    var list = await redis.GetAsync<List<Forecast>>("list");
    return $"{b.City} {b.Celsius} | bodies {w.Calls} | many {many.Count} again {again["Oslo"].Celsius} many bodies {w.ManyCalls} | direct {stored?.City} | list {list?[0].City} | missing {raw ?? "(miss)"}";
});

await Section("redis-tags", async () =>
{
    var w = new RedisWeather();
    await w.TaggedAsync(7);
    await w.TaggedAsync(7);
    await w.TouchAsync(7);
    await w.TaggedAsync(7);
    await redis.SetAsync("t:1", new Forecast("Nice", 18), new CacheEntryOptions { Tags = ["coast"] });
    var before = (await redis.GetAsync<Forecast>("t:1"))?.City;
    await redis.InvalidateTagsAsync(["coast"]);
    var after = await redis.GetAsync<Forecast>("t:1");
    return $"tagged bodies {w.TaggedCalls} | set with tag {before} then {after?.City ?? "(miss)"}";
});

await Section("getorset-redis", () => FailSafeAndEagerRefresh(redis));

await Section("messagepack", async () =>
{
    using var packed = new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "mp", Serializer = new MessagePackSerializer() };
    await packed.SetAsync("s", "text");
    await packed.SetAsync("n", 42);
    var text = await packed.GetAsync<string>("s");
    var number = await packed.GetAsync<int>("n");
    string record;
    try
    {
        await packed.SetAsync("r", new Forecast("Bergen", 9.5));
        record = (await packed.GetAsync<Forecast>("r"))?.City ?? "(miss)";
    }
    catch (Exception ex)
    {
        record = $"refused {ex.GetType().Name}";
    }

    var generated = new Packed();
    string viaAttribute;
    try
    {
        viaAttribute = generated.Get(1).City + generated.Get(1).City + $" bodies {generated.Calls}";
    }
    catch (Exception ex)
    {
        viaAttribute = $"refused {ex.GetType().Name}";
    }

    return $"{text} {number} | record {record} | attribute {viaAttribute}";
});

await Section("multilevel", async () =>
{
    await using var a = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "ml" }, new RedisBackplane(configuration));
    await using var b = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "ml" }, new RedisBackplane(configuration));
    await a.SetAsync("greeting", new Forecast("hello", 1));
    var first = (await b.GetAsync<Forecast>("greeting"))?.City;
    // A's own message about its write may reach B after B's first read and drop that copy: B reads again until its
    // copy stands.
    var inL1 = await Until(async () => await b.GetAsync<Forecast>("greeting") is not null && b.IsInL1("greeting"));
    await a.SetAsync("greeting", new Forecast("bonjour", 2));
    var seen = await Until(async () => (await b.GetAsync<Forecast>("greeting"))?.City == "bonjour");
    await a.SetAsync("tagged", "v", new CacheEntryOptions { Tags = ["ml-tag"] });
    var taggedBefore = await b.GetAsync<string>("tagged");
    await a.InvalidateTagsAsync(["ml-tag"]);
    var taggedGone = await Until(async () => await b.GetAsync<string>("tagged") is null);
    return $"B read {first} (in L1 {inL1}) | update reached B {seen} | tag {taggedBefore} invalidated on B {taggedGone}";
});

await Section("config-dictionary", async () =>
{
    // Caches.SetConfig with CacheConfig objects: no attribute warns of reflection here.
    var json = new CacheConfig { Cache = "Cached.SimpleMemoryCache", Serializer = new ClassConfig("Cached.Serializers.JsonSerializer") };
    var plain = new CacheConfig { Cache = "Cached.SimpleMemoryCache" };
    plain.Plugins.Add(new ClassConfig("Cached.Plugins.HitMissRatioPlugin"));
    var onRedis = new CacheConfig { Cache = "Cached.Redis.RedisCache" };
    onRedis["Endpoint"] = "127.0.0.1";
    onRedis["Port"] = port.ToString(CultureInfo.InvariantCulture);
    onRedis["Namespace"] = "cfg";
    Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = plain, ["cfgjson"] = json, ["cfgredis"] = onRedis });
    Caches.Add("cfgadd", new CacheConfig { Cache = "Cached.SimpleMemoryCache" });
    var c = new Configured();
    var results = new List<string>();
    foreach (var (name, call) in new (string, Func<Task<string>>)[]
    {
        ("default", () => Task.FromResult(c.Plain(1) + c.Plain(1))),
        ("cfgjson", () => Task.FromResult(c.Json(1).City + c.Json(1).City)),
        ("cfgredis", async () => (await c.OnRedisAsync(1)).City + (await c.OnRedisAsync(1)).City),
    })
    {
        var before = c.Calls;
        try
        {
            var value = await call();
            results.Add($"{name} {value} bodies {c.Calls - before}");
        }
        catch (Exception ex)
        {
            results.Add($"{name} FAILED {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }

    return string.Join(" | ", results);
});

await Section("caches-get-create", () =>
{
    var results = new List<string>();
    foreach (var alias in new[] { "default", "cfgjson", "cfgredis" })
    {
        try
        {
            var got = Caches.Get(alias);
            var created = Caches.Create(alias, new Dictionary<string, string?> { ["Namespace"] = "created" });
            results.Add($"{alias} {got.GetType().Name}/{created.GetType().Name} serializer {created.Serializer.GetType().Name} plugins {created.Plugins.Count}");
            (created as IDisposable)?.Dispose();
        }
        catch (Exception ex)
        {
            results.Add($"{alias} FAILED {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
        }
    }

    return Task.FromResult(string.Join(" | ", results));
});

await Section("url", () =>
{
    try
    {
        using var fromUrl = Cache.FromUrl($"redis://127.0.0.1:{port}/0?namespace=url");
        fromUrl.Set("k", "v");
        return Task.FromResult($"{fromUrl.GetType().Name} {fromUrl.Get<string>("k")}");
    }
    catch (Exception ex)
    {
        return Task.FromResult($"FAILED {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
    }
});

await Section("di-builder", async () =>
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
    builder.Configuration.AddJsonFile("appsettings.json", optional: false);
    var settings = builder.Configuration.GetSection("App").Get<AppCacheSettings>() ?? throw new InvalidOperationException("no App section");
    builder.Services.AddCached(cached => cached
        .AddCache("default", _ => new SimpleMemoryCache { Namespace = settings.Namespace, Ttl = TimeSpan.FromSeconds(settings.TtlSeconds), Plugins = [new HitMissRatioPlugin()] })
        .AddCache("redis", new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "di" })
        .AddCache("cfgjson", new SimpleMemoryCache { Serializer = new JsonSerializer() })
        .AddCache("cfgredis", _ => new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "dicfg" }));
    using var host = builder.Build();
    await host.StartAsync();
    var cache = host.Services.GetRequiredService<ICache>();
    var keyed = host.Services.GetRequiredKeyedService<ICache>("redis");
    var c = new Configured();
    var plain = c.Plain(2) + c.Plain(2);
    var onRedis = (await c.DiRedisAsync(2)).City + (await c.DiRedisAsync(2)).City;
    var ratio = cache.Plugins.OfType<HitMissRatioPlugin>().Single();
    await host.StopAsync();
    return $"{cache.GetType().Name} ns {settings.Namespace} ttl {settings.TtlSeconds} | {plain} {onRedis} bodies {c.Calls} | hits {ratio.Hits} misses {ratio.Misses} | keyed {keyed.GetType().Name}";
});

await Section("di-builder-cacheconfig", async () =>
{
    // CachedBuilder.AddCache(alias, CacheConfig): types named as text again, and no attribute warns of reflection.
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
    builder.Services.AddCached(cached => cached
        .AddCache("default", new SimpleMemoryCache())
        .AddCache("redis", new RedisCache { Endpoint = "127.0.0.1", Port = port, Namespace = "dicc" })
        .AddCache("cfgjson", new CacheConfig { Cache = "Cached.SimpleMemoryCache", Serializer = new ClassConfig("Cached.Serializers.JsonSerializer") })
        .AddCache("cfgredis", new SimpleMemoryCache()));
    using var host = builder.Build();
    await host.StartAsync();
    var json = host.Services.GetRequiredKeyedService<ICache>("cfgjson");
    json.Set("f", new Forecast("Evora", 26));
    await host.StopAsync();
    return $"{json.Serializer.GetType().Name} {json.Get<Forecast>("f")?.City}";
});

await Section("di-configuration", async () =>
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory, DisableDefaults = true });
    builder.Configuration.AddJsonFile("appsettings.json", optional: false);
    // The port of this run's redis-server, over the one appsettings.json names.
    builder.Configuration.AddInMemoryCollection([new("Cached:redis:Port", port.ToString(CultureInfo.InvariantCulture)), new("Cached:cfgredis:Port", port.ToString(CultureInfo.InvariantCulture))]);
    builder.Services.AddCached(builder.Configuration.GetSection("Cached"));
    using var host = builder.Build();
    await host.StartAsync();
    var cache = host.Services.GetRequiredService<ICache>();
    var json = host.Services.GetRequiredKeyedService<ICache>("cfgjson");
    json.Set("f", new Forecast("Faro", 25));
    await host.StopAsync();
    return $"{cache.GetType().Name} {cache.Serializer.GetType().Name} plugins {cache.Plugins.Count} | json {json.Serializer.GetType().Name} {json.Get<Forecast>("f")?.City}";
});

Console.WriteLine($"logs: {(logs.Messages.Count == 0 ? "(none)" : string.Join(" / ", logs.Messages.Distinct()))}");
lock (instruments)
{
    Console.WriteLine($"metrics: {string.Join(",", instruments)}");
}

static async Task Section(string name, Func<Task<string>> run)
{
    try
    {
        Console.WriteLine($"{name}: {await run()}");
    }
    catch (Exception ex)
    {
        Console.WriteLine($"{name}: FAILED {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
    }
}

static async Task<bool> Until(Func<Task<bool>> condition)
{
    var limit = DateTime.UtcNow.AddSeconds(10);
    while (DateTime.UtcNow < limit)
    {
        if (await condition())
        {
            return true;
        }

        await Task.Delay(10);
    }

    return false;
}

// Fail-safe: past its Ttl a failing factory is answered with the last value. Eager refresh: a hit after half the Ttl
// returns the value at hand and refreshes it in the background.
static async Task<string> FailSafeAndEagerRefresh(ICache cache)
{
    var safe = new CacheEntryOptions { Ttl = TimeSpan.FromMilliseconds(300), FailSafe = TimeSpan.FromMinutes(1) };
    var first = await cache.GetOrSetAsync("safe", _ => ValueTask.FromResult(new Forecast("first", 1)), safe);
    await Task.Delay(600);
    var stale = await cache.GetOrSetAsync<Forecast>("safe", _ => throw new InvalidOperationException("source down"), safe);
    var eager = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(2), EagerRefresh = 0.25 };
    var version = 0;
    cache.GetOrSet("eager", _ => new Forecast("v" + Interlocked.Increment(ref version), 0), eager);
    await Task.Delay(800);
    var atHand = cache.GetOrSet("eager", _ => new Forecast("v" + Interlocked.Increment(ref version), 0), eager).City;
    var refreshed = await Until(() => Task.FromResult(cache.Get<Forecast>("eager")?.City == "v2"));
    return $"fail-safe {first.City} then {stale.City} | eager {atHand} refreshed {refreshed}";
}

public sealed class AppCacheSettings
{
    public string Namespace { get; set; } = "";
    public int TtlSeconds { get; set; }
    public int MaxEntries { get; set; }
}
