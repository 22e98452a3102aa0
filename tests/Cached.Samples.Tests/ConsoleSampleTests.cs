using Cached.Samples.Tests.Infrastructure;

namespace Cached.Samples.Tests;

/// <summary>
/// Every console sample (pycached's examples folder, in C#) runs as a real process and prints exactly the lines
/// below: on the memory backend, then once more against a real redis-server, after which it must have left no keys
/// behind. Lines starting with '#' (durations, sizes) are not compared.
/// </summary>
public sealed class ConsoleSampleTests
{
    private const string OnMemory = "backend: SimpleMemoryCache";
    private const string OnRedis = "backend: RedisCache";

    private static readonly Sample[] s_samples =
    [
        new("SimpleRedis",
        [
            OnMemory,
            "set key: True",
            "set expire_me with ttl 10 s: True",
            "get key: value",
            "get expire_me: value",
            "raw contains main:expire_me: True",
            "deleted: 2",
        ],
        Redis: [(OnMemory, OnRedis), ("raw contains main:expire_me: True", "raw ttl main:expire_me > 0: True")]),

        new("CachedDecorator",
        [
            OnMemory,
            "cached_call: Result { Content = content, Status = 200 }",
            "cached_call: Result { Content = content, Status = 200 }",
            "cached_call: Result { Content = content, Status = 200 }",
            "cached_call body calls: 1",
            "exists key in main: True",
            "cached_call body calls after CacheScope.SkipRead: 2",
            "get_forecast(Lisbon): Forecast { City = Lisbon, Celsius = 21 }",
            "get_forecast(Porto): Forecast { City = Porto, Celsius = 18 }",
            "get_forecast(Lisbon): Forecast { City = Lisbon, Celsius = 21 }",
            "get_forecast body calls: 2",
            "exists forecast:Lisbon in main: True",
            "deleted: 3",
        ]),

        new("MulticachedDecorator",
        [
            OnMemory,
            "multi_cached_ids([a, b]) = {a: Z, b: Y}; the body was asked for [a, b]",
            "multi_cached_ids([a, c]) = {a: Z, c: X}; the body was asked for [c]",
            "multi_cached_keys([d]) = {d: W}; the body was asked for [d]",
            "multi_cached_ids([a, b, c, d]) = {a: Z, b: Y, c: X, d: W}; the body was not called",
            "exists a, b, c, d in main: True, True, True, True",
            "deleted: 4",
        ]),

        new("CachedAliasConfig",
        [
            "default: SimpleMemoryCache with StringSerializer",
            "default get key: value",
            "default is the same instance on every Get: True",
            "alt config: Cached.SimpleMemoryCache, namespace alt, timeout 1 s, serializer Cached.Serializers.JsonSerializer",
            "alt config plugins: Cached.Plugins.HitMissRatioPlugin, Cached.Plugins.TimingPlugin",
            "alt: SimpleMemoryCache with JsonSerializer, 2 plugins, timeout 1 s, namespace alt",
            "alt get key: value",
            "alt is a new instance on every Create: True",
            "alt deleted: 1",
            "alt with a namespace override: test",
            "aliases: alt, default",
        ],
        Redis:
        [
            ("alt config: Cached.SimpleMemoryCache, namespace alt, timeout 1 s, serializer Cached.Serializers.JsonSerializer",
             "alt config: Cached.Redis.RedisCache, namespace alt, timeout 1 s, serializer Cached.Serializers.JsonSerializer"),
            ("alt: SimpleMemoryCache with JsonSerializer, 2 plugins, timeout 1 s, namespace alt",
             "alt: RedisCache with JsonSerializer, 2 plugins, timeout 1 s, namespace alt"),
        ]),

        new("PythonObject",
        [
            "backend: SimpleMemoryCache with JsonSerializer",
            "get key: MyObject { X = 1, Y = 2 }",
            "equal: True, same instance: False",
            """stored as: {"X":1,"Y":2}""",
            "get order:42: #42 for Ada, 2 lines: OrderLine { Product = tea, Quantity = 2 }, OrderLine { Product = scone, Quantity = 1 }",
            """stored as: {"Id":42,"Customer":"Ada","PlacedAt":"2026-01-02T03:04:05+00:00","Lines":[{"Product":"tea","Quantity":2},{"Product":"scone","Quantity":1}]}""",
            "deleted: 2",
        ],
        Redis: [("backend: SimpleMemoryCache with JsonSerializer", "backend: RedisCache with JsonSerializer")]),

        new("SerializerClass",
        [
            "backend: SimpleMemoryCache with CompressionSerializer",
            "text: 502 bytes as UTF-8",
            "get key returns the same text: True",
            "the store holds fewer bytes than the text: True",
            "deleted: 1",
        ],
        Redis: [("backend: SimpleMemoryCache with CompressionSerializer", "backend: RedisCache with CompressionSerializer")]),

        new("SerializerFunction",
        [
            OnMemory,
            "get key with the functions: x = 1, y = 2",
            "get key as a dictionary: x = 1, y = 2",
            """stored as: {"x":1,"y":2}""",
            "deleted: 1",
        ]),

        new("MarshmallowSerializerClass",
        [
            OnMemory,
            """stored as: {"int_type":7,"str_type":"q","dict_type":{"a":1,"b":2},"list_type":[1,2,3]}""",
            "get key: RandomModel(int_type=7, str_type=q, dict_type={a: 1, b: 2}, list_type=[1, 2, 3])",
            "same fields: True",
            "get invalid: refused, invalid: int_type 42 is not between 1 and 10; str_type 'QQ' is not one lowercase letter; list_type must be a list of integers of 0 or more",
            "deleted: 2",
        ]),

        new("Plugins",
        [
            OnMemory,
            "pre_set: key a in namespace main, value 1",
            "post_set: key a, result True",
            "pre_set: key b in namespace main, value 2",
            "post_set: key b, result True",
            "pre_set: key c in namespace main, value 3",
            "post_set: key c, result True",
            "pre_set: key d in namespace main, value 4",
            "post_set: key d, result True",
            "hit_miss_ratio: hits 668, misses 332, total 1000, hit_ratio 0.668",
            "timing Set: count 4, min <= average <= max: True",
            "timing Get: count 1000, min <= average <= max: True",
            "deleted: 4",
        ]),

        new("RedLock",
        [
            OnMemory,
            "lock held while computing: True",
            "results: result, result, result",
            "expensive_function calls: 1",
            "views that found the value in the cache: 2",
            "lock released: True",
            "deleted: 1",
        ]),

        new("TwoLevel",
        [
            OnMemory,
            "node A sets greeting: hello",
            "node B gets greeting: hello",
            "node B now holds a copy in its L1: True",
            "node A sets greeting: bonjour",
            "node B gets greeting: bonjour",
            "node A deletes greeting",
            "node B gets greeting: (nothing)",
        ]),

        new("OptimisticLock",
        [
            OnMemory,
            "get key: initial_value",
            "views whose cas stored the result: 1",
            "views refused with OptimisticLockException: 2",
            "get key: result",
            "deleted: 1",
        ]),
    ];

    public static IEnumerable<TestCaseData> Samples => s_samples.Select(static sample => new TestCaseData(sample.Name).SetArgDisplayNames(sample.Name));

    [TestCaseSource(nameof(Samples))]
    [CancelAfter(120_000)]
    public async Task Prints_its_lines_on_the_memory_backend(string name)
    {
        var run = await SampleProcess.RunAsync(name);

        AssertSucceeded(run);
        Assert.That(run.CheckedLines, Is.EqualTo(SampleNamed(name).MemoryLines), run.ToString());
    }

    [TestCaseSource(nameof(Samples))]
    [CancelAfter(120_000)]
    public async Task Prints_its_lines_on_Redis_and_leaves_no_key_behind(string name)
    {
        SampleRedis.Flush();
        try
        {
            var run = await SampleProcess.RunAsync(name, ["--redis", SampleRedis.Url()]);

            AssertSucceeded(run);
            Assert.That(run.CheckedLines, Is.EqualTo(SampleNamed(name).RedisLines), run.ToString());
            Assert.That(SampleRedis.Keys(), Is.Empty, "keys the sample left in Redis");
        }
        finally
        {
            SampleRedis.Flush();
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task The_REDIS_URL_environment_variable_selects_Redis_too()
    {
        const int Database = 5;
        SampleRedis.Flush(Database);
        try
        {
            var run = await SampleProcess.RunAsync("SimpleRedis", environment: new Dictionary<string, string?> { ["REDIS_URL"] = SampleRedis.Url(Database) });

            AssertSucceeded(run);
            Assert.That(run.CheckedLines, Is.EqualTo(SampleNamed("SimpleRedis").RedisLines), run.ToString());
        }
        finally
        {
            SampleRedis.Flush(Database);
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task Lines_that_vary_are_marked_and_still_printed()
    {
        var run = await SampleProcess.RunAsync("Plugins");

        AssertSucceeded(run);
        Assert.That(run.Output.Where(static line => line.StartsWith('#')), Has.Exactly(2).Items.Match(@"^# timing (Set|Get): min \d+\.\d{3} ms, average \d+\.\d{3} ms, max \d+\.\d{3} ms$"));
    }

    private static Sample SampleNamed(string name) => s_samples.Single(sample => sample.Name == name);

    private static void AssertSucceeded(SampleRun run)
    {
        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Errors, Is.Empty, run.ToString());
    }

    /// <summary>A sample and its lines on memory; on Redis the same lines, with the given ones replaced (the backend line by default).</summary>
    private sealed record Sample(string Name, string[] MemoryLines, (string Memory, string Redis)[]? Redis = null)
    {
        public string[] RedisLines => MemoryLines
            .Select(line => (Redis ?? [(OnMemory, OnRedis)]).FirstOrDefault(pair => pair.Memory == line).Redis ?? line)
            .ToArray();
    }
}
