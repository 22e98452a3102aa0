using Cached.Runtime;
using Cached.Tests.Capabilities;

namespace Cached.Tests.Resilience;

/// <summary>FailSafe on a multi-cached method: a failing body is answered with the last values when every key has one.</summary>
public sealed class MultiCachedFailSafeTests : ResilienceFixture
{
    private sealed class Source
    {
        public bool Down { get; set; }

        public int Version { get; set; } = 1;

        public List<List<int>> Calls { get; } = [];

        public Action? BeforeLoad { get; set; }

        public IEnumerable<KeyValuePair<int, string>> Load(List<int> ids)
        {
            BeforeLoad?.Invoke();
            Calls.Add([.. ids]);
            return Down
                ? throw new InvalidOperationException("source down")
                : ids.ToDictionary(static id => id, id => $"v{Version}:{id}");
        }
    }

    private MultiCachedMethod<int, string> Method()
        => new(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => Cache, Ttl = 10, FailSafe = 60, FailSafeThrottle = 5 });

    private static ValueTask<Dictionary<int, string>> Call(bool async, MultiCachedMethod<int, string> method, Source source, params int[] ids)
        => async
            ? method.InvokeAsync(ids, source, static (_, id) => "price:" + id, static (s, missing, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(s.Load(missing)), null, CancellationToken.None)
            : new ValueTask<Dictionary<int, string>>(method.Invoke(ids, source, static (_, id) => "price:" + id, static (s, missing) => s.Load(missing)));

    [Test]
    public async Task A_failing_body_is_answered_with_the_last_values_and_the_retries_are_throttled([Values] bool async)
    {
        var method = Method();
        var source = new Source();
        await Call(async, method, source, 1, 2);
        Time.Advance(TimeSpan.FromSeconds(11));
        source.Down = true;

        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }));
        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }));
        Assert.That(source.Calls, Has.Count.EqualTo(2), "the second call fell in the throttle");
        Assert.That(Logs.Entries.Count(static e => e.EventId == 7), Is.EqualTo(1));
    }

    private MultiCachedMethod<int, string> MethodOn(ICache cache)
        => new(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => cache, Ttl = 10, FailSafe = 60, FailSafeThrottle = 5 });

    [Test]
    public async Task A_batch_that_read_a_stale_entry_another_batch_then_answered_with_reads_the_throttled_entry_rather_than_ask_the_failing_body([Values] bool async)
    {
        using var backend = new ShortBackend { TimeProvider = Time };
        var method = MethodOn(backend);
        var source = new Source();
        await Call(async, method, source, 1);
        Time.Advance(TimeSpan.FromSeconds(11));
        source.Down = true;
        backend.HoldNextReadAfterReading("price:1");
        var held = Task.Run(() => Call(async, method, source, 1).AsTask());
        Assert.That(backend.ReadEntered.Wait(Limit), Is.True, "the batch never read");

        // Another batch reads the same stale entry; its body fails, and it answers with the last value, written back fresh.
        Assert.That(await Call(async, method, source, 1), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1" }));
        backend.ReadGate.Set();

        Assert.That(await held.WaitAsync(Limit), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1" }));
        Assert.That(source.Calls, Has.Count.EqualTo(2), "the held batch read the throttled entry again: the failing source was asked once");
    }

    [Test]
    public async Task A_batch_whose_second_read_finds_a_key_gone_has_no_last_value_for_it([Values] bool async)
    {
        using var backend = new ShortBackend { TimeProvider = Time };
        var method = MethodOn(backend);
        var source = new Source();
        await Call(async, method, source, 1);
        Time.Advance(TimeSpan.FromSeconds(11));
        backend.HoldNextReadAfterReading("price:1");
        var held = Task.Run(() => Call(async, method, source, 1).AsTask());
        Assert.That(backend.ReadEntered.Wait(Limit), Is.True, "the batch never read");

        // While it holds the stale v1, another batch stores v2 and the key is then deleted: v1 is older than that delete.
        source.Version = 2;
        Assert.That(await Call(async, method, source, 1), Is.EqualTo(new Dictionary<int, string> { [1] = "v2:1" }));
        backend.Delete("price:1");
        source.Down = true;
        backend.ReadGate.Set();

        Assert.ThrowsAsync<InvalidOperationException>(async () => await held.WaitAsync(Limit));
    }

    [Test]
    public async Task On_two_levels_a_second_call_hits_and_a_failing_body_is_answered_with_the_last_values([Values] bool async, [Values] bool fromL2, [Values] bool bytesInL2)
    {
        // The stamped entries go into L1 as well: both the L1 copy and, on another node, the L2 entry must read back. An
        // L2 that keeps bytes (Redis, here JSON in memory) reads with a serializer for bytes, and L1 still holds references.
        var shared = new SimpleMemoryCache { TimeProvider = Time, Serializer = bytesInL2 ? new Cached.Serializers.JsonSerializer() : new Cached.Serializers.NullSerializer() };
        using var writer = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, shared);
        using var reader = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, shared);
        var source = new Source();
        await Call(async, new(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => writer, Ttl = 10, FailSafe = 60 }), source, 1, 2);
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => fromL2 ? reader : writer, Ttl = 10, FailSafe = 60 });

        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }));
        Assert.That(source.Calls, Has.Count.EqualTo(1), "the second call hit");
        Assert.That(Logs.Entries.Where(static e => e.Exception is not null).Select(static e => e.Exception!.Message), Is.Empty, "no read failed");

        Time.Advance(TimeSpan.FromSeconds(11));
        source.Down = true;
        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }), "the last values");
    }

    [Test]
    public async Task On_two_levels_a_stale_L1_copy_sends_its_key_to_L2_where_a_fresher_value_another_node_wrote_answers([Values] bool async, [Values] bool bytesInL2)
    {
        // No backplane: node B's copy outlives A's refresh, as it does while a message is on its way or was lost.
        var shared = new SimpleMemoryCache { TimeProvider = Time, Serializer = bytesInL2 ? new Cached.Serializers.JsonSerializer() : new Cached.Serializers.NullSerializer() };
        using var a = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, shared);
        using var b = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, shared);
        MultiCachedMethod<int, string> On(ICache node) => new(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => node, Ttl = 10, FailSafe = 60 });
        var onA = On(a);
        var onB = On(b);
        var source = new Source();
        await Call(async, onA, source, 1, 2);
        await Call(async, onB, source, 1, 2);
        Assert.That(source.Calls, Has.Count.EqualTo(1), "B's call hit L2 and copied both entries into its L1");

        Time.Advance(TimeSpan.FromSeconds(11));
        source.Version = 2;
        await Call(async, onA, source, 1, 2);
        Assert.That(source.Calls, Has.Count.EqualTo(2), "A refreshed both stale entries");

        Assert.That(await Call(async, onB, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v2:1", [2] = "v2:2" }));
        Assert.That(source.Calls, Has.Count.EqualTo(2), "B's stale copies sent the keys on to L2, which held A's fresh values: no body call");
    }

    [Test]
    public async Task On_two_levels_with_L2_down_a_key_L1_holds_no_copy_of_lets_the_failure_through([Values] bool async)
    {
        var l2 = new Cached.Tests.Runtime.TestBackend { TimeProvider = Time };
        using var node = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, l2);
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => node, Ttl = 10, FailSafe = 60 });
        var source = new Source();
        await Call(async, method, source, 1, 2);
        Time.Advance(TimeSpan.FromSeconds(11));
        l2.FailAll = true;
        source.Down = true;

        // Keys 1 and 2 have stale copies in L1, key 3 none: L1 cannot stand in for L2's whole answer.
        Assert.That(async () => await Call(async, method, source, 1, 2, 3), Throws.InvalidOperationException.With.Message.EqualTo("source down"));
        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }), "with a copy of every key they are the last values");
    }

    [Test]
    public async Task On_two_levels_with_L2_down_the_last_values_L1_holds_answer_and_are_fresh_there_for_the_throttle([Values] bool async)
    {
        var l2 = new Cached.Tests.Runtime.TestBackend { TimeProvider = Time };
        using var node = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, l2);
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Prices.GetMany", CacheFactory = () => node, Ttl = 10, FailSafe = 60, FailSafeThrottle = 5 });
        var source = new Source();
        await Call(async, method, source, 1, 2);
        Time.Advance(TimeSpan.FromSeconds(11));
        l2.FailAll = true;
        source.Down = true;

        for (var i = 0; i < 3; i++)
        {
            Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }));
        }

        Assert.That(source.Calls, Has.Count.EqualTo(2), "one call to fill, one failing call within the throttle (not one per call)");
        Time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v1:2" }));
        Assert.That(source.Calls, Has.Count.EqualTo(3), "past the throttle the source is asked again");
    }

    [Test]
    public async Task On_two_levels_with_a_backplane_tagged_entries_hit_and_one_tag_s_invalidation_recomputes_only_its_key([Values] bool async, [Values] bool bytesInL2)
    {
        var l2 = new SimpleMemoryCache { TimeProvider = Time, Serializer = bytesInL2 ? new Cached.Serializers.JsonSerializer() : new Cached.Serializers.NullSerializer() };
        using var node = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = Time }, l2, new MemoryBackplane());
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Prices.GetTagged", CacheFactory = () => node, Ttl = 10 });
        var source = new Source();
        async Task<Dictionary<int, string>> Call() => async
            ? await method.InvokeAsync([1, 2, 3], source, static (_, id) => "price:" + id, static (s, missing, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(s.Load(missing)), null, static (_, id) => ["price:" + id], CancellationToken.None)
            : method.Invoke([1, 2, 3], source, static (_, id) => "price:" + id, static (s, missing) => s.Load(missing), null, static (_, id) => ["price:" + id]);

        await Call();
        await Call();
        Assert.That(source.Calls, Has.Count.EqualTo(1), "the second call hit");

        Assert.That(Logs.Entries.Where(static e => e.Exception is not null).Select(static e => e.Exception!.Message), Is.Empty, "no read failed");
        node.InvalidateTags("price:2");
        source.Version = 2;
        Assert.That(await Call(), Is.EqualTo(new Dictionary<int, string> { [1] = "v1:1", [2] = "v2:2", [3] = "v1:3" }));
        Assert.That(source.Calls.Last(), Is.EqualTo(new[] { 2 }), "only the invalidated key went to the body");
    }

    [Test]
    public async Task Fresh_keys_are_hits_and_only_the_stale_ones_go_to_the_body([Values] bool async)
    {
        var method = Method();
        var source = new Source();
        await Call(async, method, source, 1);
        Time.Advance(TimeSpan.FromSeconds(6));
        await Call(async, method, source, 2);
        Time.Advance(TimeSpan.FromSeconds(5));
        source.Version = 2;

        Assert.That(await Call(async, method, source, 1, 2), Is.EqualTo(new Dictionary<int, string> { [1] = "v2:1", [2] = "v1:2" }));
        Assert.That(source.Calls.Last(), Is.EqualTo(new[] { 1 }), "key 2 is still fresh");
    }

    [Test]
    public async Task A_key_with_no_last_value_lets_the_failure_through([Values] bool async)
    {
        var method = Method();
        var source = new Source();
        await Call(async, method, source, 1);
        Time.Advance(TimeSpan.FromSeconds(11));
        source.Down = true;

        Assert.That(async () => await Call(async, method, source, 1, 3), Throws.InvalidOperationException, "key 3 was never stored");
    }

    [Test]
    public async Task A_last_value_whose_FailSafe_window_ends_while_the_body_runs_is_not_served([Values] bool async)
    {
        var method = Method();
        var source = new Source();
        await Call(async, method, source, 1, 2);
        Time.Advance(TimeSpan.FromSeconds(65));
        source.Down = true;
        source.BeforeLoad = () => Time.Advance(TimeSpan.FromSeconds(6));

        // Read at 65 s, kept until 70 s: the body fails at 71 s.
        Assert.That(async () => await Call(async, method, source, 1, 2), Throws.InvalidOperationException.With.Message.EqualTo("source down"));
    }

    [Test]
    public async Task Past_FailSafe_the_failure_propagates([Values] bool async)
    {
        var method = Method();
        var source = new Source();
        await Call(async, method, source, 1);
        Time.Advance(TimeSpan.FromSeconds(71));
        source.Down = true;

        Assert.That(async () => await Call(async, method, source, 1), Throws.InvalidOperationException);
    }

    [Test]
    public async Task Its_entries_are_the_ones_GetOrSet_reads_with_the_same_options()
    {
        var method = Method();
        await Call(async: true, method, new Source(), 1);
        Time.Advance(TimeSpan.FromSeconds(11));
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), FailSafe = TimeSpan.FromSeconds(60) };

        Assert.That(Cache.GetOrSet<string>("price:1", _ => throw new InvalidOperationException(), options), Is.EqualTo("v1:1"));
    }
}
