using Cached.Serializers;
using Cached.Tests.MultiLevel;

namespace Cached.Tests.Tags;

/// <summary>
/// Tags on two levels, nodes joined by a backplane: each test is one of the peers' known failures, forced.
/// L2 keeps bytes (JSON), as a remote L2 does, so L1 copies are made from what L2 returned.
/// </summary>
public sealed class MultiLevelTagTests
{
    private static readonly CacheEntryOptions s_userOne = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:1", "users"] };
    private static readonly CacheEntryOptions s_userTwo = new() { Ttl = TimeSpan.FromMinutes(1), Tags = ["user:2", "users"] };

    private static SimpleMemoryCache RemoteLikeL2(params Cached.Plugins.ICachePlugin[] plugins) => new() { Serializer = new JsonSerializer(), Plugins = plugins };

    [Test]
    public void Another_node_s_invalidation_reaches_this_node_s_L1_every_time_and_spares_other_tags()
    {
        // dotnet/extensions#7411: a node kept the first tag time it fetched and missed later invalidations.
        using var nodes = new Nodes(RemoteLikeL2());
        var calls = 0;
        string Load(CancellationToken _) => "v" + ++calls;
        nodes.A.GetOrSet("u2", _ => "two", s_userTwo);

        for (var round = 1; round <= 3; round++)
        {
            Assert.That(nodes.A.GetOrSet("u1", Load, s_userOne), Is.EqualTo("v" + round));
            Assert.That(nodes.A.IsInL1("u1"), Is.True, "kept in A's L1");
            nodes.B.InvalidateTags("user:1");
        }

        Assert.That(nodes.A.GetOrSet("u1", Load, s_userOne), Is.EqualTo("v4"));
        Assert.That(nodes.A.IsInL1("u2"), Is.True, "another tag's copy stays in L1");
        Assert.That(nodes.A.L1.GetOrSet("u2", _ => "recomputed", s_userTwo), Is.EqualTo("two"), "and is still a hit there");
    }

    [Test]
    public async Task An_L2_read_overtaken_by_an_invalidation_never_becomes_an_L1_hit([Values] bool async)
    {
        // dotnet/extensions#7771: a read compared against a tag time still being fetched and served an invalidated entry.
        var hold = new ReadHold("u1");
        using var nodes = new Nodes(RemoteLikeL2(hold));
        nodes.B.Set("u1", "old", s_userOne);
        var read = async
            ? Task.Run(() => nodes.A.GetOrSetAsync("u1", _ => new ValueTask<string>("recomputed"), s_userOne).AsTask())
            : Task.Run(() => nodes.A.GetOrSet("u1", _ => "recomputed", s_userOne));
        Assert.That(hold.Reached.Wait(TimeSpan.FromSeconds(10)), Is.True, "A has read L2 and is about to copy into L1");

        nodes.B.InvalidateTags("users");
        hold.Release.Set();
        await read;

        Assert.That(nodes.A.GetOrSet("u1", _ => "new", s_userOne), Is.Not.EqualTo("old"), "the read that began before the invalidation leaves nothing behind");
    }

    [Test]
    public void Without_a_backplane_tagged_entries_skip_L1_so_other_nodes_invalidations_are_seen()
    {
        // FusionCache issue 573: without a backplane, nodes kept serving what another node had invalidated.
        var l2 = RemoteLikeL2();
        using var a = new MultiLevelCache(new SimpleMemoryCache(), l2);
        using var b = new MultiLevelCache(new SimpleMemoryCache(), l2);
        a.GetOrSet("u1", _ => "old", s_userOne);
        a.Set("plain", "p");
        Assert.That(a.IsInL1("u1"), Is.False, "a tagged entry is read from L2");
        Assert.That(a.IsInL1("plain"), Is.True, "untagged entries still use L1");

        b.InvalidateTags("user:1");

        Assert.That(a.GetOrSet("u1", _ => "new", s_userOne), Is.EqualTo("new"));
        Assert.That(a.Get<string>("u1"), Is.EqualTo("new"));
    }

    [Test]
    public void A_plain_read_through_two_levels_never_copies_a_tagged_entry_as_its_bare_value()
    {
        using var nodes = new Nodes(RemoteLikeL2());
        nodes.B.Set("u1", "one", s_userOne);

        Assert.That(nodes.A.Get<string>("u1"), Is.EqualTo("one"));
        Assert.That(nodes.A.IsInL1("u1"), Is.False, "a bare copy could not carry its tags");
        nodes.B.InvalidateTags("user:1");
        Assert.That(nodes.A.Get<string>("u1"), Is.Null);
    }

    [Test]
    public async Task A_value_computed_across_another_node_s_invalidation_is_a_miss_on_both_levels()
    {
        using var nodes = new Nodes(RemoteLikeL2());
        using var entered = new SemaphoreSlim(0);
        using var release = new SemaphoreSlim(0);
        var computing = Task.Run(() => nodes.A.GetOrSet("u1", _ =>
        {
            entered.Release();
            release.Wait(TimeSpan.FromSeconds(10));
            return "computed before the save";
        }, s_userOne));
        Assert.That(await entered.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);

        nodes.B.InvalidateTags("user:1");
        release.Release();
        await computing;

        Assert.That(nodes.A.GetOrSet("u1", _ => "after", s_userOne), Is.EqualTo("after"), "not served from A's L1");
        Assert.That(nodes.B.GetOrSet("u1", _ => "after on B", s_userOne), Is.AnyOf("after", "after on B"), "nor from L2");
    }
}
