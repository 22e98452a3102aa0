using StackExchange.Redis;

namespace Cached.Redis;

// Increment: INCRBY with the key's fence moved, and the server's one refusal for "not an integer or out of range" told
// apart by the stored text.
public sealed partial class RedisCache
{
    /// <inheritdoc />
    protected override long IncrementEntry(string key, string? @namespace, long delta)
    {
        // The client sends a negative delta as DECRBY of its absolute value, which long.MinValue does not have.
        var db = WriteDb();
        try
        {
            return Fenced(db, key, (db, key, delta), static s => s.delta == long.MinValue
                ? (long)s.db.Execute("INCRBY", (RedisKey)s.key, s.delta)
                : s.db.StringIncrement(s.key, s.delta));
        }
        catch (RedisServerException refused) when (NotAnIntegerOrOutOfRange(refused) && RedisValues.OverflowsWith(db.StringGet(key), delta))
        {
            throw PastLong(key, refused);
        }
    }

    /// <inheritdoc />
    protected override async ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken)
    {
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        var moved = MoveFence(db, key);
        try
        {
            return delta == long.MinValue
                ? (long)await FencedAsync(moved, db.ExecuteAsync("INCRBY", (RedisKey)key, delta)).ConfigureAwait(false)
                : await FencedAsync(moved, db.StringIncrementAsync(key, delta)).ConfigureAwait(false);
        }
        catch (RedisServerException refused) when (NotAnIntegerOrOutOfRange(refused))
        {
            // Redis answers one error for both; the stored text tells them apart (a second round trip, on this path only).
            if (RedisValues.OverflowsWith(await db.StringGetAsync(key).ConfigureAwait(false), delta))
            {
                throw PastLong(key, refused);
            }

            throw;
        }
    }

    private static bool NotAnIntegerOrOutOfRange(RedisServerException refused)
        => refused.Message.Contains("not an integer or out of range", StringComparison.OrdinalIgnoreCase);

    /// <summary>A stored integer past 64 bits: an overflow, as on the memory backend, not "not an integer".</summary>
    private static OverflowException PastLong(string key, RedisServerException refused)
        => new($"'{key}' holds an integer past the range of a 64-bit counter; the value is left as it was.", refused);
}
