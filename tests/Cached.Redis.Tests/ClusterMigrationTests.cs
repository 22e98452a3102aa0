using System.Globalization;
using Cached.Capabilities;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// A hash slot caught halfway through a move between primaries (resharding): its keys split between the two, where a
/// command on several of them gets TRYAGAIN from Redis, which asks the client to send it again in a moment.
/// StackExchange.Redis follows MOVED and ASK, not TRYAGAIN: the cache sends such a command again until the keys have
/// moved, within the connection's timeout, rather than failing the call.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ClusterMigrationTests : OwnClusterFixture
{
    private RedisCache _cache = null!;
    private int _tag;

    [SetUp]
    public void Connect() => _cache = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = "m" };

    [TearDown]
    public void Disconnect() => _cache.Dispose();

    [Test]
    public async Task A_batch_read_of_a_slot_split_by_a_move_waits_for_the_move_and_answers_every_key([Values] bool async)
    {
        var (a, b) = KeysOfOneSlot();
        await _cache.MultiSetAsync([KeyValuePair.Create(a, "va"), KeyValuePair.Create(b, "vb")]);
        var move = SplitSlotOf(a, moved: "m:" + a);

        var read = await ThroughTheMove(move, async () => async ? await _cache.MultiGetAsync<string>([a, b]) : _cache.MultiGet<string>([a, b]));

        Assert.That(read, Is.EqualTo(new[] { "va", "vb" }));
    }

    [Test]
    public async Task A_batch_write_to_a_slot_split_by_a_move_waits_for_the_move_and_stores_every_key([Values] bool async, [Values] bool withTtl)
    {
        var (a, b) = KeysOfOneSlot();
        await _cache.MultiSetAsync([KeyValuePair.Create(a, "old"), KeyValuePair.Create(b, "old")]);
        var move = SplitSlotOf(a, moved: "m:" + a);
        var ttl = withTtl ? TimeSpan.FromMinutes(1) : (TimeSpan?)null;
        KeyValuePair<string, string>[] pairs = [KeyValuePair.Create(a, "va"), KeyValuePair.Create(b, "vb")];

        await ThroughTheMove(move, async () =>
        {
            if (async)
            {
                await _cache.MultiSetAsync(pairs, ttl);
            }
            else
            {
                _cache.MultiSet(pairs, ttl);
            }

            return true;
        });

        Assert.That(await _cache.MultiGetAsync<string>([a, b]), Is.EqualTo(new[] { "va", "vb" }));
    }

    [Test]
    public async Task A_read_through_fill_whose_key_and_fence_a_move_splits_stores_once_the_move_ends([Values] bool async)
    {
        // The key was written and deleted: its fence (which keeps an invalidation final across processes) stays on the
        // old owner, the key itself is gone. The fill's script reads both, and the old owner, which lacks one of them,
        // answers TRYAGAIN until the fence has moved too.
        var (a, _) = KeysOfOneSlot();
        await _cache.SetAsync(a, "old");
        await _cache.DeleteAsync(a);
        var move = SplitSlotOf(a, moved: null);
        var fills = (IFencedFillCache)_cache;

        var stored = await ThroughTheMove(move, async () =>
        {
            if (async)
            {
                using var ticket = await fills.OpenFillAsync(a, null, CancellationToken.None);
                return await fills.TryFillManyAsync([KeyValuePair.Create(ticket, "filled")], null, null, CancellationToken.None);
            }
            else
            {
                using var ticket = fills.OpenFill(a, null);
                return fills.TryFillMany([KeyValuePair.Create(ticket, "filled")], null, null);
            }
        });

        Assert.That(stored, Is.EqualTo(1), "the fill stored");
        Assert.That(await _cache.GetAsync<string>(a), Is.EqualTo("filled"));
    }

    /// <summary>Two keys of one hash slot (a hash tag of their own per test), whose owner is the slot's primary now.</summary>
    private (string A, string B) KeysOfOneSlot()
    {
        var tag = "{t" + (++_tag).ToString(CultureInfo.InvariantCulture) + "}";
        return (tag + "a", tag + "b");
    }

    /// <summary>
    /// Starts moving the slot of <paramref name="key"/> to the next primary and moves <paramref name="moved"/> (a key as
    /// stored) alone, leaving the rest on the old owner; then checks that Redis answers TRYAGAIN to a command on both.
    /// </summary>
    private RedisCluster.SlotMove SplitSlotOf(string key, string? moved)
    {
        var slot = Cluster.SlotOf("m:" + key);
        var source = Cluster.OwnerOf(slot);
        var target = Cluster.Nodes[(Cluster.Nodes.ToList().IndexOf(source) + 1) % Cluster.Nodes.Count];
        var move = Cluster.BeginMove(slot, target);
        if (moved is not null)
        {
            move.Migrate(moved);
        }

        return move;
    }

    /// <summary>
    /// Starts <paramref name="call"/> on the thread pool, waits until a primary answered TRYAGAIN to it (their errorstats
    /// count it) while it still runs, then ends the move and returns what the call answers. A call that gave up on
    /// TRYAGAIN has failed by then.
    /// </summary>
    private async Task<T> ThroughTheMove<T>(RedisCluster.SlotMove move, Func<Task<T>> call)
    {
        var before = TryAgains();
        var running = Task.Run(call);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (TryAgains() == before && !running.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(5);
        }

        try
        {
            Assert.That(TryAgains(), Is.GreaterThan(before), "a primary answered TRYAGAIN to the call");
            Assert.That(running.IsFaulted, Is.False, () => $"the call did not fail on TRYAGAIN: {running.Exception?.InnerException}");
        }
        finally
        {
            move.Finish();
        }

        return await running;
    }

    /// <summary>How many TRYAGAIN errors the primaries have answered (<c>INFO errorstats</c>).</summary>
    private long TryAgains()
        => Cluster.Nodes.Sum(node => Direct.GetServer("127.0.0.1", node.Port).Info("errorstats").SelectMany(static section => section)
            .Where(static pair => pair.Key == "errorstat_TRYAGAIN")
            .Sum(static pair => long.Parse(pair.Value.Split('=')[1], CultureInfo.InvariantCulture)));
}
