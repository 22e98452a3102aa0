using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Outsider;

/// <summary>
/// An outsider's review of stamped entries (fail-safe, eager refresh, tags) on the memory cache when the process's
/// wall clock jumps (an NTP step, a manual change) while its monotonic clock runs on. docs/caches.md promises that
/// "wall clock changes never expire or revive entries": an entry the memory cache holds by reference was stamped by
/// this process, so every check of it (fresh, due for a refresh, kept as a last value, a plain read) must run on the
/// monotonic clock, and a jump must neither serve a value past the life its options gave it nor take away a last value
/// the store still holds.
/// </summary>
[NonParallelizable]
public sealed class OutsiderClockJumpReviewTests
{
    // Physical life 6 minutes: fresh 1, kept 5 more.
    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromMinutes(1),
        FailSafe = TimeSpan.FromMinutes(5),
        FailSafeThrottle = TimeSpan.FromSeconds(30),
    };

    private static readonly TimeSpan s_jump = TimeSpan.FromHours(1);

    private JumpingClock _clock = null!;
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        _clock = new JumpingClock();
        _cache = new SimpleMemoryCache { TimeProvider = _clock };
    }

    [TearDown]
    public void TearDown() => _cache.Dispose();

    private async Task<string> Call(bool async, Func<string> factory, CacheEntryOptions options, string key = "k")
        => async
            ? await _cache.GetOrSetAsync(key, _ => new ValueTask<string>(factory()), options)
            : _cache.GetOrSet(key, _ => factory(), options);

    private static string Fail() => throw new InvalidOperationException("source down");

    [Test]
    public async Task A_wall_clock_jump_neither_expires_nor_prolongs_a_fresh_entry([Values] bool async, [Values(-1, 1)] int direction)
    {
        var calls = 0;
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"));

        _clock.Jump(direction * s_jump);
        _clock.Advance(TimeSpan.FromSeconds(59));
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"), "fresh for its Ttl on the monotonic clock");

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v2"), "stale once its Ttl elapsed, whatever the wall clock did");
    }

    [Test]
    public async Task A_wall_clock_jump_starts_no_eager_refresh_and_delays_none([Values(-1, 1)] int direction)
    {
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), EagerRefresh = 0.5 };
        var calls = 0;
        _cache.GetOrSet("k", _ => "v" + ++calls, options);

        _clock.Jump(direction * s_jump);
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.That(_cache.GetOrSet("k", _ => "v" + ++calls, options), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(1), "not due before half the Ttl on the monotonic clock");

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(_cache.GetOrSet("k", _ => "v" + ++calls, options), Is.EqualTo("v1"));
        await WaitUntil(() => Volatile.Read(ref calls) == 2);
    }

    [Test]
    public async Task A_plain_read_of_a_stamped_entry_follows_the_monotonic_clock([Values(-1, 1)] int direction)
    {
        _cache.Set("k", "v1", s_failSafe);

        _clock.Jump(direction * s_jump);
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v1"), "fresh right after the write, whatever the wall clock did");
        Assert.That(await _cache.GetAsync<string>("k"), Is.EqualTo("v1"));

        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.That(_cache.Get<string>("k"), Is.Null, "stale past its Ttl: a plain read misses it");
        Assert.That(await _cache.GetAsync<string>("k"), Is.Null);
    }

    [Test]
    public async Task After_a_wall_clock_jump_forward_fail_safe_still_serves_the_last_value_the_store_holds([Values] bool async)
    {
        Assert.That(await Call(async, () => "v1", s_failSafe), Is.EqualTo("v1"));

        _clock.Jump(s_jump);
        _clock.Advance(TimeSpan.FromMinutes(2));

        Assert.That(await Call(async, Fail, s_failSafe), Is.EqualTo("v1"), "kept 5 minutes after its Ttl on the monotonic clock");
        Assert.That(await Call(async, () => "not called", s_failSafe), Is.EqualTo("v1"), "fresh again for the throttle");
    }

    [Test]
    public async Task After_a_wall_clock_jump_back_fail_safe_keeps_no_value_past_its_physical_life([Values] bool async)
    {
        Assert.That(await Call(async, () => "v1", s_failSafe), Is.EqualTo("v1"));

        _clock.Jump(-s_jump);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await Call(async, Fail, s_failSafe), Is.EqualTo("v1"), "stale and kept: served, and made fresh for the throttle");

        // Six minutes after the write the entry's life (Ttl + FailSafe) has ended: the throttle's write-back must not
        // have given it the hour the wall clock went back.
        _clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(1));
        Assert.That(_cache.Exists("k"), Is.False, "gone at the end of Ttl + FailSafe");
        Assert.That(async () => await Call(async, Fail, s_failSafe), Throws.InvalidOperationException, "no last value past Ttl + FailSafe");
    }

    [Test]
    public async Task The_throttle_ends_on_the_monotonic_clock_after_a_jump([Values] bool async, [Values(-1, 1)] int direction)
    {
        Assert.That(await Call(async, () => "v1", s_failSafe), Is.EqualTo("v1"));
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await Call(async, Fail, s_failSafe), Is.EqualTo("v1"));

        _clock.Jump(direction * s_jump);
        _clock.Advance(TimeSpan.FromSeconds(29));
        var calls = 0;
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"), "throttled for 30 s");
        Assert.That(calls, Is.Zero);

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"));
        Assert.That(calls, Is.EqualTo(1), "the source is tried again once the throttle ends");
    }

    [Test]
    public async Task Tags_invalidate_across_a_wall_clock_jump([Values] bool async, [Values(-1, 1)] int direction)
    {
        var tagged = s_failSafe with { Tags = ["t"] };
        var calls = 0;
        Assert.That(await Call(async, () => "v" + ++calls, tagged), Is.EqualTo("v1"));

        _clock.Jump(direction * s_jump);
        _cache.InvalidateTags("t");

        Assert.That(_cache.Get<string>("k"), Is.Null);
        Assert.That(await Call(async, () => "v" + ++calls, tagged), Is.EqualTo("v2"));
        Assert.That(await Call(async, () => "v" + ++calls, tagged), Is.EqualTo("v2"), "the value computed after the invalidation is a hit");
    }

    [Test]
    public async Task An_entry_kept_as_bytes_reads_a_jump_as_skew_one_factory_call_forward_no_life_past_Ttl_plus_FailSafe_back([Values] bool async)
    {
        // Documented (docs/resilience.md): bytes carry the wall-clock stamp alone, read anew on each read's wall clock.
        _cache.Dispose();
        _cache = new SimpleMemoryCache { TimeProvider = _clock, Serializer = new Cached.Serializers.JsonSerializer() };
        var calls = 0;
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v1"));

        _clock.Jump(s_jump);
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v2"), "stale at once after a jump forward past its Ttl");
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v2"), "the value computed then is fresh: one call, not one per call");

        _clock.Jump(-2 * s_jump);
        _clock.Advance(TimeSpan.FromMinutes(2));
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v2"), "fresh past its Ttl after a jump back");
        _clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(1));
        Assert.That(await Call(async, () => "v" + ++calls, s_failSafe), Is.EqualTo("v3"), "never past Ttl + FailSafe, the store's monotonic life");
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(4);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out waiting");
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// A fake clock whose wall clock can jump while its monotonic timestamps (and timers) run on: a
    /// <see cref="FakeTimeProvider"/> moves both together.
    /// </summary>
    private sealed class JumpingClock : TimeProvider
    {
        private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
        private TimeSpan _offset;

        public override long TimestampFrequency => _time.TimestampFrequency;

        public override DateTimeOffset GetUtcNow() => _time.GetUtcNow() + _offset;

        public override long GetTimestamp() => _time.GetTimestamp();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => _time.CreateTimer(callback, state, dueTime, period);

        /// <summary>Moves the wall clock alone.</summary>
        public void Jump(TimeSpan by) => _offset += by;

        /// <summary>Moves both clocks.</summary>
        public void Advance(TimeSpan by) => _time.Advance(by);
    }
}
