using Cached.Capabilities;
using Cached.Plugins;
using Cached.Tests.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.MultiLevel;

/// <summary>Each command's two-level meaning, on memory in front of memory, nodes joined by an in-process backplane.</summary>
public sealed class MultiLevelCacheTests
{
    [Test]
    public async Task Every_async_command_and_publish_with_a_cancelled_token_returns_a_cancelled_task_and_writes_nothing()
    {
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);

        var swept = await Cached.Tests.Commands.CancelledCalls.AssertEveryAsyncMethodReturnsACancelledTask(cache, typeof(MultiLevelCache));
        await Cached.Tests.Commands.CancelledCalls.AssertEveryAsyncMethodReturnsACancelledTask(
            backplane,
            typeof(MemoryBackplane),
            new Dictionary<Type, object> { [typeof(BackplaneMessage)] = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Clear, null, [], DateTimeOffset.UtcNow) });

        Assert.That(swept, Has.Some.StartsWith("TryGetAsync").And.Some.StartsWith("GetOrSetAsync").And.Some.StartsWith("InvalidateTagsAsync"));
        Assert.That(cache.L2.Exists("cancelled-call") || cache.Exists("cancelled-call"), Is.False);
    }

    [Test]
    public void Get_answers_from_L1_without_asking_L2()
    {
        var counter = new CountingPlugin();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [counter] });
        cache.L1.Set("k", "only in L1");

        Assert.That(cache.Get<string>("k"), Is.EqualTo("only in L1"));
        Assert.That(counter.Gets, Is.Zero);
    }

    [Test]
    public async Task An_L2_hit_is_copied_into_L1_for_the_entry_s_remaining_life([Values] bool async)
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time });
        cache.L2.Set("k", "v", TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(4));

        Assert.That(async ? await cache.GetAsync<string>("k") : cache.Get<string>("k"), Is.EqualTo("v"));
        Assert.That(cache.L1.Get<string>("k"), Is.EqualTo("v"), "L1 took the L2 hit");

        time.Advance(TimeSpan.FromSeconds(5.9));
        Assert.That(cache.L1.Exists("k"), Is.True);
        time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(cache.L1.Exists("k"), Is.False, "L1 keeps it no longer than L2 does: 6 s left when it was read");
    }

    [Test]
    public async Task L1Ttl_bounds_how_long_L1_keeps_an_entry([Values] bool async)
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time }) { L1Ttl = TimeSpan.FromSeconds(2) };
        if (async)
        {
            await cache.SetAsync("written", 1, TimeSpan.FromSeconds(60));
        }
        else
        {
            cache.Set("written", 1, TimeSpan.FromSeconds(60));
        }

        cache.L2.Set("read", 2, TimeSpan.FromSeconds(60));
        Assert.That(cache.Get<int>("read"), Is.EqualTo(2));
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(cache.L1.Exists("written"), Is.False);
        Assert.That(cache.L1.Exists("read"), Is.False);
        Assert.That(cache.Get<int>("written"), Is.EqualTo(1), "L2 still holds it");
    }

    [Test]
    public void An_entry_without_expiry_in_L2_stays_in_L1_until_changed()
    {
        var time = new FakeTimeProvider();
        using var cache = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new SimpleMemoryCache { TimeProvider = time });
        cache.L2.Set("k", "v");
        cache.Get<string>("k");
        time.Advance(TimeSpan.FromDays(1));

        Assert.That(cache.L1.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public async Task A_change_on_one_node_is_seen_by_the_others([Values] bool async)
    {
        using var nodes = new Nodes(new SimpleMemoryCache(), count: 3);
        nodes.A.Set("k", "old");
        foreach (var node in nodes.All)
        {
            Assert.That(node.Get<string>("k"), Is.EqualTo("old"));
        }

        if (async)
        {
            await nodes.A.SetAsync("k", "new");
        }
        else
        {
            nodes.A.Set("k", "new");
        }

        foreach (var node in nodes.All)
        {
            Assert.That(node.Get<string>("k"), Is.EqualTo("new"));
        }

        Assert.That(nodes.A.L1.Get<string>("k"), Is.EqualTo("new"), "a node skips its own message: its fresh copy stays");
    }

    [Test]
    public async Task Every_write_command_reaches_the_other_nodes([Values] bool async)
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        void Warm(params string[] keys)
        {
            foreach (var key in keys)
            {
                nodes.A.Set(key, 1L);
                Assert.That(nodes.B.Get<long>(key), Is.EqualTo(1));
                Assert.That(nodes.B.L1.Exists(key), Is.True);
            }
        }

        Warm("delete", "expire", "incr", "multi1", "multi2", "add");
        if (async)
        {
            await nodes.A.DeleteAsync("delete");
            await nodes.A.ExpireAsync("expire", TimeSpan.FromMinutes(1));
            await nodes.A.IncrementAsync("incr", 5);
            await nodes.A.MultiSetAsync([KeyValuePair.Create("multi1", 2L), KeyValuePair.Create("multi2", 3L)]);
        }
        else
        {
            nodes.A.Delete("delete");
            nodes.A.Expire("expire", TimeSpan.FromMinutes(1));
            nodes.A.Increment("incr", 5);
            nodes.A.MultiSet([KeyValuePair.Create("multi1", 2L), KeyValuePair.Create("multi2", 3L)]);
        }

        nodes.A.L2.Delete("add");
        Assert.That(async ? await nodes.A.AddAsync("add", 9L) : nodes.A.Add("add", 9L), Is.True);

        Assert.That(nodes.B.L1.Exists("delete") || nodes.B.L1.Exists("expire") || nodes.B.L1.Exists("incr"), Is.False);
        Assert.That(nodes.B.Exists("delete"), Is.False);
        Assert.That(nodes.B.Get<long>("incr"), Is.EqualTo(6));
        Assert.That(nodes.B.MultiGet<long>(["multi1", "multi2", "add"]), Is.EqualTo(new long[] { 2, 3, 9 }));
    }

    [Test]
    public async Task An_async_write_cancelled_after_L2_applied_it_leaves_no_node_with_the_old_copy(
        [Values(CacheCommand.Add, CacheCommand.Set, CacheCommand.MultiSet, CacheCommand.Increment, CacheCommand.Delete, CacheCommand.Expire, CacheCommand.Clear)] CacheCommand command)
    {
        // L2 takes the command, then the caller's cancellation arrives: as with a remote L2 that applies a command
        // after its caller stopped waiting. Every node must then read what L2 holds, not its copy from before.
        using var cancel = new CancellationTokenSource();
        var cancelAfter = new CancelAfterCommand(command, cancel);
        using var nodes = new Nodes(new SimpleMemoryCache { Plugins = [cancelAfter] });
        nodes.A.L2.Set("k", 1L);
        Assert.That(nodes.A.Get<long>("k") + nodes.B.Get<long>("k"), Is.EqualTo(2), "both nodes read the entry");
        Assert.That(nodes.A.L1.Exists("k") && nodes.B.L1.Exists("k"), Is.True, "both hold a copy");
        if (command == CacheCommand.Add)
        {
            nodes.A.L2.Delete("k");
        }

        cancelAfter.Arm();
        var token = cancel.Token;
        Task write = command switch
        {
            CacheCommand.Add => nodes.A.AddAsync("k", 2L, cancellationToken: token).AsTask(),
            CacheCommand.Set => nodes.A.SetAsync("k", 2L, cancellationToken: token).AsTask(),
            CacheCommand.MultiSet => nodes.A.MultiSetAsync([KeyValuePair.Create("k", 2L)], cancellationToken: token).AsTask(),
            CacheCommand.Increment => nodes.A.IncrementAsync("k", cancellationToken: token).AsTask(),
            CacheCommand.Delete => nodes.A.DeleteAsync("k", cancellationToken: token).AsTask(),
            CacheCommand.Expire => nodes.A.ExpireAsync("k", TimeSpan.FromMilliseconds(1), cancellationToken: token).AsTask(),
            _ => nodes.A.ClearAsync(cancellationToken: token).AsTask(),
        };

        Assert.That(async () => await write, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(cancelAfter.Cancelled, Is.True, "L2 applied the command before the cancellation");
        Thread.Sleep(command == CacheCommand.Expire ? 20 : 0);
        var held = nodes.L2.Get<long>("k");
        Assert.That(held, Is.EqualTo(command is CacheCommand.Delete or CacheCommand.Expire or CacheCommand.Clear ? 0 : 2), "what L2 holds");
        Assert.That(nodes.A.Get<long>("k"), Is.EqualTo(held), "the writing node reads what L2 holds");
        Assert.That(nodes.B.Get<long>("k"), Is.EqualTo(held), "the other node reads what L2 holds");
    }

    [Test]
    public async Task An_async_write_that_lands_after_its_caller_cancelled_still_leaves_no_node_with_the_old_copy([Values] bool delete)
    {
        // The caller gives up while L2 still holds the write back; another node reads the old value again meanwhile.
        // When the write lands at last, that copy must go too.
        var store = new LateStore();
        using var nodes = new Nodes(new Cached.Distributed.DistributedCacheBackend(store));
        nodes.A.L2.Set("k", 1L);
        Assert.That(nodes.A.Get<long>("k") + nodes.B.Get<long>("k"), Is.EqualTo(2), "both nodes hold a copy");

        store.Hold();
        using var cancel = new CancellationTokenSource();
        Task write = delete ? nodes.A.DeleteAsync("k", cancellationToken: cancel.Token).AsTask() : nodes.A.SetAsync("k", 2L, cancellationToken: cancel.Token).AsTask();
        await cancel.CancelAsync();
        Assert.That(async () => await write, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(nodes.B.Get<long>("k"), Is.EqualTo(1), "the write has not landed: B reads the old value again, and copies it");

        store.Release();
        var expected = delete ? 0L : 2L;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (nodes.L2.Get<long>("k") != expected || nodes.B.L1.Exists("k"))
        {
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the write landed and B dropped its copy");
            await Task.Delay(5);
        }

        Assert.That(nodes.B.Get<long>("k"), Is.EqualTo(expected), "B reads what L2 holds");
        Assert.That(nodes.A.Get<long>("k"), Is.EqualTo(expected), "and so does A");
    }

    [Test]
    public async Task A_read_that_saw_L2_before_a_write_landed_cannot_put_its_old_value_in_L1_after_the_write([Values(0, 1, 2)] int batchKeys)
    {
        // The read opens its L1 ticket after the write began (the write dropped L1's copy first) and reads L2 before the
        // write lands; the write then lands and puts its value in L1; only then does the read try to put in what it read.
        var gates = new GatedCommands();
        var l2 = new SimpleMemoryCache { Plugins = [gates] };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2, new MemoryBackplane());
        l2.Set("k", "old");

        // 0: a Set; 1: a one-key MultiSet (L1 takes it as a Set's); 2: a two-key MultiSet (L1 takes both together).
        var batch = batchKeys > 0;
        KeyValuePair<string, string>[] pairs = batchKeys == 1 ? [KeyValuePair.Create("k", "new")] : [KeyValuePair.Create("k", "new"), KeyValuePair.Create("other", "x")];
        gates.HoldBefore(batch ? CacheCommand.MultiSet : CacheCommand.Set);
        var write = Task.Run(() => batch ? cache.MultiSetAsync(pairs).AsTask() : cache.SetAsync("k", "new").AsTask());
        await gates.Held.WaitAsync(TimeSpan.FromSeconds(10));

        gates.HoldAfter(CacheCommand.Get);
        var read = Task.Run(() => cache.GetAsync<string>("k").AsTask());
        await gates.Held.WaitAsync(TimeSpan.FromSeconds(10));

        gates.Release(batch ? CacheCommand.MultiSet : CacheCommand.Set);
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        gates.Release(CacheCommand.Get);
        Assert.That(await read.WaitAsync(TimeSpan.FromSeconds(10)), Is.EqualTo("old"), "the read began before the write landed");

        Assert.That(l2.Get<string>("k"), Is.EqualTo("new"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("new"), "L1 holds the write's value, not the read's");
    }

    [Test]
    public async Task A_write_kept_out_of_L1_still_refuses_a_read_that_saw_L2_before_it_landed()
    {
        var gates = new GatedCommands();
        var l2 = new SimpleMemoryCache { Plugins = [gates] };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2, new MemoryBackplane());
        l2.Set("k", "old");

        // LocalTtl zero: the write puts nothing in L1, and must still leave no room for the read's older value.
        gates.HoldBefore(CacheCommand.Set);
        var write = Task.Run(() => cache.SetAsync("k", "new", new CacheEntryOptions { LocalTtl = TimeSpan.Zero }).AsTask());
        await gates.Held.WaitAsync(TimeSpan.FromSeconds(10));
        gates.HoldAfter(CacheCommand.Get);
        var read = Task.Run(() => cache.GetAsync<string>("k").AsTask());
        await gates.Held.WaitAsync(TimeSpan.FromSeconds(10));
        gates.Release(CacheCommand.Set);
        await write.WaitAsync(TimeSpan.FromSeconds(10));
        gates.Release(CacheCommand.Get);
        await read.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.That(cache.Get<string>("k"), Is.EqualTo("new"));
    }

    [Test]
    public async Task A_fill_that_L2_took_and_a_write_around_it_leave_both_levels_agreeing([Values] bool fillBeforeTheWriteEnds)
    {
        // A generated method's fill opens after a write reached L2 but before the write put its value in L1; L2 takes
        // the fill, so L1 must end with the fill's value or nothing, never the write's.
        var gates = new GatedCommands();
        var l2 = new SimpleMemoryCache { Plugins = [gates] };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2, new MemoryBackplane());
        var fills = (IFencedFillCache)cache;
        Assert.That(cache.Get<string>("warm"), Is.Null, "subscribed");

        gates.HoldAfter(CacheCommand.Set);
        var write = Task.Run(() => cache.SetAsync("k", "written").AsTask());
        await gates.Held.WaitAsync(TimeSpan.FromSeconds(10));
        using var fill = fills.OpenFill("k");
        if (!fillBeforeTheWriteEnds)
        {
            gates.Release(CacheCommand.Set);
            await write.WaitAsync(TimeSpan.FromSeconds(10));
        }

        // Otherwise the fill's own L2 write waits at the same gate as the write's end; once released, the two race, and
        // either order must leave the levels agreeing.
        var filling = Task.Run(() => fills.TryFill(fill, "filled"));
        if (fillBeforeTheWriteEnds)
        {
            gates.Release(CacheCommand.Set);
            await write.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.That(await filling.WaitAsync(TimeSpan.FromSeconds(10)), Is.True, "L2 took the fill: it opened after the write reached L2");
        Assert.That(l2.Get<string>("k"), Is.EqualTo("filled"));
        Assert.That(cache.Get<string>("k"), Is.EqualTo("filled"), "L1 agrees with L2");
    }

    [Test]
    public async Task A_write_in_another_namespace_also_goes_to_that_namespace_channel_but_a_tag_invalidation_does_not()
    {
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Namespace = "ours" }, backplane) { OwnsBackplane = false };
        var theirs = new Heard();
        var unnamed = new Heard();
        using var theirSubscription = backplane.Subscribe("cached:theirs", theirs);
        using var unnamedSubscription = backplane.Subscribe("cached:", unnamed);

        await cache.SetAsync("k", 1, @namespace: "theirs");
        await cache.SetAsync("own", 1);
        await cache.InvalidateTagsAsync(["team"]);

        Assert.That(theirs.Messages.Select(static m => (m.Action, m.Namespace)), Is.EqualTo(new[] { (BackplaneAction.Set, (string?)"theirs") }));
        Assert.That(unnamed.Messages, Is.Empty, "a tag invalidation stays on the cache's own channel");
    }

    private sealed class Heard : IBackplaneSubscriber
    {
        public List<BackplaneMessage> Messages { get; } = [];

        public void OnMessage(BackplaneMessage message) => Messages.Add(message);

        public void OnMessagesMayBeLost()
        {
        }
    }

    /// <summary>Holds commands of a cache on their calling thread, before or after they run, until released.</summary>
    private sealed class GatedCommands : CachePlugin
    {
        private readonly Dictionary<(CacheCommand, bool After), ManualResetEventSlim> _gates = [];
        private TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the command last held reaches its gate.</summary>
        public Task Held => _held.Task;

        public void HoldBefore(CacheCommand command) => Hold(command, after: false);

        public void HoldAfter(CacheCommand command) => Hold(command, after: true);

        public void Release(CacheCommand command)
        {
            lock (_gates)
            {
                foreach (var after in new[] { false, true })
                {
                    if (_gates.Remove((command, after), out var gate))
                    {
                        gate.Set();
                    }
                }
            }
        }

        public override void Pre(CacheCommandContext context) => Wait(context.Command, after: false);

        public override void Post(CacheCommandContext context) => Wait(context.Command, after: true);

        private void Hold(CacheCommand command, bool after)
        {
            lock (_gates)
            {
                _held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _gates[(command, after)] = new ManualResetEventSlim(false);
            }
        }

        private void Wait(CacheCommand command, bool after)
        {
            ManualResetEventSlim? gate;
            TaskCompletionSource held;
            lock (_gates)
            {
                _gates.TryGetValue((command, after), out gate);
                held = _held;
            }

            if (gate is not null)
            {
                held.TrySetResult();
                gate.Wait(TimeSpan.FromSeconds(10));
            }
        }
    }

    /// <summary>Cancels its source once L2 has applied one command, as a caller that stops waiting just then.</summary>
    private sealed class CancelAfterCommand(CacheCommand command, CancellationTokenSource source) : CachePlugin
    {
        private bool _armed;

        public bool Cancelled { get; private set; }

        /// <summary>From now on: the test's own setup writes pass.</summary>
        public void Arm() => _armed = true;

        public override void Post(CacheCommandContext context)
        {
            if (_armed && context.Command == command && !Cancelled)
            {
                Cancelled = true;
                source.Cancel();
                source.Token.ThrowIfCancellationRequested();
            }
        }
    }

    [Test]
    public async Task Clear_empties_both_levels_on_every_node([Values] bool async)
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        nodes.A.Set("k", "v");
        nodes.B.Get<string>("k");

        Assert.That(async ? await nodes.A.ClearAsync() : nodes.A.Clear(), Is.True);

        Assert.That(nodes.B.L1.Exists("k") || nodes.A.L1.Exists("k") || nodes.A.L2.Exists("k"), Is.False);
    }

    [Test]
    public async Task Clear_of_one_namespace_empties_L1_whole_on_every_node_as_an_L2_entry_may_have_copies_under_other_names([Values] bool async)
    {
        // multilevel.md, Clear: "L1 is emptied whole, on every node" (on Redis, user:2 without a namespace is 2 in user).
        using var nodes = new Nodes(new SimpleMemoryCache());
        nodes.A.Set("2", "v", @namespace: "user");
        nodes.A.Set("user:2", "w");
        // The copies each node's L1 may hold, planted so that the test does not depend on when a read copies (a write
        // through each node first, so that it listens to the backplane).
        foreach (var node in nodes.All)
        {
            node.Set("other", "o");
            node.L1.Set("2", "v", @namespace: "user");
            node.L1.Set("user:2", "w");
        }

        Assert.That(async ? await nodes.A.ClearAsync("user") : nodes.A.Clear("user"), Is.True);

        Assert.That(
            (nodes.A.L1.Exists("user:2"), nodes.B.L1.Exists("user:2"), nodes.B.L1.Exists("2", "user"), nodes.A.L2.Exists("user:2")),
            Is.EqualTo((false, false, false, false)),
            "L1 emptied on both nodes; L2 removes the entry written without a namespace, one of the namespace's keys");
        Assert.That(nodes.A.Get<string>("other"), Is.EqualTo("o"), "other keys stay in L2");
    }

    [Test]
    public async Task MultiGet_answers_from_L1_and_reads_the_rest_from_L2_in_one_batch([Values] bool async)
    {
        var counter = new CountingPlugin();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [counter] });
        cache.L1.Set("a", 1);
        cache.L2.MultiSet([KeyValuePair.Create("b", 2), KeyValuePair.Create("c", 3)]);

        var values = async ? await cache.MultiGetAsync<int>(["a", "b", "c", "d"]) : cache.MultiGet<int>(["a", "b", "c", "d"]);

        Assert.That(values, Is.EqualTo(new[] { 1, 2, 3, 0 }));
        Assert.That(counter.MultiGets, Is.EqualTo(1));
        Assert.That(counter.MultiGetKeys.Single(), Is.EqualTo(new[] { "b", "c", "d" }));
        Assert.That(cache.L1.MultiGet<int>(["b", "c"]), Is.EqualTo(new[] { 2, 3 }), "L1 took the L2 hits");
    }

    [Test]
    public async Task Raw_goes_to_L2([Values] bool async)
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        cache.L2.Set("k", "v");

        var keys = async ? await cache.RawAsync("keys") : cache.Raw("keys");

        Assert.That(keys, Is.EquivalentTo(new[] { "k" }));
    }

    [Test]
    public void A_read_of_L2_that_a_change_overtakes_does_not_put_the_old_value_in_L1()
    {
        var hold = new ReadHold("k");
        using var nodes = new Nodes(new SimpleMemoryCache { Plugins = [hold] });
        nodes.A.L2.Set("k", "old");

        // B reads "old" from L2 and is held before it copies it into its L1; meanwhile A writes "new".
        var read = Task.Run(() => nodes.B.Get<string>("k"));
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True);
        nodes.A.Set("k", "new");
        hold.Release.Set();

        Assert.That(read.Wait(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(read.Result, Is.EqualTo("old"), "the read began before the write");
        Assert.That(nodes.B.L1.Exists("k"), Is.False, "the message moved B's fence: the old value was not kept");
        Assert.That(nodes.B.Get<string>("k"), Is.EqualTo("new"));
    }

    [Test]
    public void Lost_messages_empty_L1()
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        nodes.A.Set("k", "v");
        nodes.B.Get<string>("k");

        nodes.Backplane.ReportMessagesMayBeLost();

        Assert.That(nodes.A.L1.Exists("k") || nodes.B.L1.Exists("k"), Is.False);
        Assert.That(nodes.B.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public void A_message_in_an_unknown_format_counts_as_lost()
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        nodes.B.Set("k", "v");
        var bytes = new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Set, null, ["other"], DateTimeOffset.UtcNow).ToBytes();
        bytes[0] = 99;

        Assert.That(BackplaneMessage.TryParse(bytes, out _), Is.False);
        IBackplaneSubscriber subscriber = nodes.B;
        subscriber.OnMessagesMayBeLost();
        Assert.That(nodes.B.L1.Exists("k"), Is.False);
    }

    [Test]
    public void Two_key_spaces_on_one_backplane_do_not_flush_each_other()
    {
        var backplane = new MemoryBackplane();
        var shared = new SimpleMemoryCache();
        using var ours = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Namespace = "ours" }, backplane);
        using var theirs = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Namespace = "theirs" }, backplane);
        ours.Set("k", "ours");
        theirs.Set("k", "theirs");

        Assert.That(ours.Channel, Is.Not.EqualTo(theirs.Channel));
        theirs.Delete("k");
        Assert.That(ours.L1.Get<string>("k", @namespace: "ours"), Is.EqualTo("ours"), "L1 keeps an entry under L2's namespace");
    }

    [Test]
    public async Task A_write_L2_cannot_take_is_kept_in_L1_and_written_when_L2_returns([Values] bool async)
    {
        var outage = new Outage();
        using var nodes = new Nodes(new SimpleMemoryCache { Plugins = [outage] });
        nodes.B.Set("k", "before");
        nodes.A.Get<string>("k");
        outage.Down = true;

        Assert.That(async ? await nodes.A.SetAsync("k", "during") : nodes.A.Set("k", "during"), Is.True, "the write is not lost");
        Assert.That(nodes.A.Get<string>("k"), Is.EqualTo("during"), "L1 answers while L2 is down");
        Assert.That(nodes.A.PendingWriteCount, Is.EqualTo(1));

        outage.Down = false;
        await Waits.Until(() => nodes.A.PendingWriteCount == 0);
        Assert.That(nodes.L2.Get<string>("k"), Is.EqualTo("during"));
        Assert.That(nodes.B.Get<string>("k"), Is.EqualTo("during"), "the retried write was announced: B dropped its copy");
    }

    [Test]
    public async Task A_key_deleted_while_L2_was_unreachable_reads_as_a_miss_until_the_delete_lands([Values] bool async)
    {
        // L2 answers reads again, but the delete still waits (its writes still fail): every read path answers a miss
        // for the deleted key rather than the entry L2 still holds, and L2's other entries as they are.
        var outage = new Outage();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });
        cache.Set("gone", "old");
        cache.Set("kept", "value");
        outage.Down = true;
        cache.Delete("gone");
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        outage.WritesOnly = true;
        cache.L1.Clear();

        var single = async ? (await cache.TryGetAsync<string>("gone")).Found : cache.TryGet<string>("gone", out _);
        var batch = async ? await cache.MultiTryGetAsync<string>(["gone", "kept"]) : cache.MultiTryGet<string>(["gone", "kept"]);

        Assert.That(single, Is.False, "one key");
        Assert.That(batch.Select(static r => r.Found), Is.EqualTo(new[] { false, true }), "a batch");
        Assert.That(cache.L1.Exists("gone", cache.L2.Namespace), Is.False, "L1 took no copy of the dropped entry");
        Assert.That(cache.L2.Get<string>("gone"), Is.EqualTo("old"), "L2 still holds it");

        outage.Down = false;
        await Waits.Until(() => cache.PendingWriteCount == 0);
        Assert.That(cache.L2.Exists("gone"), Is.False);
    }

    [Test]
    public async Task Waiting_writes_keep_the_newest_per_key_and_their_order()
    {
        var outage = new Outage { Down = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });
        cache.Set("a", 1);
        cache.Set("b", 1);
        cache.Set("a", 2);
        cache.Delete("b");

        Assert.That(cache.PendingWriteCount, Is.EqualTo(2), "one per key");
        outage.Down = false;
        await Waits.Until(() => cache.PendingWriteCount == 0);
        Assert.That(cache.L2.Get<int>("a"), Is.EqualTo(2));
        Assert.That(cache.L2.Exists("b"), Is.False);
    }

    [Test]
    public void The_waiting_queue_is_bounded_dropping_the_oldest()
    {
        var outage = new Outage { Down = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] }) { PendingWriteLimit = 3 };
        for (var i = 0; i < 5; i++)
        {
            cache.Set("k" + i, i);
        }

        Assert.That(cache.PendingWriteCount, Is.EqualTo(3));
    }

    [Test]
    public void Add_and_Increment_need_L2_and_fail_when_it_is_down()
    {
        var outage = new Outage { Down = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });

        Assert.Throws<CacheBackendException>(() => cache.Add("k", 1));
        Assert.Throws<CacheBackendException>(() => cache.Increment("n"));
        Assert.That(cache.PendingWriteCount, Is.Zero);
    }

    [Test]
    public void Add_of_an_existing_key_fails_as_L2_does()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        cache.Set("k", 1);

        Assert.Throws<KeyExistsException>(() => cache.Add("k", 2));
        Assert.That(cache.Get<int>("k"), Is.EqualTo(1));
    }

    [Test]
    public void Bad_arguments_are_refused_naming_them()
    {
        var cache = new SimpleMemoryCache();
        Assert.That(Assert.Throws<ArgumentNullException>(() => new MultiLevelCache(null!, cache))!.ParamName, Is.EqualTo("l1"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => new MultiLevelCache(cache, null!))!.ParamName, Is.EqualTo("l2"));
        Assert.That(Assert.Throws<ArgumentException>(() => new MultiLevelCache(cache, cache))!.ParamName, Is.EqualTo("l2"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new MultiLevelCache(cache, new SimpleMemoryCache()) { L1Ttl = TimeSpan.Zero })!.ParamName, Is.EqualTo("L1Ttl"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new MultiLevelCache(cache, new SimpleMemoryCache()) { PendingWriteLimit = 0 })!.ParamName, Is.EqualTo("PendingWriteLimit"));
    }

    [Test]
    public void It_owns_its_levels_and_backplane()
    {
        var l1 = new SimpleMemoryCache();
        var l2 = new SimpleMemoryCache();
        var backplane = new MemoryBackplane();
        var cache = new MultiLevelCache(l1, l2, backplane);
        cache.Set("k", 1);

        cache.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cache.Get<int>("k"));
        Assert.Throws<ObjectDisposedException>(() => backplane.Publish("c", new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Clear, null, [], DateTimeOffset.UtcNow)));
    }

    [Test]
    public void Generated_method_capabilities_come_from_the_right_level()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        cache.L1.Set("k", "v");
        ISpanReadableCache reader = cache;

        Assert.That(reader.CanReadBySpan(null, out var ns), Is.True);
        Assert.That(reader.TryReadBySpan("k", ns, out var payload), Is.EqualTo(SpanRead.Hit));
        Assert.That(payload, Is.EqualTo("v"));

        ILockingCache locks = cache;
        Assert.That(locks.TryAcquireLock("job", null, Guid.NewGuid().ToString(), TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(((ILockingCache)cache.L2).IsLocked("job", null), Is.True, "the lease lives in L2, which every node shares");
    }

    [Test]
    public void A_fill_goes_to_L2_then_L1_and_is_announced()
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        nodes.L2.Set("k", "stale");
        Assert.That(nodes.B.Get<string>("k"), Is.EqualTo("stale"));
        nodes.L2.Delete("k");
        IFencedFillCache fills = nodes.A;

        using (var ticket = fills.OpenFill("k"))
        {
            Assert.That(fills.TryFill(ticket, "filled", TimeSpan.FromMinutes(1)), Is.True);
        }

        Assert.That(nodes.L2.Get<string>("k"), Is.EqualTo("filled"));
        Assert.That(nodes.A.L1.Get<string>("k"), Is.EqualTo("filled"));
        Assert.That(nodes.B.L1.Exists("k"), Is.False);
    }

    [Test]
    public void A_fill_overtaken_by_a_write_stores_nothing_on_either_level()
    {
        using var nodes = new Nodes(new SimpleMemoryCache());
        IFencedFillCache fills = nodes.A;
        using var ticket = fills.OpenFill("k");
        nodes.A.Set("k", "written");

        Assert.That(fills.TryFill(ticket, "late fill"), Is.False);
        Assert.That(nodes.A.Get<string>("k"), Is.EqualTo("written"));
        Assert.That(nodes.A.L1.Get<string>("k"), Is.EqualTo("written"));
    }
}
