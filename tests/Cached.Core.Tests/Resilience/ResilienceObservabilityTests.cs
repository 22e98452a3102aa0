using Cached.Tests.Diagnostics;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>What resilience tells an operator: counters on Cached's meter and log events 7 to 9.</summary>
public sealed class ResilienceObservabilityTests
{
    private const string Alias = "resilience_test";
    private static readonly CacheEntryOptions s_options = new()
    {
        Ttl = TimeSpan.FromSeconds(10),
        FailSafe = TimeSpan.FromSeconds(60),
        SoftTimeout = TimeSpan.FromSeconds(1),
        EagerRefresh = 0.8,
    };

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;
    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void CreateCache()
    {
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time, Alias = Alias };
        _logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = _logs;
    }

    [TearDown]
    public void DisposeCache()
    {
        _cache.Dispose();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }

    [Test]
    public void A_last_value_served_after_a_failure_is_counted_and_logged_with_the_exception()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        _cache.GetOrSet("k", _ => "v1", s_options);
        _time.Advance(TimeSpan.FromSeconds(11));

        _cache.GetOrSet<string>("k", _ => throw new InvalidOperationException("source down"), s_options);

        Assert.That(recorder.Sum("cached.resilience.stale_served"), Is.EqualTo(1));
        Assert.That(recorder.Of("cached.resilience.stale_served").Single()["cache.method"], Is.EqualTo("GetOrSet<System.String>"));
        var entry = _logs.Entries.Single(static e => e.EventId == 7);
        Assert.That((entry.Level, entry.Exception?.Message), Is.EqualTo((LogLevel.Warning, "source down")));
        Assert.That(entry.Message, Does.Contain("'k'").And.Contain("'" + Alias + "'"));
    }

    [Test]
    public async Task Soft_and_hard_timeouts_are_counted_apart()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var hard = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), HardTimeout = TimeSpan.FromSeconds(1) };
        await _cache.GetOrSetAsync("soft", _ => new ValueTask<string>("v1"), s_options);
        _time.Advance(TimeSpan.FromSeconds(11));
        var never = new TaskCompletionSource<string>();

        var soft = _cache.GetOrSetAsync("soft", _ => new ValueTask<string>(never.Task), s_options).AsTask();
        var timedOut = _cache.GetOrSetAsync("hard", _ => new ValueTask<string>(never.Task), hard).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(await soft, Is.EqualTo("v1"));
        Assert.That(async () => await timedOut, Throws.InstanceOf<TimeoutException>());
        Assert.That((recorder.Sum("cached.resilience.soft_timeouts"), recorder.Sum("cached.resilience.hard_timeouts")), Is.EqualTo((1d, 1d)));
        Assert.That(recorder.Sum("cached.resilience.stale_served"), Is.EqualTo(1), "the soft timeout's answer was a last value");
        Assert.That(_logs.Entries.Count(static e => e.EventId == 9), Is.EqualTo(2));
    }

    [Test]
    public async Task Eager_refreshes_and_their_failures_are_counted()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        await _cache.GetOrSetAsync("k", _ => new ValueTask<string>("v1"), s_options);
        _time.Advance(TimeSpan.FromSeconds(9));

        await _cache.GetOrSetAsync<string>("k", _ => throw new InvalidOperationException("source down"), s_options);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (recorder.Sum("cached.resilience.background_failures") == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.That((recorder.Sum("cached.resilience.eager_refreshes"), recorder.Sum("cached.resilience.background_failures")), Is.EqualTo((1d, 1d)));
    }
}
