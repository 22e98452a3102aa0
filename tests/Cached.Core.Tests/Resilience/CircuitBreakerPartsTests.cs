using Cached.Tests.Commands;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Resilience;

/// <summary>
/// <see cref="BaseCache.CircuitBreakerDuration"/> on a backend of two parts that fail apart (<see cref="BaseCache.FaultDomainOf"/>,
/// as a cluster's nodes): keys <c>a…</c> on a part that hangs, keys <c>b…</c> on one that answers. The probe is taken
/// on the part whose command opened the breaker, so the part that answers does not close it while the other hangs; a
/// command on the other part probes only after one more duration with none on the failed one.
/// </summary>
public sealed class CircuitBreakerPartsTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_open = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new();
    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void Log() => CachedLogging.LoggerFactory = _logs = new RecordingLoggerFactory();

    [TearDown]
    public void Unlog() => CachedLogging.LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;

    /// <summary>Keys <c>a…</c> on part A, which hangs, unless <paramref name="partOf"/> says otherwise; keys <c>b…</c> answer at once.</summary>
    private GatedCache TwoParts(Func<string, object?>? partOf = null) => new()
    {
        TimeProvider = _time,
        Timeout = s_timeout,
        CircuitBreakerDuration = s_open,
        Alias = "parts",
        PartOf = partOf ?? (static key => key.StartsWith('a') ? "part A" : "part B"),
        AnswersAtOnce = static key => key.StartsWith('b'),
    };

    /// <summary>A read of <paramref name="key"/> on the hung part, which times out.</summary>
    private void TimeOut(GatedCache cache, string key)
    {
        var pending = cache.GetAsync<string>(key).AsTask();
        Assert.That(pending.IsCompleted, Is.False, "it reached the hung part");
        _time.Advance(s_timeout);
        Assert.ThrowsAsync<TimeoutException>(async () => await pending);
    }

    private static void Refused(ValueTask<string?> command, string because)
    {
        Assert.That(command.IsCompleted, Is.True, $"{because}: refused at once");
        Assert.That(Assert.ThrowsAsync<CacheBackendException>(async () => await command)!.CircuitOpen, Is.True, because);
    }

    private int Logged(int eventId) => _logs.Entries.Count(e => e.EventId == eventId && e.Message.Contains("'parts'", StringComparison.Ordinal));

    [Test]
    public void While_the_failed_part_hangs_a_command_on_the_part_that_answers_never_closes_it_and_each_duration_costs_one_timeout()
    {
        using var cache = TwoParts();
        TimeOut(cache, "a1");

        for (var round = 0; round < 3; round++)
        {
            _time.Advance(s_open);
            Refused(cache.GetAsync<string>("b1"), "a command on the part that answers is not the probe");
            TimeOut(cache, "a2");
            Refused(cache.GetAsync<string>("b2"), "the failed probe opened it again");
        }

        Assert.Multiple(() =>
        {
            Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 0)), "one outage: one event 14, no event 15 while part A hangs");
            Assert.That(cache.FramedReads, Is.EqualTo(4), "the first timeout and one probe a duration reached the backend; no read of part B did");
        });
    }

    [Test]
    public async Task Once_the_failed_part_answers_its_probe_closes_it_for_every_part()
    {
        using var cache = TwoParts();
        TimeOut(cache, "a1");
        _time.Advance(s_open);
        Refused(cache.GetAsync<string>("b1"), "before the probe on part A");

        var probe = cache.GetAsync<string>("a2").AsTask();
        cache.Open();

        Assert.That(await probe, Is.Null);
        Assert.That(await cache.GetAsync<string>("b1"), Is.Null, "closed: part B answers again");
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    [Test]
    public async Task With_no_command_on_the_failed_part_one_on_another_probes_after_one_more_duration()
    {
        using var cache = TwoParts();
        TimeOut(cache, "a1");
        _time.Advance(s_open);
        Refused(cache.GetAsync<string>("b1"), "the breaker waits for a command on part A");
        _time.Advance(s_open - TimeSpan.FromMilliseconds(1));
        var refusal = Assert.ThrowsAsync<CacheBackendException>(async () => await cache.GetAsync<string>("b1"))!;
        Assert.That(refusal.Message, Does.Contain("until a command on part A (which did not answer) tries it, or for 1 ms more"));

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.That(await cache.GetAsync<string>("b1"), Is.Null, "the probe on part B, which answers, closes it: a breaker never stays open for want of traffic");
        Assert.That(Logged(15), Is.EqualTo(1));
    }

    [Test]
    public async Task A_command_on_no_one_part_such_as_a_clear_probes_only_after_one_more_duration()
    {
        using var cache = TwoParts();
        TimeOut(cache, "a1");
        _time.Advance(s_open);
        Assert.That(cache.ClearAsync().AsTask().IsCompleted, Is.True, "a clear is not known to reach part A: refused while the breaker waits for a command on it");

        _time.Advance(s_open);
        var clear = cache.ClearAsync().AsTask();
        Assert.That(clear.IsCompleted, Is.False, "after one more duration it is the probe, and waits for the backend");
        cache.Open();

        Assert.That(await clear, Is.True);
        Assert.That(await cache.GetAsync<string>("b1"), Is.Null);
    }

    [Test]
    public void A_part_the_cache_cannot_tell_counts_as_none_and_the_fault_still_opens_the_breaker()
    {
        // What FaultDomainOf throws is asked inside the pipeline's exception filters, where it would be swallowed and
        // lose the command's own error and the breaker's opening.
        using var cache = new GatedCache
        {
            TimeProvider = _time,
            Timeout = s_timeout,
            CircuitBreakerDuration = s_open,
            Alias = "parts",
            PartOf = static _ => throw new InvalidOperationException("no node known"),
        };

        TimeOut(cache, "a1");

        Refused(cache.GetAsync<string>("b1"), "the timeout opened it");
        Assert.That(Logged(14), Is.EqualTo(1), "and its opening was logged");
        _time.Advance(s_open);
        Assert.That(cache.GetAsync<string>("b1").IsCompleted, Is.False, "no part known: any command probes");
    }

    [Test]
    public async Task A_lock_take_the_breaker_refuses_sends_no_release()
    {
        using var cache = TwoParts();
        TimeOut(cache, "a1");

        var refusal = Assert.ThrowsAsync<CacheBackendException>(async () => await RedLock.AcquireAsync(cache, "b-job", TimeSpan.FromMinutes(1)));

        Assert.That(refusal!.CircuitOpen, Is.True);
        Assert.That(cache.ConditionalRemoves, Is.Zero, "the take never left: nothing is to reach the backend, its release neither");
        await Task.CompletedTask;
    }
    [Test]
    public void A_lock_counts_on_the_part_its_lock_key_is_on_not_its_key_s()
    {
        // On a cluster a key and its lock key (<key>-lock) are in different slots, so on different nodes as often as not.
        // Here every lock key is on the part that hangs, and the locked key on the one that answers: a take that times
        // out failed part A, so a read on part B after the duration is not the probe.
        using var cache = TwoParts(partOf: static key => key.StartsWith('a') || key.EndsWith("-lock", StringComparison.Ordinal) ? "part A" : "part B");
        var take = ((Cached.Capabilities.ILockingCache)cache).TryAcquireLockAsync("b-job", null, Guid.NewGuid().ToString("N"), TimeSpan.FromMinutes(1), CancellationToken.None).AsTask();
        Assert.That(take.IsCompleted, Is.False, "the lock key is on the hung part");
        _time.Advance(s_timeout);
        Assert.ThrowsAsync<TimeoutException>(async () => await take);

        _time.Advance(s_open);
        Refused(cache.GetAsync<string>("b1"), "a read on the locked key's part is not the probe: the lock key's part failed");
        TimeOut(cache, "a1");
        Assert.That((Logged(14), Logged(15)), Is.EqualTo((1, 0)), "the probe on part A failed: the same outage");
    }
}
