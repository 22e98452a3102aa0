using StackExchange.Redis;
using static Cached.Redis.RedisValues;

namespace Cached.Redis;

/// <summary>
/// How multi-key commands meet Redis Cluster: keys grouped by hash slot (one command per slot, all in flight
/// together), commands that must reach every primary, and the batch writes built per group.
/// </summary>
internal static class RedisSlots
{
    internal static async Task UnlinkAsync(IDatabase db, List<string> keys)
    {
        // A namespace may have no keys on a primary: UNLINK with no key is an error, so send nothing (aiocache #472).
        if (keys.Count == 0)
        {
            return;
        }

        foreach (var group in SlotGroups(db.Multiplexer, keys))
        {
            await db.ExecuteAsync("UNLINK", group.Keys.Cast<object>().ToArray()).ConfigureAwait(false);
        }
    }

    internal static IEnumerable<IServer> Primaries(IConnectionMultiplexer multiplexer)
        => multiplexer.GetServers().Where(static server => !server.IsReplica);

    /// <summary>The keys grouped by hash slot on a cluster (one command per slot), or a single group on a standalone server.</summary>
    internal static List<SlotGroup> SlotGroups(IConnectionMultiplexer multiplexer, IReadOnlyList<string> keys)
    {
        var all = new RedisKey[keys.Count];
        var indexes = new int[keys.Count];
        for (var i = 0; i < all.Length; i++)
        {
            all[i] = keys[i];
            indexes[i] = i;
        }

        if (keys.Count <= 1 || !IsCluster(multiplexer))
        {
            return [new SlotGroup(all, indexes)];
        }

        return Enumerable.Range(0, keys.Count)
            .GroupBy(i => multiplexer.HashSlot(all[i]))
            .Select(group => new SlotGroup(group.Select(i => all[i]).ToArray(), group.ToArray()))
            .ToList();
    }

    internal static bool IsCluster(IConnectionMultiplexer multiplexer)
        => multiplexer.GetServers().Any(static server => server.ServerType == ServerType.Cluster);

    internal static KeyValuePair<RedisKey, RedisValue>[] Pairs(IReadOnlyList<KeyValuePair<string, object?>> entries, SlotGroup group)
        => group.Indexes.Select(i => new KeyValuePair<RedisKey, RedisValue>(entries[i].Key, ToValue(entries[i].Value))).ToArray();

    /// <summary>A transaction that sets every pair of the group with its TTL: one round trip, all or nothing.</summary>
    internal static TtlBatch SetWithTtl(IDatabase db, IReadOnlyList<KeyValuePair<string, object?>> entries, SlotGroup group, TimeSpan ttl)
    {
        var transaction = db.CreateTransaction();
        var writes = new Task<bool>[group.Indexes.Length];
        for (var i = 0; i < writes.Length; i++)
        {
            var entry = entries[group.Indexes[i]];
            writes[i] = transaction.StringSetAsync(entry.Key, ToValue(entry.Value), ttl, When.Always);
        }

        return new TtlBatch(transaction, writes);
    }

    /// <summary>
    /// A batch write with a TTL. It reports success only when the transaction committed and every write in it
    /// succeeded: a committed transaction whose commands failed inside it stored nothing.
    /// </summary>
    internal sealed class TtlBatch(ITransaction transaction, Task<bool>[] writes)
    {
        public bool Execute()
        {
            if (!transaction.Execute())
            {
                return false;
            }

            var stored = true;
            foreach (var write in writes)
            {
                stored &= write.GetAwaiter().GetResult();
            }

            return stored;
        }

        public async Task<bool> ExecuteAsync()
        {
            if (!await transaction.ExecuteAsync().ConfigureAwait(false))
            {
                return false;
            }

            var stored = true;
            foreach (var write in writes)
            {
                stored &= await write.ConfigureAwait(false);
            }

            return stored;
        }
    }

    /// <summary>The keys of one hash slot and their positions in the caller's list.</summary>
    internal sealed record SlotGroup(RedisKey[] Keys, int[] Indexes);
}
