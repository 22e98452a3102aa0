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
    public async Task An_increment_refused_while_a_replay_is_in_flight_still_has_the_next_retry_made_at_once()
    {
        var hold = new FailingHold();
        var (cache, _, outage) = CacheWithOneWaitingWrite("n", 5L, retryAfter: TimeSpan.FromSeconds(30), first: hold);
        using (cache)
        {
            hold.Armed = true;
            outage.Down = false;

            // The first refusal cuts the 30 s back-off short: its replay is held in flight, then fails as an outage does.
            Assert.CatchAsync<CacheBackendException>(async () => _ = await cache.IncrementAsync("n"));
            Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "the early retry started");

            // A second refusal while that replay is in flight asks for one more early retry; without it L2 stays short of the 5 for 30 s.
            Assert.CatchAsync<CacheBackendException>(async () => _ = await cache.IncrementAsync("n"));
            hold.Release.Set();

            await Waits.Until(() => cache.PendingWriteCount == 0);
            Assert.That(await cache.IncrementAsync("n"), Is.EqualTo(6));
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

    [Test]
    public async Task A_cancelled_async_write_that_lands_later_still_replaces_the_older_kept_write([Values] bool delete)
    {
        // L2 holds the direct write back; its caller cancels; the write lands afterwards. As when its caller waits, the
        // older write kept from the outage must go, or the retry loop lands it after the newer one.
        var store = new LateStore();
        var outage = new Outage { Down = true };
        var counter = new SetGate(outage);
        using var l2 = new Cached.Distributed.DistributedCacheBackend(store) { Plugins = [counter, outage] };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2);
        cache.WaitingWrites.FirstRetryDelay = TimeSpan.FromSeconds(2);
        cache.WaitingWrites.MaxRetryDelay = TimeSpan.FromSeconds(2);
        cache.Set("k", "older");
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        await Waits.Until(() => counter.Sets >= 2); // the first replay failed too: the loop waits out its back-off

        store.Hold();
        outage.Down = false;
        using var cancel = new CancellationTokenSource();
        Task write = delete ? cache.DeleteAsync("k", cancellationToken: cancel.Token).AsTask() : cache.SetAsync("k", "newer", cancellationToken: cancel.Token).AsTask();
        Assert.That(write.IsCompleted, Is.False, "L2 holds the write");
        await cancel.CancelAsync();
        Assert.That(async () => await write, Throws.InstanceOf<OperationCanceledException>());

        store.Release();
        await Settled(cache);
        Assert.That(l2.Get<string>("k"), Is.EqualTo(delete ? null : "newer"), "the kept write landed after the newer one");
        Assert.That(cache.Get<string>("k"), Is.EqualTo(delete ? null : "newer"));
    }

    [Test]
    public async Task A_direct_write_waits_for_a_replay_in_flight_that_another_direct_write_took_off_the_queue()
    {
        // D reaches L2 while nothing waits; E fails and is kept; its replay is sent; D then ends and takes E off the
        // queue, which leaves nothing waiting while E is still in flight. F, made after E, must still land after E.
        var outage = new Outage();
        var gates = new ValueGates(outage);
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [gates, outage] });
        cache.WaitingWrites.FirstRetryDelay = TimeSpan.FromMilliseconds(50);
        cache.WaitingWrites.MaxRetryDelay = TimeSpan.FromMilliseconds(50);

        var d = gates.Hold("d", afterItApplies: true);
        var first = Task.Run(() => cache.Set("k", "d"));
        Assert.That(d.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "D reached L2");

        var e = gates.Hold("e", afterItApplies: false);
        outage.Down = true;
        cache.Set("k", "e");
        outage.Down = false;
        Assert.That(e.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "E's replay reached L2");

        d.Release.Set();
        Assert.That(await first.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(cache.PendingWriteCount, Is.Zero, "D took E off the queue");

        var last = Task.Run(() => cache.Set("k", "f"));
        await Task.WhenAny(last, Task.Delay(s_noWait));
        e.Release.Set();
        Assert.That(await last.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        await Settled(cache);

        Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("f"), "E's replay landed after F");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("f"));
    }

    [Test]
    public async Task A_write_made_after_a_kept_clear_lands_after_it([Values] bool async, [Values] bool batch)
    {
        var (cache, _, outage) = CacheWithOneWaitingWrite("a", "kept", retryAfter: TimeSpan.FromSeconds(2));
        using (cache)
        {
            cache.Clear();
            Assert.That(cache.PendingWriteCount, Is.EqualTo(2), "the clear is kept too");
            outage.Down = false;

            // Sent now, the write would reach L2 before the clear, which would then erase it.
            KeyValuePair<string, string>[] pairs = [KeyValuePair.Create("k", "after the clear"), KeyValuePair.Create("j", "too")];
            _ = (batch, async) switch
            {
                (true, true) => await cache.MultiSetAsync(pairs),
                (true, false) => cache.MultiSet(pairs),
                (false, true) => await cache.SetAsync("k", "after the clear"),
                (false, false) => cache.Set("k", "after the clear"),
            };
            Assert.That(cache.Get<string>("k"), Is.EqualTo("after the clear"), "this node reads its write at once");
            await Settled(cache);

            Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("after the clear"), "the clear landed after the write");
            Assert.That(cache.L2.Exists("a"), Is.False, "the clear landed");
            Assert.That(cache.Get<string>("k"), Is.EqualTo("after the clear"));
        }
    }

    [Test]
    public async Task A_write_naming_the_namespace_a_kept_clear_left_to_the_default_lands_after_it()
    {
        // The clear names no namespace, so it clears L2's own, "app"; the write names "app": the same namespace.
        var (cache, _, outage) = CacheWithOneWaitingWrite("a", "kept", retryAfter: TimeSpan.FromSeconds(2), l2Namespace: "app");
        using (cache)
        {
            cache.Clear();
            outage.Down = false;

            cache.Set("k", "after the clear", @namespace: "app");
            await Settled(cache);

            Assert.That(cache.L2.Get<string>("k", @namespace: "app"), Is.EqualTo("after the clear"), "the clear landed after the write");
            Assert.That(cache.L2.Exists("a"), Is.False, "the clear landed");
        }
    }

    [Test]
    public async Task An_expiry_made_after_a_kept_write_of_its_key_gives_that_write_its_life([Values] bool async)
    {
        var (cache, _, outage) = CacheWithOneWaitingWrite("k", "kept", retryAfter: TimeSpan.FromSeconds(2));
        using (cache)
        {
            outage.Down = false;

            // Sent now, the expiry would find no key in L2, and the kept write would then land without a life.
            var life = TimeSpan.FromHours(1);
            Assert.That(async ? await cache.ExpireAsync("k", life) : cache.Expire("k", life), Is.True);
            await Settled(cache);

            var (result, left) = ((BaseCache)cache.L2).TryGetWithTtl<string>("k", null, null);
            Assert.That(result.Value, Is.EqualTo("kept"));
            Assert.That(left, Is.Not.Null.And.GreaterThan(life - TimeSpan.FromMinutes(1)), "the expiry reached the kept value");
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
    private static (MultiLevelCache Cache, SetGate Gate, Outage Outage) CacheWithOneWaitingWrite<T>(string key, T value, TimeSpan? retryAfter = null, string? l2Namespace = null, CachePlugin? first = null)
    {
        var outage = new Outage { Down = true };
        var gate = new SetGate(outage);
        var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = first is null ? [gate, outage] : [first, gate, outage], Namespace = l2Namespace });
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

    /// <summary>Once armed, holds the first Set that reaches it, then fails it as an unreachable server would.</summary>
    private sealed class FailingHold : CachePlugin
    {
        private int _held;

        public volatile bool Armed;

        public ManualResetEventSlim Reached { get; } = new(false);

        public ManualResetEventSlim Release { get; } = new(false);

        public override void Pre(CacheCommandContext context)
        {
            if (Armed && context.Command == CacheCommand.Set && Interlocked.Exchange(ref _held, 1) == 0)
            {
                Reached.Set();
                Release.Wait(TimeSpan.FromSeconds(10));
                throw new CacheBackendException("L2 went down again", null, unreachable: true);
            }
        }
    }

    /// <summary>Holds a Set of one value that L2 takes, before or after it applies, each value at a gate of its own.</summary>
    private sealed class ValueGates(Outage outage) : CachePlugin
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Gate> _armed = new();

        public Gate Hold(string value, bool afterItApplies) => _armed[value] = new Gate(afterItApplies);

        public override void Pre(CacheCommandContext context) => HoldIfArmed(context, after: false);

        public override void Post(CacheCommandContext context) => HoldIfArmed(context, after: true);

        private void HoldIfArmed(CacheCommandContext context, bool after)
        {
            if (outage.Down || context.Command != CacheCommand.Set || context.Value is not string value
                || !_armed.TryGetValue(value, out var gate) || gate.After != after || !_armed.TryRemove(KeyValuePair.Create(value, gate)))
            {
                return;
            }

            gate.Reached.Set();
            gate.Release.Wait(TimeSpan.FromSeconds(10));
        }

        public sealed class Gate(bool after)
        {
            public bool After { get; } = after;

            public ManualResetEventSlim Reached { get; } = new(false);

            public ManualResetEventSlim Release { get; } = new(false);
        }
    }
}
