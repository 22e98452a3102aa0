using Cached.Runtime;
using Cached.Serializers;
using Cached.Tests.Backends;
using Cached.Tests.Commands;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests.Reliability;

/// <summary>
/// Payloads that do not read as the expected type: garbage, truncated JSON, another type. A direct read throws
/// CacheSerializationException naming the key and the type, never a wrong-typed value; a generated method treats
/// it as a miss, logs a warning, answers from its body and repairs the entry. On every backend.
/// </summary>
[TestFixtureSource(typeof(Backends.Backends), nameof(Backends.Backends.All))]
[NonParallelizable]
public sealed class CorruptPayloadTests(CacheBackend backend) : CommandFixture(backend)
{
    private const string Alias = "corrupt";

    public sealed record User(int Id, string Name);

    public sealed record Forecast(string City, double Temperature);

    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void CaptureLogs()
    {
        _logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = _logs;
        Caches.Reset();
    }

    [TearDown]
    public void ReleaseLogs()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
    }

    private static readonly object[] s_corruptions =
    [
        new object[] { "garbage bytes", (Action<ICache, string>)((cache, key) => cache.Set(key, new byte[] { 0xFF, 0x00, 0xFE, 0x7B }, serializer: NullSerializer.Instance)) },
        new object[] { "truncated JSON", (Action<ICache, string>)((cache, key) => cache.Set(key, """{"Id":1,"Na""", serializer: new StringSerializer())) },
        new object[] { "a number", (Action<ICache, string>)((cache, key) => cache.Set(key, 42)) },
        new object[] { "a string", (Action<ICache, string>)((cache, key) => cache.Set(key, "hello")) },
        new object[] { "another record", (Action<ICache, string>)((cache, key) => cache.Set(key, new Forecast("Paris", 21.5))) },
        new object[] { "an empty payload", (Action<ICache, string>)((cache, key) => cache.Set(key, string.Empty, serializer: new StringSerializer())) },
    ];

    private BaseCache JsonCache() => NewCache(new CacheOptions { Namespace = "corrupt", Serializer = new JsonSerializer() });

    [TestCaseSource(nameof(s_corruptions))]
    public void A_direct_read_throws_CacheSerializationException_naming_key_and_type(string corruption, Action<ICache, string> plant)
    {
        var cache = JsonCache();
        plant(cache, "user:1");

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<User>("user:1"))!;

        Assert.That(ex.Message, Does.Contain("user:1").And.Contain(nameof(User)), corruption);
    }

    [TestCaseSource(nameof(s_corruptions))]
    public async Task A_generated_method_reads_it_as_a_miss_logs_answers_from_its_body_and_repairs_it(string corruption, Action<ICache, string> plant)
    {
        var cache = JsonCache();
        Caches.AddInstance(Alias, cache);
        plant(cache, "user:1");
        var method = new CachedMethod<User>(new CachedMethodOptions { Method = "Users.Get", Alias = Alias });

        var sync = method.Invoke("user:1", 1, static id => new User(id, "fresh"));
        plant(cache, "user:1");
        var async = await method.InvokeAsync("user:1", 1, static (id, _) => ValueTask.FromResult(new User(id, "fresh async")), null, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(sync, Is.EqualTo(new User(1, "fresh")), corruption);
            Assert.That(async, Is.EqualTo(new User(1, "fresh async")));
            Assert.That(cache.Get<User>("user:1"), Is.EqualTo(new User(1, "fresh async")), "the entry is repaired");
            Assert.That(_logs.Entries.Where(static e => e.Level == LogLevel.Warning && e.Exception is CacheSerializationException).ToList(), Has.Count.EqualTo(2));
        });
    }
}
