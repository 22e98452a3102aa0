using Cached.Tests.Capabilities;

namespace Cached.Tests.MultiLevel;

/// <summary>
/// OptimisticLock on a two-level cache (README: "on every backend"): the version and the write are L2's, the node's L1
/// copy is dropped when the lock is taken, and a write that took reaches the other nodes' L1.
/// </summary>
public sealed class MultiLevelOptimisticLockTests
{
    private readonly List<MultiLevelCache> _nodes = [];

    [TearDown]
    public void DisposeNodes()
    {
        foreach (var node in _nodes)
        {
            node.Dispose();
        }

        _nodes.Clear();
    }

    [Test]
    public async Task A_check_and_set_reads_L2_under_the_lock_and_reaches_the_other_node([Values] bool async)
    {
        var (l2, backplane) = (new SimpleMemoryCache(), new MemoryBackplane());
        var a = Node(l2, backplane);
        var b = Node(l2, backplane);
        a.Set("counter", 1);
        Assert.That(b.Get<int>("counter"), Is.EqualTo(1));
        Assert.That(b.IsInL1("counter"), Is.True);

        // Another node's write whose message has not reached B yet: B's L1 copy is older than L2.
        l2.Set("counter", 5);

        if (async)
        {
            await using var lck = await OptimisticLock.AcquireAsync(b, "counter");
            var seen = await b.GetAsync<int>("counter");
            Assert.That(seen, Is.EqualTo(5), "the value read under the lock comes from L2, not B's older copy");
            await lck.CasAsync(seen + 1);
        }
        else
        {
            using var lck = new OptimisticLock(b, "counter");
            var seen = b.Get<int>("counter");
            Assert.That(seen, Is.EqualTo(5), "the value read under the lock comes from L2, not B's older copy");
            lck.Cas(seen + 1);
        }

        Assert.That(l2.Get<int>("counter"), Is.EqualTo(6));
        Assert.That(a.Get<int>("counter"), Is.EqualTo(6), "A's copy was dropped by B's message");
        Assert.That(b.Get<int>("counter"), Is.EqualTo(6));
    }

    [Test]
    public void A_check_and_set_loses_to_another_node_s_write_and_writes_nothing()
    {
        var (l2, backplane) = (new SimpleMemoryCache(), new MemoryBackplane());
        var a = Node(l2, backplane);
        var b = Node(l2, backplane);
        a.Set("counter", 1);

        using var lck = new OptimisticLock(b, "counter");
        a.Set("counter", 2);

        Assert.Throws<OptimisticLockException>(() => lck.Cas(10));
        Assert.That(l2.Get<int>("counter"), Is.EqualTo(2));
        Assert.That(b.Get<int>("counter"), Is.EqualTo(2));
    }

    [Test]
    public void An_L2_that_cannot_compare_and_set_is_refused_with_the_reason()
    {
        var node = new MultiLevelCache(new SimpleMemoryCache(), new DelegatingCache(new SimpleMemoryCache()));
        _nodes.Add(node);

        var refused = Assert.Throws<ArgumentException>(() => _ = new OptimisticLock(node, "counter"));

        Assert.That(refused!.ParamName, Is.EqualTo("cache"));
        Assert.That(refused.Message, Does.Contain("L2").And.Contain(nameof(DelegatingCache)));
    }

    private MultiLevelCache Node(SimpleMemoryCache l2, MemoryBackplane backplane)
    {
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane);
        _nodes.Add(node);
        return node;
    }
}
