using StackExchange.Redis;
using System.Runtime.CompilerServices;
using static Cached.Redis.RedisSlots;

namespace Cached.Redis;

// Opening and releasing fenced fills (RedisFences): a fill opens its key's fence and counts itself among the fills open
// on it; one that closes without storing takes the fence away only if it was the last.
public sealed partial class RedisCache
{
    /// <inheritdoc />
    /// <remarks>Fences are scripts: a server without them is told apart on the first fill, as on the first write.</remarks>
    protected override object?[] OpenFillEntries(string[] fullKeys, string? @namespace)
    {
        var db = WriteDb();
        if (fullKeys.Length == 1)
        {
            return [FenceOf(db, fullKeys[0]) is { } fence ? Opened(fence, OpenOne(db, fence)) : null];
        }

        var opened = new object?[fullKeys.Length];
        foreach (var group in SlotGroups(db.Multiplexer, fullKeys))
        {
            var (fences, at) = FencesOf(db, group);
            if (fences.Length > 0)
            {
                var keys = WithHolders(fences);
                var seen = (RedisResult[])OnSlot(db, keys, (keys, args: FenceArguments()), static (db, s) => db.ScriptEvaluate(Scripts.OpenFences, s.keys, s.args))!;
                Note(opened, at, fences, seen);
            }
        }

        return opened;
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by the pipeline
    protected override async ValueTask<object?[]> OpenFillEntriesAsync(string[] fullKeys, string? @namespace, CancellationToken cancellationToken)
    {
        var deadline = CallDeadline();
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        if (fullKeys.Length == 1)
        {
            // A cached method's miss: one key, one script, without the batch's grouping.
            return [FenceOf(db, fullKeys[0]) is { } fence ? Opened(fence, await OpenOneAsync(db, fence, deadline, cancellationToken).ConfigureAwait(false)) : null];
        }

        return await OpenFenceGroupsAsync(db, fullKeys, deadline, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The fences of several keys, one script per hash slot. A method of its own: its lambdas capture the database,
    /// and a capture in <see cref="OpenFillEntriesAsync"/> would cost every one-key fill its closure.
    /// </summary>
    private async Task<object?[]> OpenFenceGroupsAsync(IDatabase db, string[] fullKeys, long? deadline, CancellationToken cancellationToken)
    {
        var fenced = SlotGroups(db.Multiplexer, fullKeys).Select(group => FencesOf(db, group)).Where(static f => f.Fences.Length > 0).ToArray();
        // One script per hash slot, all in flight together.
        var replies = await Task.WhenAll(fenced.Select(f => WithHolders(f.Fences)).Select(keys => OnSlotAsync(db, keys, (keys, args: FenceArguments()), static (db, s) => db.ScriptEvaluateAsync(Scripts.OpenFences, s.keys, s.args), deadline, cancellationToken))).ConfigureAwait(false);
        var opened = new object?[fullKeys.Length];
        for (var g = 0; g < fenced.Length; g++)
        {
            Note(opened, fenced[g].At, fenced[g].Fences, (RedisResult[])replies[g]!);
        }

        return opened;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Sent without waiting for the reply: the fence expires by itself if this is lost. The fence goes only if no other
    /// fill is open on it (<see cref="Scripts.ReleaseFence"/>): fills opened meanwhile, here or in another process, share
    /// its token, and taking it away would refuse theirs.
    /// </remarks>
    protected override void ReleaseFillEntry(string fullKey, object? fence)
    {
        if (fence is OpenedFence opened)
        {
            Db().ScriptEvaluate(Scripts.ReleaseFence, [opened.Fence, RedisFences.HoldersOf(opened.Fence)], [opened.Seen], CommandFlags.FireAndForget);
        }
    }

    /// <summary>Opens one fence: the fence and its count of open fills, two keys of one slot (so TRYAGAIN while it moves).</summary>
    private RedisResult OpenOne(IDatabase db, RedisKey fence)
    {
        RedisKey[] keys = [fence, RedisFences.HoldersOf(fence)];
        return OnSlot(db, keys, (keys, args: FenceArguments()), static (db, s) => db.ScriptEvaluate(Scripts.OpenFences, s.keys, s.args));
    }

    /// <inheritdoc cref="OpenOne"/>
    private Task<RedisResult> OpenOneAsync(IDatabase db, RedisKey fence, long? deadline, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [fence, RedisFences.HoldersOf(fence)];
        return OnSlotAsync(db, keys, (keys, args: FenceArguments()), static (db, s) => db.ScriptEvaluateAsync(Scripts.OpenFences, s.keys, s.args), deadline, cancellationToken);
    }

    /// <summary>The open script's keys: the fences, then the count of open fills beside each, in the same order.</summary>
    private static RedisKey[] WithHolders(RedisKey[] fences)
    {
        var keys = new RedisKey[fences.Length * 2];
        for (var i = 0; i < fences.Length; i++)
        {
            keys[i] = fences[i];
            keys[fences.Length + i] = RedisFences.HoldersOf(fences[i]);
        }

        return keys;
    }

    /// <summary>What a fill noted when it opened: its fence and the token the fence held.</summary>
    private sealed record OpenedFence(RedisKey Fence, RedisValue Seen);

    /// <summary>The fence of one key, or null for a key that cannot have one (a cluster key with braces of its own).</summary>
    private RedisKey? FenceOf(IDatabase db, string fullKey) => RedisFences.Of(fullKey, db.Multiplexer, IsCluster(db));

    /// <summary>The arguments of the scripts that open and move fences: a new token, and how long a fence lives.</summary>
    private RedisValue[] FenceArguments() => [RedisFences.NewToken(), FenceMilliseconds];

    /// <summary>What the open script answered for one fence (it answers one token per fence).</summary>
    private static OpenedFence Opened(RedisKey fence, RedisResult reply) => new(fence, (RedisValue)((RedisResult[])reply!)[0]);

    private static void Note(object?[] opened, int[] at, RedisKey[] fences, RedisResult[] seen)
    {
        for (var i = 0; i < at.Length; i++)
        {
            opened[at[i]] = new OpenedFence(fences[i], (RedisValue)seen[i]);
        }
    }

    /// <summary>The fences of one hash slot's keys, and where each key is in the caller's list; keys that cannot have one are left out.</summary>
    private (RedisKey[] Fences, int[] At) FencesOf(IDatabase db, SlotGroup group)
    {
        var cluster = IsCluster(db);
        var fences = new List<RedisKey>(group.Keys.Length);
        var at = new List<int>(group.Keys.Length);
        for (var i = 0; i < group.Keys.Length; i++)
        {
            if (RedisFences.Of(group.Keys[i]!, db.Multiplexer, cluster) is { } fence)
            {
                fences.Add(fence);
                at.Add(group.Indexes[i]);
            }
        }

        return (fences.ToArray(), at.ToArray());
    }
}
