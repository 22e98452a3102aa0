using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>
/// The fences behind "an invalidation is final" across processes. A fill (a value a cached method computed after a
/// miss) opens its key's fence: a small key beside it (the key's name and <c>:__cached:fence</c>), created with a fresh token if missing, that lives
/// <see cref="RedisCache.MaxFillDuration"/>. Every write, delete and expiry of the key replaces the token, if the fence
/// exists, in the same round trip as the command; a clear replaces every fence of what it clears before it removes
/// anything. The fill then stores only if its fence still holds the token it saw, checked and written in one script.
/// Fills opened meanwhile share the token; a hash beside the fence (<see cref="HoldersOf"/>) counts the fills open on
/// each token, so that one closing without storing takes the fence away only if it was the last open on its token.
/// </summary>
/// <remarks>
/// A fence exists only while fills of its key are recent, so writes of keys nobody fills leave nothing behind. On a
/// cluster a fence shares its key's hash slot, so the fill's check and write run in one script.
/// </remarks>
internal static class RedisFences
{
    /// <summary>What every fence's name ends with: a fence sits beside its key, under the key's own prefix.</summary>
    public const string Suffix = ":__cached:fence";

    private static readonly string s_process = Guid.NewGuid().ToString("N")[..12];
    private static long s_tokens;
    private static string[]? s_slotTags;

    /// <summary>A token no other fence move, in any process, writes.</summary>
    public static string NewToken() => s_process + Interlocked.Increment(ref s_tokens).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The fence of <paramref name="fullKey"/>, or null for a key that cannot have one. It starts with the key, so an
    /// ACL that lets a user reach <c>app:*</c> lets it reach the fences of those keys too. On a cluster it must also
    /// share the key's hash slot: a key with a hash tag keeps it; a key without a brace gets a tag of its own slot; a key
    /// with an unbalanced brace cannot be given one (its fills are not fenced, see docs/redis.md).
    /// </summary>
    public static RedisKey? Of(string fullKey, IConnectionMultiplexer multiplexer, bool cluster)
    {
        if (!cluster || HasHashTag(fullKey))
        {
            return fullKey + Suffix;
        }

        if (fullKey.Contains('{', StringComparison.Ordinal))
        {
            return null;
        }

        return string.Concat(fullKey, "{", SlotTag(multiplexer.HashSlot(fullKey), multiplexer), "}", Suffix);
    }

    /// <summary>
    /// The counts of fills open on <paramref name="fence"/>, one per token, in a hash beside it (in its hash slot: it keeps
    /// the fence's hash tag). They let a fill that closes without storing leave the fence to the others open on it.
    /// </summary>
    public static RedisKey HoldersOf(RedisKey fence) => fence.Append(HoldersSuffix);

    /// <summary>What the count of a fence's open fills adds to the fence's name.</summary>
    public const string HoldersSuffix = ":holders";

    /// <summary>The pattern of the fences of every key that starts with <paramref name="escapedKeyPrefix"/> (already glob-escaped).</summary>
    public static string PatternOf(string escapedKeyPrefix) => escapedKeyPrefix + "*" + Suffix;

    /// <summary>Redis Cluster's rule: a <c>{</c>, later a <c>}</c>, and something between them.</summary>
    private static bool HasHashTag(string key)
    {
        var open = key.IndexOf('{', StringComparison.Ordinal);
        if (open < 0)
        {
            return false;
        }

        var close = key.IndexOf('}', open + 1);
        return close > open + 1;
    }

    /// <summary>
    /// A short hash tag that lands in <paramref name="slot"/>: for each of the 16,384 slots, the first hexadecimal
    /// number whose CRC16 falls in it, worked out once (about 160,000 short hashes).
    /// </summary>
    private static string SlotTag(int slot, IConnectionMultiplexer multiplexer)
    {
        var tags = Volatile.Read(ref s_slotTags);
        if (tags is null)
        {
            tags = new string[16384];
            var found = 0;
            for (var n = 0; found < tags.Length; n++)
            {
                var candidate = n.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
                var of = multiplexer.HashSlot(candidate);
                if (tags[of] is null)
                {
                    tags[of] = candidate;
                    found++;
                }
            }

            Volatile.Write(ref s_slotTags, tags);
        }

        return tags[slot];
    }
}
