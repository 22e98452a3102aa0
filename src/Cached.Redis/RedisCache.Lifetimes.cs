using StackExchange.Redis;
using static Cached.Redis.RedisValues;

namespace Cached.Redis;

/// <summary>Reads with the remaining time to live (GET and PTTL sent together: one round trip), for two-level caches.</summary>
public sealed partial class RedisCache
{
    /// <inheritdoc />
    protected override (CacheResult<object?> Entry, TimeSpan? RemainingTtl) GetEntryWithTtl(string key)
    {
        var read = Db().StringGetWithExpiry(key);
        return (ToResult(read.Value), read.Expiry);
    }

    /// <inheritdoc />
    protected override async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl)> GetEntryWithTtlAsync(string key, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        var read = await db.StringGetWithExpiryAsync(key).ConfigureAwait(false);
        return (ToResult(read.Value), read.Expiry);
    }

    /// <inheritdoc />
    /// <remarks>
    /// One script reads the key and, when it is missing, opens its fence (<see cref="Scripts.GetOrOpenFence"/>), once the
    /// server is known to run scripts; before that, and for a cluster key that cannot have a fence, the read and the open
    /// go separately, as they did. So they do when the key's slot migrates: the script names the fence and its count,
    /// keys that rarely exist, and Redis answers TRYAGAIN to a command on a migrating slot that names a missing key, so
    /// a value that is there would wait out the whole move; a read of one key is redirected instead, and answers at once
    /// (a miss then opens its fill, which waits for the move as the fill scripts do).
    /// </remarks>
    protected override (CacheResult<object?> Entry, TimeSpan? RemainingTtl, bool Opened, object? Fence) GetEntryWithTtlOrOpenFill(string key, string? @namespace)
    {
        if (Volatile.Read(ref _scriptsRun) == 0)
        {
            return base.GetEntryWithTtlOrOpenFill(key, @namespace);
        }

        var db = Db();
        if (FenceOf(db, key) is not { } fence)
        {
            var read = db.StringGetWithExpiry(key);
            return (ToResult(read.Value), read.Expiry, read.Value.IsNull, null);
        }

        try
        {
            return ReadOrOpened(fence, (RedisResult[])db.ScriptEvaluate(Scripts.GetOrOpenFence, [key, fence, RedisFences.HoldersOf(fence)], FenceArguments())!);
        }
        catch (RedisServerException ex) when (TryAgain.Is(ex))
        {
            // The key's slot migrates (see the remarks): the read and the open, apart.
            return base.GetEntryWithTtlOrOpenFill(key, @namespace);
        }
    }

    /// <inheritdoc cref="GetEntryWithTtlOrOpenFill(string, string?)"/>
    protected override async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl, bool Opened, object? Fence)> GetEntryWithTtlOrOpenFillAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _scriptsRun) == 0)
        {
            return await base.GetEntryWithTtlOrOpenFillAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        }

        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        if (FenceOf(db, key) is not { } fence)
        {
            var read = await db.StringGetWithExpiryAsync(key).ConfigureAwait(false);
            return (ToResult(read.Value), read.Expiry, read.Value.IsNull, null);
        }

        try
        {
            return ReadOrOpened(fence, (RedisResult[])(await db.ScriptEvaluateAsync(Scripts.GetOrOpenFence, [key, fence, RedisFences.HoldersOf(fence)], FenceArguments()).ConfigureAwait(false))!);
        }
        catch (RedisServerException ex) when (TryAgain.Is(ex))
        {
            // The key's slot migrates (see the remarks): the read and the open, apart.
            return await base.GetEntryWithTtlOrOpenFillAsync(key, @namespace, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What <see cref="Scripts.GetOrOpenFence"/> answered: the value and its life, or the token of the fence it opened.</summary>
    private static (CacheResult<object?> Entry, TimeSpan? RemainingTtl, bool Opened, object? Fence) ReadOrOpened(RedisKey fence, RedisResult[] reply)
    {
        if (!reply[0].IsNull)
        {
            var milliseconds = (long)reply[1];
            return (ToResult((RedisValue)reply[0]), milliseconds >= 0 ? TimeSpan.FromMilliseconds(milliseconds) : null, false, null);
        }

        return (CacheResult<object?>.Miss, null, true, new OpenedFence(fence, (RedisValue)reply[1]));
    }

    /// <inheritdoc />
    /// <remarks>
    /// The same GET and PTTL pairs as the async read, all sent before it waits for any: one round trip on a cluster too,
    /// whatever the slots, and no script, so a server without Lua answers it as it answers a plain read.
    /// </remarks>
    protected override (CacheResult<object?> Entry, TimeSpan? RemainingTtl)[] GetEntriesWithTtl(IReadOnlyList<string> keys)
    {
        var db = Db();
        var reads = Send(db, keys);
        RedisSlots.WaitAll(db, reads);
        return Results(reads);
    }

    /// <inheritdoc />
    protected override async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl)[]> GetEntriesWithTtlAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var db = await DbAsync(cancellationToken).ConfigureAwait(false);
        var reads = Send(db, keys);
        await Task.WhenAll(reads).ConfigureAwait(false);
        return Results(reads);
    }

    /// <summary>Every read in flight at once, pipelined on the connection: one round trip for the batch.</summary>
    private static Task<RedisValueWithExpiry>[] Send(IDatabase db, IReadOnlyList<string> keys)
    {
        var reads = new Task<RedisValueWithExpiry>[keys.Count];
        for (var i = 0; i < reads.Length; i++)
        {
            reads[i] = db.StringGetWithExpiryAsync(keys[i]);
        }

        return reads;
    }

    private static (CacheResult<object?> Entry, TimeSpan? RemainingTtl)[] Results(Task<RedisValueWithExpiry>[] reads)
    {
        var results = new (CacheResult<object?>, TimeSpan?)[reads.Length];
        for (var i = 0; i < reads.Length; i++)
        {
            var read = reads[i].Result;
            results[i] = (ToResult(read.Value), read.Expiry);
        }

        return results;
    }
}
