using Cached.Runtime;
using Cached.Serializers;
using Cached.Tests.Serializers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Runtime;

/// <summary>An outsider's probes: what a generated method does with an entry its cache's serializer cannot read.</summary>
[NonParallelizable]
public sealed class CorruptEntryReviewTests
{
    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void SetUp()
    {
        _logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = _logs;
        Caches.Reset();
    }

    [TearDown]
    public void TearDown()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
    }

    private static CachedMethod<Point> MethodOn(ICache cache)
        => new(new CachedMethodOptions { Method = "Tests.Review.GetPoint", CacheFactory = () => cache });

    private static Point Body(Calls calls)
    {
        calls.Increment();
        return new Point(calls.Count, 0);
    }

    [Test]
    public void A_corrupt_json_entry_is_logged_recomputed_and_replaced()
    {
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer() };
        cache.Set("k", "{not json"u8.ToArray(), serializer: NullSerializer.Instance);
        var method = MethodOn(cache);
        var calls = new Calls();

        Assert.That(method.Invoke("k", calls, Body), Is.EqualTo(new Point(1, 0)));
        Assert.That(method.Invoke("k", calls, Body), Is.EqualTo(new Point(1, 0)), "the fresh value replaced the corrupt entry");
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_logs.Entries.Single().Level, Is.EqualTo(LogLevel.Warning));
    }

    [Test]
    public void An_entry_written_by_a_per_call_serializer_does_not_make_a_method_stop_caching_its_type()
    {
        // The default memory cache (NullSerializer) carries Point by reference; one entry holds bytes another serializer wrote.
        using var cache = new SimpleMemoryCache();
        cache.Set("odd", new Point(9, 9), serializer: new JsonSerializer());
        var method = MethodOn(cache);
        var calls = new Calls();

        method.Invoke("odd", calls, Body);
        method.Invoke("fine", calls, Body);
        method.Invoke("fine", calls, Body);

        Assert.That(calls.Count, Is.EqualTo(2), "'fine' is cached after its first call");
        Assert.That(cache.Exists("fine"), Is.True);
        Assert.That(_logs.Entries.Select(static e => e.Level), Has.None.EqualTo(LogLevel.Error), "the type is not refused");
    }

    [Test]
    public void Reading_bytes_another_serializer_wrote_on_a_reference_cache_is_not_reported_as_an_unsupported_type()
    {
        using var cache = new SimpleMemoryCache();
        cache.Set("odd", new Point(9, 9), serializer: new JsonSerializer());

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Point>("odd"));

        Assert.That(ex!.IsUnsupportedType, Is.False, "NullSerializer carries Point on this cache: this entry is the problem, not the type");
    }
}
