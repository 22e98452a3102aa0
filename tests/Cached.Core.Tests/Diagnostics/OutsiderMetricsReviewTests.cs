using System.Diagnostics;
using Cached.Plugins;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Diagnostics;

/// <summary>
/// An outsider's check of the read-through's counters under 16 concurrent callers of <c>GetOrSetAsync</c> on memory
/// and on two levels in memory: the resilience counters count calls, as docs/observability.md says ("{call}"), and
/// agree with the reads the meter and <see cref="HitMissRatioPlugin"/> counted.
/// </summary>
[NonParallelizable]
public sealed class OutsiderMetricsReviewTests
{
    private const string Alias = "outsider_metrics_core";
    private const int Callers = 16;
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(8);

    [TearDown]
    public void Reset() => Caches.Reset();

    /// <summary>
    /// A stale entry kept by fail-safe, 16 callers reading it at once, their factory held at a gate until all 16 have
    /// read (16 misses counted), then failing: every caller is answered with the last value, so stale_served counts 16
    /// calls; the factory ran once; the meter's misses match the plugin's.
    /// </summary>
    [Test]
    public async Task Stale_served_counts_every_call_answered_with_the_last_value([Values] bool twoLevels)
    {
        var time = new FakeTimeProvider();
        var ratio = new HitMissRatioPlugin();
        ICache cache = twoLevels
            ? new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time, Plugins = [ratio] }, new MemoryBackplane())
            : new SimpleMemoryCache { TimeProvider = time, Plugins = [ratio] };
        using var owned = cache;
        Caches.AddInstance(Alias, cache);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromHours(1) };
        Assert.That(await cache.GetOrSetAsync("k", _ => ValueTask.FromResult(1), options), Is.EqualTo(1));
        time.Advance(TimeSpan.FromSeconds(11));

        using var recorder = new CachedMeterRecorder(Alias);
        var (hitsBefore, missesBefore) = (ratio.Hits, ratio.Misses);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var factoryCalls = 0;
        async ValueTask<int> Failing(CancellationToken _)
        {
            Interlocked.Increment(ref factoryCalls);
            await gate.Task;
            throw new InvalidOperationException("the source is down");
        }

        // The reads of the level that holds the stale entry: L2 on two levels (L1 keeps no stale copy for a plain read).
        double StaleReads() => recorder.Of("cached.misses").Where(m => !twoLevels || Equals(m["cache.level"], "L2")).Sum(static m => m.Value);
        // Started from this thread: each call has read the stale entry and joined the one flight when it returns. Started
        // through Task.Run, a caller counted among the reads could join after the failed flight landed and lead its own.
        var calls = Enumerable.Range(0, Callers).Select(_ => cache.GetOrSetAsync("k", Failing, options).AsTask()).ToArray();
        var waited = Stopwatch.StartNew();
        while (StaleReads() < Callers)
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), $"all 16 callers read the stale entry ({StaleReads()} did)");
            await Task.Delay(1);
        }

        gate.SetResult();
        var answers = await Task.WhenAll(calls).WaitAsync(s_limit);

        Assert.Multiple(() =>
        {
            Assert.That(answers, Is.All.EqualTo(1), "every caller got the last value");
            Assert.That(factoryCalls, Is.EqualTo(1), "one flight");
            Assert.That(recorder.Sum("cached.resilience.stale_served"), Is.EqualTo(Callers), "one stale_served per call answered with the last value");
            Assert.That(recorder.Of("cached.resilience.stale_served").Select(static m => m["cache.method"]), Is.All.Not.Null);
            Assert.That(recorder.Sum("cached.errors"), Is.Zero);
            var level = recorder.Measurements.Where(m => !twoLevels || Equals(m["cache.level"], "L2")).ToArray();
            Assert.That(ratio.Misses - missesBefore, Is.EqualTo(level.Where(static m => m.Instrument == "cached.misses").Sum(static m => m.Value)), "HitMissRatioPlugin's misses match the meter's");
            Assert.That(ratio.Hits - hitsBefore, Is.EqualTo(level.Where(static m => m.Instrument == "cached.hits").Sum(static m => m.Value)), "HitMissRatioPlugin's hits match the meter's");
        });
    }
}
