using System.Runtime.ExceptionServices;
using StackExchange.Redis;
using static Cached.Redis.RedisValues;

namespace Cached.Redis;

/// <summary>
/// How multi-key commands meet Redis Cluster: keys grouped by hash slot (one command per slot, all in flight
/// together), commands that must reach every primary, and the batch writes built per group.
/// </summary>
internal static class RedisSlots
{
    /// <summary>
    /// Unlinks <paramref name="keys"/>, one command per hash slot; a slot's command is sent again on TRYAGAIN until
    /// <paramref name="deadline"/> and not once <paramref name="cancellationToken"/> is cancelled
    /// (<see cref="TryAgain.SendAsync"/>): a delete sent after its caller left would remove what it wrote next.
    /// </summary>
    internal static async Task UnlinkAsync(IDatabase db, List<string> keys, long? deadline, CancellationToken cancellationToken)
    {
        // A namespace may have no keys on a primary: UNLINK with no key is an error, so send nothing (aiocache #472).
        if (keys.Count == 0)
        {
            return;
        }

        foreach (var group in SlotGroups(db.Multiplexer, keys))
        {
            // A slot's keys split by a move answer TRYAGAIN (a cluster only groups keys by slot: one key is never asked).
            await (group.Keys.Length > 1
                ? TryAgain.SendAsync(db, group.Keys, static (db, keys) => db.ExecuteAsync("UNLINK", keys.Cast<object>().ToArray()), deadline, cancellationToken)
                : db.ExecuteAsync("UNLINK", group.Keys.Cast<object>().ToArray())).ConfigureAwait(false);
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

    /// <summary>
    /// Sets every pair of the group with its TTL in one script: one round trip, all or nothing. A script rather than a
    /// MULTI/EXEC transaction: the client follows a cluster's ASK redirection for it while the slot migrates (it cannot
    /// inside a transaction), and a refused write reports its own error (OOM) rather than EXECABORT.
    /// </summary>
    internal static bool SetWithTtl(IDatabase db, IReadOnlyList<KeyValuePair<string, object?>> entries, SlotGroup group, TimeSpan ttl)
        => (long)db.ScriptEvaluate(Scripts.SetAllWithTtl, group.Keys, TtlArguments(entries, group, ttl)) == group.Keys.Length;

    /// <inheritdoc cref="SetWithTtl"/>
    internal static async Task<bool> SetWithTtlAsync(IDatabase db, IReadOnlyList<KeyValuePair<string, object?>> entries, SlotGroup group, TimeSpan ttl)
        => (long)await db.ScriptEvaluateAsync(Scripts.SetAllWithTtl, group.Keys, TtlArguments(entries, group, ttl)).ConfigureAwait(false) == group.Keys.Length;

    /// <summary>The script's arguments: the TTL in milliseconds (at least one), then each key's value in the group's order.</summary>
    private static RedisValue[] TtlArguments(IReadOnlyList<KeyValuePair<string, object?>> entries, SlotGroup group, TimeSpan ttl)
    {
        var arguments = new RedisValue[group.Indexes.Length + 1];
        arguments[0] = Math.Max(1L, (long)ttl.TotalMilliseconds);
        for (var i = 0; i < group.Indexes.Length; i++)
        {
            arguments[i + 1] = ToValue(entries[group.Indexes[i]].Value);
        }

        return arguments;
    }

    /// <summary>
    /// Waits for the commands of a sync batch, sent together (one per hash slot), as StackExchange.Redis's sync call waits
    /// for its one: at most the connection's sync timeout in all, and a failure thrown as the client's, not wrapped.
    /// </summary>
    internal static T[] WaitAll<T>(IDatabase db, Task<T>[] sent)
    {
        var all = Task.WhenAll(sent);
        var timeout = db.Multiplexer.TimeoutMilliseconds;
        bool ended;
        try
        {
            ended = all.Wait(timeout);
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(ex.InnerExceptions[0]).Throw();
            throw;
        }

        if (!ended)
        {
            // The commands go on; whatever they end in is observed, as the caller has left.
            _ = all.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw new TimeoutException($"A batch of {sent.Length} commands, one per hash slot, did not complete within the sync timeout of {timeout} ms.");
        }

        return all.Result;
    }

    /// <summary>The keys of one hash slot and their positions in the caller's list.</summary>
    internal sealed record SlotGroup(RedisKey[] Keys, int[] Indexes);
}
