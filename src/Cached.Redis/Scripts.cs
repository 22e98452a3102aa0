namespace Cached.Redis;

/// <summary>The Lua scripts and sizes of the Redis backend, in one place.</summary>
internal static class Scripts
{
    /// <summary>Keys asked per SCAN page and removed per UNLINK.</summary>
    public const int ScanPage = 500;

    /// <summary>Deletes the key only if it still holds the given value: a lock is released only by its owner.</summary>
    public const string CompareAndDelete = """
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('del', KEYS[1])
        end
        return 0
        """;

    /// <summary>Removes a key's expiry and answers whether the key exists (PERSIST alone answers 0 for a key without TTL).</summary>
    public const string Persist = """
        if redis.call('exists', KEYS[1]) == 1 then
            redis.call('persist', KEYS[1])
            return 1
        end
        return 0
        """;

    /// <summary>
    /// Sets the key only if it still holds the expected value (OptimisticLock's check-and-set). ARGV: expected value,
    /// new value, PX milliseconds or '', '1' when the key is expected to be missing.
    /// </summary>
    public const string CompareAndSet = """
        local current = redis.call('get', KEYS[1])
        local unchanged
        if ARGV[4] == '1' then
            unchanged = current == false
        else
            unchanged = current == ARGV[1]
        end
        if not unchanged then
            return 0
        end
        if ARGV[3] ~= '' then
            redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
        else
            redis.call('set', KEYS[1], ARGV[2])
        end
        return 1
        """;
}
