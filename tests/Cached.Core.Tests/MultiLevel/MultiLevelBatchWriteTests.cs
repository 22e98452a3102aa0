namespace Cached.Tests.MultiLevel;

/// <summary>
/// A batch write of a two-level cache puts every value it wrote into L1. Its keys share the first level's fixed set of
/// fences, and a fence remembers only its last 8 moves: when each key's copy moved its fence before the next key's
/// went in, the ninth key of a fence found it moved by writes it could not tell apart, and its copy was refused.
/// </summary>
public sealed class MultiLevelBatchWriteTests
{
    // About ten keys a fence (1,024 fences), so that many fences carry more than eight keys of the batch.
    private const int Keys = 10_000;

    private static KeyValuePair<string, int>[] Batch() => Enumerable.Range(0, Keys).Select(static i => KeyValuePair.Create($"k{i}", i)).ToArray();

    [Test]
    public async Task A_large_MultiSet_puts_every_value_into_L1([Values] bool async)
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        var batch = Batch();
        if (async)
        {
            await cache.MultiSetAsync(batch);
        }
        else
        {
            cache.MultiSet(batch);
        }

        var missing = batch.Count(pair => !cache.IsInL1(pair.Key));
        Assert.That(missing, Is.Zero, $"{missing} of {Keys} values were kept out of L1");
        Assert.That(batch.All(pair => cache.L1.Get<int>(pair.Key) == pair.Value), Is.True);
    }

    /// <summary>Drops a key's L1 copy once L2 has taken a batch: a change between L2's write and L1's copies.</summary>
    private sealed class DropAfterBatch(string key) : Cached.Plugins.CachePlugin
    {
        public MultiLevelCache? Node { get; set; }

        public override void Post(Cached.Plugins.CacheCommandContext context)
        {
            if (context.Command == Cached.Plugins.CacheCommand.MultiSet)
            {
                Node!.L1.Delete(key);
            }
        }
    }

    [Test]
    public void A_key_of_a_batch_that_a_change_overtook_is_kept_out_of_L1_and_the_others_go_in()
    {
        var drop = new DropAfterBatch("k1");
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache { Plugins = [drop] });
        drop.Node = cache;
        cache.MultiSet([KeyValuePair.Create("k1", 1), KeyValuePair.Create("k2", 2), KeyValuePair.Create("k3", 3)]);

        Assert.That((cache.IsInL1("k1"), cache.IsInL1("k2"), cache.IsInL1("k3")), Is.EqualTo((false, true, true)));
        Assert.That(cache.Get<int>("k1"), Is.EqualTo(1), "the next read asks L2");
    }

    [Test]
    public void A_batch_that_names_a_key_twice_leaves_its_last_value_in_both_levels()
    {
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache());
        cache.MultiSet([KeyValuePair.Create("k", 1), KeyValuePair.Create("k", 2)]);

        Assert.That(cache.L2.Get<int>("k"), Is.EqualTo(2));
        Assert.That(cache.IsInL1("k") ? cache.L1.Get<int>("k") : cache.Get<int>("k"), Is.EqualTo(2));
    }
}
