using StackExchange.Redis;

namespace Cached.Redis;

// Reads of several keys of one hash slot while the slot migrates (resharding). Redis answers TRYAGAIN to such a command
// whenever one of its keys is not on the node that answers: split from the others by the move, or simply missing (a key
// that does not exist may have moved). A batch read with one miss, or a two-level read naming a fence that rarely
// exists, would then wait out the whole move. A read needs no atomicity across its keys, and a command on one key is
// redirected (ASK) rather than refused, so on TRYAGAIN a read asks its keys one by one, at once.
public sealed partial class RedisCache
{
    /// <summary>
    /// The values of <paramref name="keys"/> (one hash slot): one MGET, or on TRYAGAIN one GET per key, all pipelined
    /// before the first is waited for.
    /// </summary>
    private static RedisValue[] ReadSlot(IDatabase db, RedisKey[] keys)
    {
        try
        {
            return db.StringGet(keys);
        }
        catch (RedisServerException ex) when (keys.Length > 1 && TryAgain.Is(ex))
        {
            var reads = ReadEach(db, keys);
            RedisSlots.WaitAll(db, reads);
            return Array.ConvertAll(reads, static read => read.Result);
        }
    }

    /// <inheritdoc cref="ReadSlot"/>
    /// <remarks>The client's own task where no TRYAGAIN can come (one key, or a server that is no cluster): no frame.</remarks>
    private Task<RedisValue[]> ReadSlotAsync(IDatabase db, RedisKey[] keys)
        => keys.Length > 1 && IsCluster(db) ? ReadSlotOnClusterAsync(db, keys) : db.StringGetAsync(keys);

    private static async Task<RedisValue[]> ReadSlotOnClusterAsync(IDatabase db, RedisKey[] keys)
    {
        try
        {
            return await db.StringGetAsync(keys).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (TryAgain.Is(ex))
        {
            return await Task.WhenAll(ReadEach(db, keys)).ConfigureAwait(false);
        }
    }

    private static Task<RedisValue>[] ReadEach(IDatabase db, RedisKey[] keys)
    {
        var reads = new Task<RedisValue>[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            reads[i] = db.StringGetAsync(keys[i]);
        }

        return reads;
    }
}
