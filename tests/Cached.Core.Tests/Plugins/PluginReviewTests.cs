using System.Diagnostics;
using Cached.Capabilities;
using Cached.Diagnostics;
using Cached.Distributed;
using Cached.Plugins;
using Cached.Tests.Commands;
using Cached.Tests.Diagnostics;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Plugins;

/// <summary>Counts the hooks it sees per command; optionally throws from a post hook or runs code in a pre hook.</summary>
public sealed class CountingPlugin : ICachePlugin
{
    private readonly object _gate = new();
    private readonly List<string> _log = [];

    public Exception? ThrowFromPost { get; init; }

    /// <summary>The command whose post hook throws <see cref="ThrowFromPost"/>; <c>null</c>: every command's.</summary>
    public CacheCommand? ThrowOn { get; init; }

    public Action<CacheCommandContext>? OnPre { get; init; }

    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_gate)
            {
                return _log.ToArray();
            }
        }
    }

    public void Pre(CacheCommandContext context)
    {
        lock (_gate)
        {
            _log.Add($"Pre {context.Command}");
        }

        OnPre?.Invoke(context);
    }

    public void Post(CacheCommandContext context)
    {
        lock (_gate)
        {
            _log.Add($"Post {context.Command}");
        }

        if (ThrowFromPost is { } exception && (ThrowOn is null || ThrowOn == context.Command))
        {
            throw exception;
        }
    }
}

/// <summary>An outsider's checks of plugins, metrics and traces: what the hooks, the meter and the activities report.</summary>
[NonParallelizable]
public class PluginReviewTests
{
    private const string Alias = "plugin_review";

    private static Func<ICache, CancellationToken, Task> Run(Func<ICache, CancellationToken, Task> run) => run;

    private static TestCaseData Case(string name, CacheCommand command, Func<ICache, CancellationToken, Task> run)
        => new TestCaseData(command, run).SetArgDisplayNames(name);

    /// <summary>Every async command; on <see cref="GatedCache"/> each one waits at the gate.</summary>
    private static IEnumerable<TestCaseData> AsyncCommands()
    {
        yield return Case("AddAsync", CacheCommand.Add, async (c, ct) => await c.AddAsync("new", "v", cancellationToken: ct));
        yield return Case("GetAsync", CacheCommand.Get, async (c, ct) => await c.GetAsync<string>("k", cancellationToken: ct));
        yield return Case("TryGetAsync", CacheCommand.Get, async (c, ct) => await c.TryGetAsync<string>("k", cancellationToken: ct));
        yield return Case("MultiGetAsync", CacheCommand.MultiGet, async (c, ct) => await c.MultiGetAsync<string>(["a", "b"], cancellationToken: ct));
        yield return Case("SetAsync", CacheCommand.Set, async (c, ct) => await c.SetAsync("k", "w", cancellationToken: ct));
        yield return Case("MultiSetAsync", CacheCommand.MultiSet, async (c, ct) => await c.MultiSetAsync(new Dictionary<string, string> { ["m1"] = "a" }, cancellationToken: ct));
        yield return Case("ExistsAsync", CacheCommand.Exists, async (c, ct) => await c.ExistsAsync("k", cancellationToken: ct));
        yield return Case("IncrementAsync", CacheCommand.Increment, async (c, ct) => await c.IncrementAsync("n", 2, cancellationToken: ct));
        yield return Case("DeleteAsync", CacheCommand.Delete, async (c, ct) => await c.DeleteAsync("k", cancellationToken: ct));
        yield return Case("ClearAsync", CacheCommand.Clear, async (c, ct) => await c.ClearAsync(cancellationToken: ct));
        yield return Case("ExpireAsync", CacheCommand.Expire, async (c, ct) => await c.ExpireAsync("k", TimeSpan.FromSeconds(10), cancellationToken: ct));
        yield return Case("RawAsync", CacheCommand.Raw, async (c, ct) => await c.RawAsync("get", ["k"], ct));
    }

    // ---- hooks on timeouts, cancellations and faults of commands that went async ----

    [TestCaseSource(nameof(AsyncCommands))]
    public void A_command_past_its_timeout_runs_its_pre_hook_once_and_no_post_hook(CacheCommand command, Func<ICache, CancellationToken, Task> run)
    {
        var plugin = new CountingPlugin();
        var cache = new GatedCache { Plugins = [plugin], Timeout = TimeSpan.FromMilliseconds(20) };

        Assert.ThrowsAsync<TimeoutException>(async () => await run(cache, CancellationToken.None));

        Assert.That(plugin.Log, Is.EqualTo(new[] { $"Pre {command}" }));
    }

    [TestCaseSource(nameof(AsyncCommands))]
    public void A_command_its_caller_cancels_runs_its_pre_hook_once_and_no_post_hook(CacheCommand command, Func<ICache, CancellationToken, Task> run)
    {
        var plugin = new CountingPlugin();
        var cache = new GatedCache { Plugins = [plugin], Timeout = null };
        using var cancel = new CancellationTokenSource();

        var pending = run(cache, cancel.Token);
        cancel.Cancel();

        Assert.That(async () => await pending, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(plugin.Log, Is.EqualTo(new[] { $"Pre {command}" }));
    }

    [TestCaseSource(nameof(AsyncCommands))]
    public void A_command_whose_backend_fails_late_runs_its_pre_hook_once_and_no_post_hook(CacheCommand command, Func<ICache, CancellationToken, Task> run)
    {
        var plugin = new CountingPlugin();
        var cache = new GatedCache { Plugins = [plugin], Timeout = null };

        var pending = run(cache, CancellationToken.None);
        cache.Fail(new CacheBackendException("server gone", new IOException("reset")));

        Assert.That(async () => await pending, Throws.InstanceOf<CacheBackendException>());
        Assert.That(plugin.Log, Is.EqualTo(new[] { $"Pre {command}" }));
    }

    [TestCaseSource(nameof(AsyncCommands))]
    public async Task A_command_that_went_async_and_succeeded_runs_pre_then_post_once(CacheCommand command, Func<ICache, CancellationToken, Task> run)
    {
        var plugin = new CountingPlugin();
        var cache = new GatedCache { Plugins = [plugin], Timeout = TimeSpan.FromSeconds(30) };

        var pending = run(cache, CancellationToken.None);
        cache.Open();
        // Add on GatedCache answers true: no KeyExistsException.
        await pending;

        Assert.That(plugin.Log, Is.EqualTo(new[] { $"Pre {command}", $"Post {command}" }));
    }

    // ---- a plugin's own exception ----

    [Test]
    public void A_post_hook_s_exception_passes_as_it_is_on_every_backend()
    {
        // "What a plugin's hook throws is the plugin's, and passes as it is" (BaseCache.Pipeline.cs). It does on
        // SimpleMemoryCache; on DistributedCacheBackend the backend's error mapping takes it for a store failure.
        var refusal = new InvalidOperationException("refused by plugin");
        var plugin = new CountingPlugin { ThrowFromPost = refusal };
        using var store = new DistributedCacheBackend(new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())))
        {
            Plugins = [plugin],
        };

        var thrown = Assert.Catch(() => store.Set("k", "v"));

        Assert.That(thrown, Is.SameAs(refusal), $"got {thrown!.GetType().Name}: {thrown.Message}");
    }

    [Test]
    public void A_post_hook_s_exception_is_not_counted_as_a_fault_of_the_command_that_succeeded()
    {
        // The write happened (the store holds it): cached.sets counts it, and cached.errors, which counts "backend
        // errors, timeouts, payloads that cannot be read" (observability.md), has nothing to count.
        using var recorder = new CachedMeterRecorder(Alias);
        var plugin = new CountingPlugin { ThrowFromPost = new InvalidOperationException("refused by plugin"), ThrowOn = CacheCommand.Set };
        var cache = new SimpleMemoryCache { Alias = Alias, Plugins = [plugin] };

        Assert.Throws<InvalidOperationException>(() => cache.Set("k", "v"));

        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("k"), Is.True, "the write went through");
            Assert.That(recorder.Of("cached.errors").Select(static m => m["error.type"]), Is.Empty);
            Assert.That(recorder.Sum("cached.sets"), Is.EqualTo(1));
        });
    }

    // ---- HitMissRatioPlugin under concurrency ----

    [Test]
    public void HitMissRatio_misses_never_read_negative_while_hits_are_counted()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache();
        var hit = new CacheCommandContext(cache, CacheCommand.Get, "k", null, null, null, null) { Hits = 1 };
        using var stop = new CancellationTokenSource();
        var counters = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                plugin.Post(hit);
            }
        })).ToList();
        counters.ForEach(static t => t.Start());

        // Every read is a hit: there is no miss to count, ever.
        var lowest = 0L;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(5) && lowest >= 0)
        {
            lowest = Math.Min(lowest, plugin.Misses);
        }

        stop.Cancel();
        counters.ForEach(static t => t.Join());
        Assert.That(lowest, Is.Zero, "Misses read below zero while only hits were counted");
    }

    // ---- traces ----

    [Test]
    public async Task A_read_that_completes_later_leaves_the_caller_s_current_activity_as_it_was()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is CachedDiagnostics.ActivitySourceName or "review.app",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var app = new ActivitySource("review.app");
        var cache = new GatedCache { Alias = Alias, Timeout = null };
        using var request = app.StartActivity("request");

        var pending = cache.TryGetAsync<string>("k");
        var currentWhilePending = Activity.Current;
        cache.Open();
        await pending;

        Assert.Multiple(() =>
        {
            Assert.That(currentWhilePending?.DisplayName, Is.EqualTo("request"), "the caller's current activity while the read is on its way");
            Assert.That(Activity.Current?.DisplayName, Is.EqualTo("request"), "the caller's current activity after the read");
        });
    }

    // ---- Timeout and the hooks ----

    [Test]
    public void An_async_command_s_timeout_starts_once_its_pre_hooks_have_run()
    {
        // plugins.md: hooks are synchronous; the Timeout starts once the pre hooks have run and bounds the operation.
        var clock = new FakeTimeProvider();
        var slowHook = new CountingPlugin { OnPre = _ => clock.Advance(TimeSpan.FromSeconds(2)) };
        var cache = new GatedCache { Plugins = [slowHook], Timeout = TimeSpan.FromSeconds(1), TimeProvider = clock };

        var pending = cache.SetAsync("k", "v").AsTask();
        clock.Advance(TimeSpan.FromMilliseconds(500));
        Assert.That(pending.IsCompleted, Is.False, "half the timeout after the hook, the operation still has time");

        clock.Advance(TimeSpan.FromMilliseconds(600));
        Assert.That(pending.IsCompleted, Is.True, "the whole timeout after the hook");
        Assert.That(pending.Exception?.InnerException, Is.InstanceOf<TimeoutException>());
        cache.Open();
    }

    // ---- TimingPlugin over commands that complete asynchronously ----

    [Test]
    public async Task TimingPlugin_measures_an_async_command_until_it_completes_not_until_it_returns()
    {
        var clock = new FakeTimeProvider();
        var timing = new TimingPlugin();
        var cache = new GatedCache { Plugins = [timing], Timeout = null, TimeProvider = clock };

        var first = cache.GetAsync<string>("k");
        clock.Advance(TimeSpan.FromMilliseconds(300));
        cache.Open();
        await first;
        await cache.GetAsync<string>("k"); // the gate is open: completes at once, on the same clock

        var gets = timing[CacheCommand.Get];
        Assert.Multiple(() =>
        {
            Assert.That(gets.Count, Is.EqualTo(2));
            Assert.That(gets.Max, Is.EqualTo(TimeSpan.FromMilliseconds(300)));
            Assert.That(gets.Min, Is.EqualTo(TimeSpan.Zero));
            Assert.That(gets.Average, Is.EqualTo(TimeSpan.FromMilliseconds(150)));
        });
    }

    // ---- a pre hook's exception from the async reads ----

    [Test]
    public void A_pre_hook_s_exception_comes_back_in_the_task_of_TryGetAsync_as_from_GetAsync()
    {
        // BaseCache.AsyncCommands.cs: errors "surface from the returned task, as an async method's do"; GetAsync
        // (an async method) does so for a pre hook's exception, TryGetAsync throws it from the call.
        var plugin = new CountingPlugin { OnPre = static _ => throw new InvalidOperationException("refused by plugin") };
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        ValueTask<string?> get = default;
        ValueTask<CacheResult<string>> tryGet = default;
        Assert.DoesNotThrow(() => get = cache.GetAsync<string>("k"), "GetAsync");
        Assert.DoesNotThrow(() => tryGet = cache.TryGetAsync<string>("k"), "TryGetAsync");
        Assert.That(async () => await get, Throws.InvalidOperationException);
        Assert.That(async () => await tryGet, Throws.InvalidOperationException);
    }

    // ---- cached.sets and fills ----

    [Test]
    public void A_batch_fill_counts_the_entries_it_stored_not_the_ones_refused()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var cache = new SimpleMemoryCache { Alias = Alias };
        IFencedFillCache fills = cache;
        var tickets = fills.OpenFills(["a", "b", "c"], null);
        cache.Delete("b"); // an invalidation after the fill opened: b's fill must not store

        var stored = fills.TryFillMany<int>([new(tickets[0], 1), new(tickets[1], 2), new(tickets[2], 3)], null, null);

        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.EqualTo(2));
            Assert.That(cache.Exists("b"), Is.False);
            Assert.That(recorder.Sum("cached.sets"), Is.EqualTo(2), "cached.sets counts entries written");
        });
    }
}
