using Cached.Plugins;

namespace Cached.Tests.MultiLevel;

/// <summary>
/// A write kept for L2 during an outage and replayed when L2 returns must not land after a newer direct write of the
/// same key: each test holds one of the two writes at a gate so that, without the per-key turn, the older one would land
/// last and L2 would keep it until its time to live ran out.
/// </summary>
public sealed class MultiLevelReplayRaceTests
{
    private static readonly TimeSpan s_noWait = TimeSpan.FromMilliseconds(300);

    [Test]
    public async Task A_direct_write_waits_for_a_replay_of_its_key_in_flight([Values] bool async)
    {
        var (cache, gate, outage) = CacheWithOneWaitingWrite("k", "older");
        using (cache)
        {
            // Without the turn the direct write ends at once, and the replay lands after it.
            var done = await WhileReplayIsHeld(cache, gate, outage, "older", () => Task.Run(async () => async ? await cache.SetAsync("k", "newer") : cache.Set("k", "newer")));

            Assert.That(done, Is.True);
            Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("newer"), "the replay landed first, the direct write after it");
            Assert.That(cache.Get<string>("k"), Is.EqualTo("newer"));
        }
    }

    [Test]
    public async Task A_replay_waits_for_a_direct_write_of_its_key_under_way([Values] bool async)
    {
        var (cache, gate, outage) = CacheWithOneWaitingWrite("k", "older", retryAfter: TimeSpan.FromMilliseconds(200));
        using (cache)
        {
            // The direct write has reached L2 and is held before it returns; the replay comes due meanwhile.
            gate.Hold("newer", afterItApplies: true);
            outage.Down = false;
            var direct = Task.Run(async () => async ? await cache.SetAsync("k", "newer") : cache.Set("k", "newer"));
            Assert.That(gate.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "the direct write reached L2");
            var attempts = gate.Sets;
            // Without the turn the replay runs within its 200 ms and writes the older value over the newer one.
            var deadline = DateTime.UtcNow + s_noWait + TimeSpan.FromMilliseconds(400);
            while (gate.Sets == attempts && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            gate.Release.Set();
            Assert.That(await direct.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
            await Settled(cache);

            Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("newer"));
            Assert.That(cache.Get<string>("k"), Is.EqualTo("newer"));
        }
    }

    [Test]
    public async Task A_clear_waits_for_a_replay_in_flight_in_its_namespace([Values] bool async)
    {
        var (cache, gate, outage) = CacheWithOneWaitingWrite("k", "older");
        using (cache)
        {
            var done = await WhileReplayIsHeld(cache, gate, outage, "older", () => Task.Run(async () => async ? await cache.ClearAsync() : cache.Clear()));

            Assert.That(done, Is.True);
            Assert.That(cache.L2.Exists("k"), Is.False, "the clear came after the older write it waited for");
            Assert.That(cache.Get<string>("k"), Is.Null);
        }
    }

    [Test]
    public async Task A_delete_and_a_batch_write_wait_for_a_replay_of_their_keys_in_flight([Values] bool async)
    {
        var (cache, gate, outage) = CacheWithOneWaitingWrite("k", "older");
        using (cache)
        {
            var pairs = new[] { KeyValuePair.Create("other", "x"), KeyValuePair.Create("k", "newer") };
            await WhileReplayIsHeld(cache, gate, outage, "older", () => Task.Run(async () => async ? await cache.MultiSetAsync(pairs) : cache.MultiSet(pairs)));
            Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("newer"));

            outage.Down = true;
            cache.Set("k", "older again");
            await WhileReplayIsHeld(cache, gate, outage, "older again", () => Task.Run(async () => async ? await cache.DeleteAsync("k") : cache.Delete("k")));

            Assert.That(cache.L2.Exists("k"), Is.False, "the delete came after the older write it waited for");
        }
    }

    [Test]
    public async Task A_direct_write_waiting_for_a_replay_gives_up_when_its_caller_cancels()
    {
        var (cache, gate, outage) = CacheWithOneWaitingWrite("k", "older");
        using (cache)
        {
            gate.Hold("older", afterItApplies: false);
            outage.Down = false;
            Assert.That(gate.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True);
            var attempts = gate.Sets;
            using var cancel = new CancellationTokenSource();

            var direct = cache.SetAsync("k", "newer", cancellationToken: cancel.Token).AsTask();
            await Task.Delay(50);
            Assert.That(direct.IsCompleted, Is.False, "it waits for the replay");
            await cancel.CancelAsync();

            Assert.That(async () => await direct.WaitAsync(TimeSpan.FromSeconds(10)), Throws.InstanceOf<OperationCanceledException>());
            gate.Release.Set();
            await Settled(cache);
            Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("older"), "the cancelled write never reached L2");
            Assert.That(gate.Sets, Is.EqualTo(attempts), "nothing from the cancelled caller");
        }
    }

    [Test]
    public async Task An_increment_of_a_key_whose_write_still_waits_fails_until_L2_holds_that_write([Values] bool async)
    {
        var (cache, _, outage) = CacheWithOneWaitingWrite("n", 5L, retryAfter: TimeSpan.FromSeconds(30));
        using (cache)
        {
            outage.Down = false;

            // L2 answers, but still holds no 5: an increment now would count from nothing, and the 5 would land after it.
            var refused = Assert.CatchAsync<CacheBackendException>(async () => _ = async ? await cache.IncrementAsync("n") : cache.Increment("n"));
            Assert.That(refused!.Unreachable, Is.True, "a caller retries it as it would an outage");
            Assert.That(refused.Message, Does.Contain("'n'").And.Contain("still waiting"));

            // The refusal asks the retry loop to try at once instead of after its 30 s back-off.
            await Settled(cache);
            Assert.That(async ? await cache.IncrementAsync("n") : cache.Increment("n"), Is.EqualTo(6));
            Assert.That(cache.Get<long>("n"), Is.EqualTo(6));
        }
    }

    [Test]
    public async Task An_add_of_a_key_whose_write_or_clear_still_waits_fails_until_L2_holds_it([Values] bool async)
    {
        var (cache, gate, outage) = CacheWithOneWaitingWrite("a", "kept", retryAfter: TimeSpan.FromSeconds(30));
        using (cache)
        {
            outage.Down = false;

            Assert.CatchAsync<CacheBackendException>(async () => _ = async ? await cache.AddAsync("a", "other") : cache.Add("a", "other"));
            await Settled(cache);
            Assert.CatchAsync<KeyExistsException>(async () => _ = async ? await cache.AddAsync("a", "other") : cache.Add("a", "other"), "the waiting write made the key exist");
            Assert.That(cache.L2.Get<string>("a"), Is.EqualTo("kept"));

            // A waiting clear of the namespace covers every key of it; another namespace's key is not held up.
            var attempts = gate.Sets;
            outage.Down = true;
            cache.Clear();
            await Waits.Until(() => gate.Sets >= attempts + 2);
            outage.Down = false;
            Assert.CatchAsync<CacheBackendException>(async () => _ = async ? await cache.AddAsync("a", "after the clear") : cache.Add("a", "after the clear"));
            Assert.That(async ? await cache.AddAsync("b", "elsewhere", @namespace: "other") : cache.Add("b", "elsewhere", @namespace: "other"), Is.True);
            await Settled(cache);
            Assert.That(async ? await cache.AddAsync("a", "after the clear") : cache.Add("a", "after the clear"), Is.True);
        }
    }

    /// <summary>
    /// Brings L2 back, holds the replay of <paramref name="heldValue"/> as it reaches L2, starts <paramref name="direct"/>
    /// and lets the replay go on after <paramref name="direct"/> ended or 300 ms passed; returns once nothing waits.
    /// </summary>
    private static async Task<T> WhileReplayIsHeld<T>(MultiLevelCache cache, SetGate gate, Outage outage, string heldValue, Func<Task<T>> direct)
    {
        gate.Hold(heldValue, afterItApplies: false);
        outage.Down = false;
        Assert.That(gate.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "the replay reached L2");
        var running = direct();
        await Task.WhenAny(running, Task.Delay(s_noWait));
        gate.Release.Set();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));
        await Settled(cache);
        return result;
    }

    /// <summary>
    /// Returns once nothing waits and the replay loop has stopped: the count drops as soon as a direct write cancels a
    /// waiting write, before a replay of it already in flight has landed.
    /// </summary>
    private static async Task Settled(MultiLevelCache cache)
    {
        await Waits.Until(() => cache.PendingWriteCount == 0);
        await cache.WaitingWrites.Drained.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// A cache whose L2 was down for one write of <paramref name="key"/>, kept waiting, and whose first replay failed
    /// too; L2 is still down, and the next replay comes after <paramref name="retryAfter"/> (50 ms unless given).
    /// </summary>
    private static (MultiLevelCache Cache, SetGate Gate, Outage Outage) CacheWithOneWaitingWrite<T>(string key, T value, TimeSpan? retryAfter = null)
    {
        var outage = new Outage { Down = true };
        var gate = new SetGate(outage);
        var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [gate, outage] });
        cache.WaitingWrites.FirstRetryDelay = retryAfter ?? TimeSpan.FromMilliseconds(50);
        cache.WaitingWrites.MaxRetryDelay = retryAfter ?? TimeSpan.FromMilliseconds(50);
        cache.Set(key, value);
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        Waits.Until(() => gate.Sets >= 2).GetAwaiter().GetResult();
        return (cache, gate, outage);
    }

    /// <summary>
    /// Counts the writes (clears included) that reach L2, down or not, and, once armed, holds the next Set of a given value that L2 takes,
    /// before or after it applies.
    /// </summary>
    private sealed class SetGate(Outage outage) : CachePlugin
    {
        private readonly object _lock = new();
        private int _sets;
        private (object Value, bool After)? _armed;

        public ManualResetEventSlim Reached { get; } = new(false);

        public ManualResetEventSlim Release { get; } = new(false);

        public int Sets => Volatile.Read(ref _sets);

        public void Hold(string value, bool afterItApplies)
        {
            Reached.Reset();
            Release.Reset();
            lock (_lock)
            {
                _armed = (value, afterItApplies);
            }
        }

        public override void Pre(CacheCommandContext context)
        {
            if (context.Command is CacheCommand.Set or CacheCommand.MultiSet or CacheCommand.Delete or CacheCommand.Clear)
            {
                Interlocked.Increment(ref _sets);
                HoldIfArmed(context, after: false);
            }
        }

        public override void Post(CacheCommandContext context) => HoldIfArmed(context, after: true);

        private void HoldIfArmed(CacheCommandContext context, bool after)
        {
            lock (_lock)
            {
                if (outage.Down || context.Command != CacheCommand.Set || _armed is not { } armed || armed.After != after || !Equals(armed.Value, context.Value))
                {
                    return;
                }

                _armed = null;
            }

            Reached.Set();
            Release.Wait(TimeSpan.FromSeconds(10));
        }
    }
}
