namespace Cached.Tests.MultiLevel;

/// <summary>
/// Regression tests from the review of the two-level cache: each forces an interleaving or a fault that once left a
/// stale value in L1 or lost a write.
/// </summary>
public sealed class MultiLevelRaceTests
{
    [Test]
    public void One_L2_entry_is_one_L1_entry_whether_its_namespace_is_given_or_the_default()
    {
        var backplane = new MemoryBackplane();
        var l2 = new SimpleMemoryCache { Namespace = "main" };
        using var a = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane);
        using var b = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane);
        a.Set("k", "old");
        Assert.That(b.Get<string>("k"), Is.EqualTo("old"), "B reads with the default namespace");

        a.Set("k", "new", @namespace: "main");

        Assert.That(b.Get<string>("k"), Is.EqualTo("new"));
        Assert.That(b.Get<string>("k", @namespace: "main"), Is.EqualTo("new"));
    }

    [Test]
    public void A_write_overtaken_in_L2_by_another_node_s_write_does_not_stay_in_L1()
    {
        var hold = new WriteHold();
        using var nodes = new Nodes(new SimpleMemoryCache { Plugins = [hold] });
        nodes.A.Set("warm", 0);
        nodes.B.Set("warm", 0);

        // A's v1 reaches L2 and A is held before it copies v1 into its L1; B then writes v2 and tells A.
        hold.Arm();
        var first = Task.Run(() => nodes.A.Set("k", "v1"));
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True);
        nodes.B.Set("k", "v2");
        hold.Release.Set();
        Assert.That(first.Wait(TimeSpan.FromSeconds(10)), Is.True);

        Assert.That(nodes.L2.Get<string>("k"), Is.EqualTo("v2"));
        Assert.That(nodes.A.Get<string>("k"), Is.EqualTo("v2"), "A's own older value was refused by its L1");
    }

    [Test]
    public async Task A_waiting_Set_followed_by_an_Expire_keeps_its_value()
    {
        var outage = new Outage();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });
        cache.L2.Set("gone", "old value");
        outage.Down = true;
        cache.Set("kept", "v");
        cache.Expire("kept", TimeSpan.FromMinutes(5));
        cache.Delete("gone");
        cache.Expire("gone", TimeSpan.FromMinutes(5));

        outage.Down = false;
        await Waits.Until(() => cache.PendingWriteCount == 0);

        Assert.That(cache.L2.Get<string>("kept"), Is.EqualTo("v"), "the expiry changed the waiting value's life, not replaced it");
        Assert.That(cache.L2.Exists("gone"), Is.False, "an expiry after a waiting delete does not bring the value back");
    }

    [Test]
    public async Task A_waiting_Set_with_a_zero_ttl_is_written_without_expiry()
    {
        var outage = new Outage { Down = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });
        cache.Set("k", "forever", TimeSpan.Zero);
        Assert.That(cache.L1.Exists("k"), Is.True, "zero means no expiry, not already expired");

        outage.Down = false;
        await Waits.Until(() => cache.PendingWriteCount == 0);

        Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("forever"));
    }

    [Test]
    public void A_write_that_reaches_L2_cancels_an_older_one_still_waiting()
    {
        var outage = new Outage { Down = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] });
        cache.WaitingWrites.FirstRetryDelay = TimeSpan.FromSeconds(30);
        cache.Set("k", "older");
        outage.Down = false;

        cache.Set("k", "newer");

        Assert.That(cache.PendingWriteCount, Is.Zero);
        Assert.That(cache.L2.Get<string>("k"), Is.EqualTo("newer"));
    }

    [Test]
    public async Task A_replayed_write_replaces_an_older_value_this_node_read_meanwhile()
    {
        var outage = new Outage();
        var backplane = new MemoryBackplane();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [outage] }, backplane);
        cache.WaitingWrites.FirstRetryDelay = TimeSpan.FromMilliseconds(10);
        cache.WaitingWrites.MaxRetryDelay = TimeSpan.FromMilliseconds(20);
        cache.Set("k", "v0");
        outage.Down = true;
        cache.Set("k", "v1");

        // L2 answers reads again but not yet the retried write; a reconnect empties L1 and a read takes v0 from L2.
        outage.WritesOnly = true;
        backplane.ReportMessagesMayBeLost();
        Assert.That(cache.Get<string>("k"), Is.EqualTo("v0"));
        Assert.That(cache.PendingWriteCount, Is.EqualTo(1));
        outage.Down = false;
        await Waits.Until(() => cache.PendingWriteCount == 0);

        Assert.That(cache.Get<string>("k"), Is.EqualTo("v1"));
    }

    [Test]
    public void A_refusal_by_a_backend_that_answered_is_not_queued_but_thrown()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [new Refusal()] });

        Assert.Throws<CacheBackendException>(() => cache.Set("k", "v"));
        Assert.That(cache.PendingWriteCount, Is.Zero);
        Assert.That(cache.L1.Exists("k"), Is.False);
    }

    [Test]
    public async Task A_message_that_could_not_be_sent_is_sent_when_the_backplane_is_back()
    {
        var backplane = new FlakyBackplane();
        var l2 = new SimpleMemoryCache();
        using var a = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { OwnsBackplane = false };
        using var b = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { OwnsBackplane = false };
        a.Set("k", "old");
        Assert.That(b.Get<string>("k"), Is.EqualTo("old"));

        backplane.FailPublish = true;
        await a.SetAsync("k", "new");
        Assert.That(b.L1.Get<string>("k"), Is.EqualTo("old"), "B was not told");

        backplane.FailPublish = false;
        ((IBackplaneSubscriber)a).OnMessagesMayBeLost();

        Assert.That(b.Get<string>("k"), Is.EqualTo("new"));
    }

    [Test]
    public void A_shared_backplane_outlives_a_cache_that_does_not_own_it()
    {
        var backplane = new MemoryBackplane();
        var l2 = new SimpleMemoryCache();
        var first = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane) { OwnsBackplane = false };
        using var a = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { OwnsBackplane = false };
        using var b = new MultiLevelCache(new SimpleMemoryCache(), l2, backplane) { OwnsBackplane = false };
        first.Dispose();

        a.Set("k", "old");
        b.Get<string>("k");
        a.Set("k", "new");

        Assert.That(b.Get<string>("k"), Is.EqualTo("new"));
    }

    [Test]
    public void A_failed_subscription_is_not_retried_on_every_read()
    {
        var backplane = new FlakyBackplane { FailSubscribe = true };
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane);
        cache.L2.Set("k", "v");

        for (var i = 0; i < 10; i++)
        {
            Assert.That(cache.Get<string>("k"), Is.EqualTo("v"), "reads go to L2 meanwhile");
        }

        Assert.That(backplane.Subscribes, Is.EqualTo(1));
        Assert.That(cache.L1.Exists("k"), Is.False, "L1 takes nothing while the backplane cannot tell it about changes");
    }
}
