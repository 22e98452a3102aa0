using Cached.Pipeline;
using Cached.Runtime;
using Cached.Tests.Commands;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>
/// <see cref="BaseCache.CircuitBreakerDuration"/> on a backend whose async operations wait for a gate (a server that
/// hangs) and whose sync reads fail as told: which faults open the breaker, what it refuses, and the one probe that
/// closes it. The test clock drives both the timeout and the breaker.
/// </summary>
public sealed class CircuitBreakerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();

    private GatedCache Hung() => new() { TimeProvider = _time, Timeout = s_timeout, CircuitBreakerDuration = s_open, Alias = "hung" };

    /// <summary>A read that times out, which opens the breaker.</summary>
    private void TimeOut(GatedCache cache)
    {
        var pending = cache.GetAsync<string>("k").AsTask();
        _time.Advance(s_timeout);
        Assert.ThrowsAsync<TimeoutException>(async () => await pending);
    }

    private static CacheBackendException Refused(Task command)
    {
        Assert.That(command.IsCompleted, Is.True, "a refused command fails at once");
        var refusal = Assert.ThrowsAsync<CacheBackendException>(async () => await command)!;
        Assert.That((refusal.CircuitOpen, refusal.Unreachable), Is.EqualTo((true, true)));
        return refusal;
    }

    [Test]
    public void After_a_timeout_every_command_fails_at_once_without_reaching_the_backend()
    {
        using var cache = Hung();
        TimeOut(cache);

        foreach (var command in TimeoutTests.EveryAsyncCommand(cache))
        {
            var refusal = Refused(command());
            Assert.That(refusal.InnerException, Is.InstanceOf<TimeoutException>(), "the fault that opened it");
            Assert.That(refusal.Message, Does.Contain("GatedCache 'hung'").And.Contain("circuit breaker is open for 10000 ms more"));
        }

        // The sync commands of this backend answer at once: only the breaker makes them fail.
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True);
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Set("k", "v"))!.CircuitOpen, Is.True);
        Assert.That(cache.FramedReads, Is.EqualTo(1), "only the read that timed out reached the backend");
    }

    [Test]
    public async Task Once_the_duration_has_passed_one_command_tries_the_backend_while_the_others_are_refused_and_its_answer_closes_it()
    {
        using var cache = Hung();
        TimeOut(cache);
        _time.Advance(s_open - TimeSpan.FromMilliseconds(1));
        // Refusals do not keep it open longer.
        Refused(cache.GetAsync<string>("k").AsTask());
        _time.Advance(TimeSpan.FromMilliseconds(1));

        var probe = cache.GetAsync<string>("k").AsTask();
        Assert.That(probe.IsCompleted, Is.False, "the probe reaches the backend and waits for it");
        Assert.That(Refused(cache.GetAsync<string>("other").AsTask()).Message, Does.Contain("'other'"));
        Assert.That(Assert.Throws<CacheBackendException>(() => cache.Get<string>("k"))!.CircuitOpen, Is.True, "a sync command is refused too");
        cache.Open();

        Assert.That(await probe, Is.Null);
        Assert.That(await cache.GetAsync<string>("k"), Is.Null, "closed: commands reach the backend again");
        Assert.That(cache.Get<string>("k"), Is.Null);
        Assert.That(cache.FramedReads, Is.EqualTo(3));
    }

    [Test]
    public void A_probe_that_times_out_opens_it_for_another_whole_duration()
    {
        using var cache = Hung();
        TimeOut(cache);
        _time.Advance(s_open);

        TimeOut(cache);
        _time.Advance(s_open - TimeSpan.FromMilliseconds(1));
        Refused(cache.GetAsync<string>("k").AsTask());
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.That(cache.GetAsync<string>("k").AsTask().IsCompleted, Is.False, "the next probe");
        Assert.That(cache.FramedReads, Is.EqualTo(3));
    }

    [Test]
    public void A_probe_that_never_ends_lets_another_through_after_the_duration()
    {
        // No timeout: a probe waits as long as the backend does. A sync client's own timeout opens the breaker.
        using var cache = new GatedCache { TimeProvider = _time, Timeout = null, CircuitBreakerDuration = s_open, SyncReadFault = new TimeoutException("client timeout") };
        Assert.Throws<TimeoutException>(() => cache.Get<string>("k"));
        Refused(cache.GetAsync<string>("k").AsTask());
        _time.Advance(s_open);

        var stuck = cache.GetAsync<string>("k").AsTask();
        _time.Advance(s_open - TimeSpan.FromMilliseconds(1));
        Refused(cache.GetAsync<string>("k").AsTask());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var next = cache.GetAsync<string>("k").AsTask();

        Assert.That((stuck.IsCompleted, next.IsCompleted), Is.EqualTo((false, false)));
        Assert.That(cache.FramedReads, Is.EqualTo(2));
    }

    [Test]
    public async Task A_late_success_of_a_command_sent_before_it_opened_does_not_close_it()
    {
        // The read in flight answers after a sync read's client timeout opened the breaker: it proves nothing of the
        // commands sent after it (a server that hangs on one key, or one slow huge value, answers the others).
        using var cache = new GatedCache { TimeProvider = _time, Timeout = null, CircuitBreakerDuration = s_open, SyncReadFault = new TimeoutException("client timeout") };
        var inFlight = cache.GetAsync<string>("k").AsTask();
        Assert.Throws<TimeoutException>(() => cache.Get<string>("k"));
        cache.Open();

        Assert.That(await inFlight, Is.Null);
        Refused(cache.GetAsync<string>("k").AsTask());
    }

    [Test]
    public void A_late_timeout_of_a_command_sent_before_it_opened_does_not_keep_it_open_longer()
    {
        using var cache = Hung();
        var first = cache.GetAsync<string>("a").AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var second = cache.GetAsync<string>("b").AsTask();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.That(async () => await first, Throws.InstanceOf<TimeoutException>(), "opens it until 10.2 s");
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.That(async () => await second, Throws.InstanceOf<TimeoutException>());

        _time.Advance(s_open - TimeSpan.FromMilliseconds(100));
        Assert.That(cache.GetAsync<string>("k").AsTask().IsCompleted, Is.False, "the probe, 10 s after the first timeout");
    }

    [Test]
    public async Task With_a_duration_shorter_than_the_timeout_a_late_timeout_does_not_take_the_probe_s_place()
    {
        // A read sent before the breaker opened times out while the probe is out: it is not the probe's outcome, and the
        // probe's answer still closes the breaker.
        using var cache = new GatedCache { TimeProvider = _time, Timeout = TimeSpan.FromSeconds(10), CircuitBreakerDuration = TimeSpan.FromSeconds(1) };
        var first = cache.GetAsync<string>("a").AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        var second = cache.GetAsync<string>("b").AsTask();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(async () => await first, Throws.InstanceOf<TimeoutException>(), "opens it until 11 s");
        _time.Advance(TimeSpan.FromSeconds(1));
        var probe = cache.GetAsync<string>("k").AsTask();
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.That(async () => await second, Throws.InstanceOf<TimeoutException>(), "the late timeout, at 15 s");

        cache.Open();

        Assert.That(await probe, Is.Null);
        Assert.That(await cache.GetAsync<string>("k"), Is.Null, "closed by the probe's answer");
    }

    [Test]
    public async Task After_the_probe_failed_what_its_read_goes_on_to_is_refused_too()
    {
        // A cached method's miss runs in its read's flow, after the read: its fill and its write are not the probe once
        // the probe's read timed out, and must not reach the hung backend.
        using var cache = Hung();
        TimeOut(cache);
        _time.Advance(s_open);
        var probe = cache.ReadThenAsync<string, ThenReads, Task<string?>>("k", null, null, new ThenReads(cache), CancellationToken.None).AsTask();
        _time.Advance(s_timeout);

        var next = await probe;

        Refused(next);
        Assert.That(cache.FramedReads, Is.EqualTo(2), "the read that opened it and the probe");
    }

    /// <summary>A read's end that sends another command after a miss or a fault, as a cached method's miss does.</summary>
    private readonly struct ThenReads(BaseCache cache) : IEntryReadEnd<string, Task<string?>>
    {
        public Task<string?> Found(string? value) => Task.FromResult(value);

        public ValueTask<Task<string?>> Otherwise(Exception? fault) => new(cache.GetAsync<string>("next").AsTask());

        public bool Takes(Exception fault) => true;

        public CommandOutcome Outcome(CacheResult<string> result) => BaseCache.ReadOutcome(result);
    }

    [Test]
    public void A_probe_the_backend_answers_with_a_refusal_closes_it()
    {
        using var cache = Hung();
        TimeOut(cache);
        _time.Advance(s_open);
        var probe = cache.GetAsync<string>("k").AsTask();

        cache.Fail(new CacheBackendException("OOM command not allowed", null));

        Assert.That(async () => await probe, Throws.InstanceOf<CacheBackendException>().With.Property(nameof(CacheBackendException.CircuitOpen)).False);
        var next = Assert.ThrowsAsync<CacheBackendException>(async () => await cache.GetAsync<string>("k"))!;
        Assert.That((next.CircuitOpen, next.Message), Is.EqualTo((false, "OOM command not allowed")), "closed: the backend answered it");
    }

    [Test]
    public void The_release_of_a_lock_whose_take_timed_out_is_still_sent_behind_it()
    {
        // The take's timeout opens the breaker; the release must follow the take on its connection anyway, or a take the
        // server runs late leaves a lock nobody holds for the whole lease.
        using var cache = Hung();
        var take = LockAttempts.TryAsync(cache, "k", null, "token", TimeSpan.FromSeconds(30), CancellationToken.None).AsTask();
        _time.Advance(s_timeout);

        Assert.That(async () => await take, Throws.InstanceOf<TimeoutException>());
        Assert.That(cache.MostWaiting, Is.EqualTo(2), "the take and its release, both at the backend");
        Refused(cache.GetAsync<string>("k").AsTask());
    }

    [Test]
    public void Tag_records_read_beside_a_command_are_refused_too()
    {
        // GetOrSet with tags reads the tags' records before it calls the factory, outside the read's command: without a
        // refusal that read waits for the hung backend (there is no timer on it but the client's own).
        using var cache = Hung();
        TimeOut(cache);

        var value = cache.GetOrSetAsync("k", _ => ValueTask.FromResult("fresh"), new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] }).AsTask();

        Assert.That(value.IsCompleted, Is.True, "neither the read, the tags nor the write wait for the backend");
        Assert.That(value.Result, Is.EqualTo("fresh"));
    }

    [Test]
    public void A_backend_that_answered_and_refused_does_not_open_it_and_an_unreachable_one_does()
    {
        var refused = new CacheBackendException("OOM command not allowed", null);
        using var answering = new GatedCache { TimeProvider = _time, CircuitBreakerDuration = s_open, SyncReadFault = refused };
        Assert.That(Assert.Throws<CacheBackendException>(() => answering.Get<string>("k")), Is.SameAs(refused));
        Assert.That(Assert.Throws<CacheBackendException>(() => answering.Get<string>("k")), Is.SameAs(refused), "not refused by the breaker");

        var down = new CacheBackendException("connection refused", null, unreachable: true);
        using var unreachable = new GatedCache { TimeProvider = _time, CircuitBreakerDuration = s_open, SyncReadFault = down };
        Assert.That(Assert.Throws<CacheBackendException>(() => unreachable.Get<string>("k")), Is.SameAs(down));
        var refusal = Assert.Throws<CacheBackendException>(() => unreachable.Get<string>("k"))!;
        Assert.That((refusal.CircuitOpen, refusal.InnerException), Is.EqualTo((true, (Exception)down)));
    }

    [Test]
    public void A_cancellation_the_caller_did_not_ask_for_opens_it_and_the_caller_s_own_does_not()
    {
        // StackExchange.Redis cancels commands when their connection is reset: the backend is gone.
        using var reset = new GatedCache { TimeProvider = _time, CircuitBreakerDuration = s_open, SyncReadFault = new TaskCanceledException() };
        Assert.That(Assert.Throws<CacheBackendException>(() => reset.Get<string>("k"))!.CircuitOpen, Is.False);
        Assert.That(Assert.Throws<CacheBackendException>(() => reset.Get<string>("k"))!.CircuitOpen, Is.True);

        using var cache = Hung();
        using var cancel = new CancellationTokenSource();
        var asked = cache.GetAsync<string>("k", cancellationToken: cancel.Token).AsTask();
        cancel.Cancel();
        Assert.That(async () => await asked, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(cache.GetAsync<string>("k").AsTask().IsCompleted, Is.False, "still closed: the read reaches the backend");
    }

    [Test]
    public void Without_a_duration_there_is_no_breaker()
    {
        using var cache = new GatedCache { TimeProvider = _time, Timeout = s_timeout };
        TimeOut(cache);

        Assert.That(cache.GetAsync<string>("k").AsTask().IsCompleted, Is.False);
        Assert.That(cache.CircuitBreakerDuration, Is.Null);
        Assert.That(new GatedCache { CircuitBreakerDuration = TimeSpan.Zero }.CircuitBreakerDuration, Is.Null, "zero: none");
    }

    [TestCase(-1)]
    [TestCase(-2)]
    public void A_negative_or_infinite_duration_is_refused_naming_the_property(int milliseconds)
    {
        // -1 ms is Timeout.InfiniteTimeSpan: a breaker that never lets a probe through would never close.
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GatedCache { CircuitBreakerDuration = TimeSpan.FromMilliseconds(milliseconds) });
        Assert.That(error!.ParamName, Is.EqualTo(nameof(BaseCache.CircuitBreakerDuration)));
    }

    [Test]
    public async Task Opening_and_closing_are_logged_once_each()
    {
        var logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = logs;
        try
        {
            using var cache = Hung();
            TimeOut(cache);
            Refused(cache.GetAsync<string>("k").AsTask());
            _time.Advance(s_open);
            var probe = cache.GetAsync<string>("k").AsTask();
            cache.Open();
            await probe;
            await cache.GetAsync<string>("k");

            var breaker = logs.Entries.Where(static e => e.EventId is 14 or 15).ToArray();
            Assert.That(breaker.Select(static e => (e.EventId, e.Level)), Is.EqualTo(new[] { (14, LogLevel.Warning), (15, LogLevel.Information) }));
            Assert.That(breaker[0].Exception, Is.InstanceOf<TimeoutException>());
            Assert.That(breaker[0].Message, Does.Contain("GatedCache 'hung'").And.Contain("00:00:10"));
        }
        finally
        {
            CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        }
    }

    [Test]
    public void A_cached_read_through_runs_its_factory_while_the_breaker_refuses_the_cache()
    {
        using var cache = Hung();
        TimeOut(cache);
        var calls = 0;

        var value = cache.GetOrSetAsync<string>("k", _ => { calls++; return ValueTask.FromResult("fresh"); }).AsTask();

        Assert.That(value.IsCompleted, Is.True, "neither the read nor the write waits for the backend");
        Assert.That((value.Result, calls), Is.EqualTo(("fresh", 1)));
        Assert.That(cache.FramedReads, Is.EqualTo(1));
    }

    [Test]
    public void The_duration_binds_from_configuration_in_seconds()
    {
        Caches.SetConfig(Configuration.ConfigurationBindingTests.Section("""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "CircuitBreakerDuration": 2.5 } } }
            """));
        try
        {
            Assert.That(((BaseCache)Caches.Get()).CircuitBreakerDuration, Is.EqualTo(TimeSpan.FromSeconds(2.5)));
        }
        finally
        {
            Caches.Reset();
        }
    }

    [Test]
    public void On_two_levels_a_cached_method_does_not_log_each_refusal_of_L2_s_breaker()
    {
        // A two-level cache's faults are logged per call (its L1 keeps answering, so there is no outage to count them
        // in): the refusals of L2's breaker, announced once when it opened (event 14), would be a warning per call.
        using var l2 = Hung();
        using var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        TimeOut(l2);
        var refusal = Assert.ThrowsAsync<CacheBackendException>(async () => await l2.GetAsync<string>("k"))!;

        Assert.That(CacheFaults.Note(node, refusal, "two"), Is.False, "not logged");
        Assert.That(CacheFaults.Note(node, new TimeoutException(), "two"), Is.True, "L2's timeout is, as before");
        Assert.That(CacheFaults.IsDown(node), Is.False, "and no outage of the two-level cache begins: L1 answers");
    }
}
