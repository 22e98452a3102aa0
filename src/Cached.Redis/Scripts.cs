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

    /// <summary>
    /// Keeps a tag record holding ARGV[1] for at least ARGV[2] milliseconds (0: for ever), never shortening a longer
    /// life. With ARGV[3] = 1 it creates the record if the key is missing; otherwise it extends it only while it still
    /// holds ARGV[1], so a record that went never comes back with an old token. Answers 1 when the key holds ARGV[1].
    /// Compares PTTL rather than using PEXPIRE's GT option, which servers before Redis 7 and Garnet lack.
    /// </summary>
    public const string KeepTag = """
        local ms = tonumber(ARGV[2])
        if ARGV[3] == '1' then
            if ms > 0 then
                return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ms) and 1 or 0
            end
            return redis.call('set', KEYS[1], ARGV[1], 'NX') and 1 or 0
        end
        if redis.call('get', KEYS[1]) ~= ARGV[1] then
            return 0
        end
        if ms > 0 then
            local left = redis.call('pttl', KEYS[1])
            if left >= 0 and left < ms then
                redis.call('pexpire', KEYS[1], ms)
            end
        else
            redis.call('persist', KEYS[1])
        end
        return 1
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

    /// <summary>
    /// Opens fills: each fence (KEYS[i], i up to half of KEYS) is read, created with the token ARGV[1] if missing, and
    /// kept for ARGV[2] milliseconds from now; beside it, a hash (KEYS[n + i]) counts the fills open on each token and
    /// lives as long. Returns the tokens, one per fence. Fills opened one after another share a fence's token, so a fill
    /// that closes without storing takes the fence away only when it was the last one open on it (<see cref="ReleaseFence"/>).
    /// The count is per token: once a store, a clear or expiry has removed a fence, a fill of the fence before it counts
    /// for nothing on the new one.
    /// </summary>
    public const string OpenFences = """
        local n = #KEYS / 2
        local seen = {}
        for i = 1, n do
            local token = redis.call('get', KEYS[i])
            if token then
                redis.call('pexpire', KEYS[i], ARGV[2])
            else
                token = ARGV[1]
                redis.call('set', KEYS[i], token, 'PX', ARGV[2])
            end
            redis.call('hincrby', KEYS[n + i], token, 1)
            redis.call('pexpire', KEYS[n + i], ARGV[2])
            seen[i] = token
        end
        return seen
        """;

    /// <summary>
    /// A read-through's read of one key (KEYS[1]) that opens its fill in the same round trip when the key is missing:
    /// the value and its PTTL when there is one; otherwise false and the token of the key's fence (KEYS[2]), opened as
    /// <see cref="OpenFences"/> opens it, counted in KEYS[3] (ARGV[1] the new token, ARGV[2] its life in milliseconds).
    /// Read and open are one step, so any write that comes after the miss moves the fence the fill will check.
    /// </summary>
    public const string GetOrOpenFence = """
        local value = redis.call('get', KEYS[1])
        if value then
            return {value, redis.call('pttl', KEYS[1])}
        end
        local token = redis.call('get', KEYS[2])
        if token then
            redis.call('pexpire', KEYS[2], ARGV[2])
        else
            token = ARGV[1]
            redis.call('set', KEYS[2], token, 'PX', ARGV[2])
        end
        redis.call('hincrby', KEYS[3], token, 1)
        redis.call('pexpire', KEYS[3], ARGV[2])
        return {false, token}
        """;

    /// <summary>
    /// Closes a fill that will not store: the count of fills open on its token ARGV[1] (a field of KEYS[2]) goes down by
    /// one, and once none is left the fence (KEYS[1]) goes if it still holds that token; a fence another fill still holds
    /// stays for it. A fill whose token has no count (its fence was stored through, cleared or expired, or was opened by a
    /// version that kept none) goes by its token alone, as before. Answers 1 when the fence went.
    /// </summary>
    public const string ReleaseFence = """
        if redis.call('hexists', KEYS[2], ARGV[1]) == 1 then
            if redis.call('hincrby', KEYS[2], ARGV[1], -1) > 0 then
                return 0
            end
            redis.call('hdel', KEYS[2], ARGV[1])
        end
        if redis.call('hlen', KEYS[2]) == 0 then
            redis.call('del', KEYS[2])
        end
        if redis.call('get', KEYS[1]) == ARGV[1] then
            return redis.call('del', KEYS[1])
        end
        return 0
        """;

    /// <summary>
    /// Sets every key (KEYS) to its value (ARGV[i + 1]) for ARGV[1] milliseconds, atomically: a MultiSet with a TTL.
    /// Answers how many keys were set.
    /// </summary>
    public const string SetAllWithTtl = """
        for i, key in ipairs(KEYS) do
            redis.call('set', key, ARGV[i + 1], 'PX', ARGV[1])
        end
        return #KEYS
        """;

    /// <summary>The smallest script: a server that runs it runs the others (a write's first question, see RedisCache.WriteDb).</summary>
    public const string Probe = "return 1";

    /// <summary>
    /// Moves fences that exist (KEYS) to the new token ARGV[1]: a fill pending on one of them will not store. A fence
    /// keeps the expiry its last fill gave it, which outlives every fill opened on it, so writes of a key never keep a
    /// fence alive on their own (ARGV[2] milliseconds only for one without expiry, which no fill makes). A key that
    /// nobody fills has no fence, and gets none.
    /// </summary>
    public const string MoveFences = """
        for _, fence in ipairs(KEYS) do
            local left = redis.call('pttl', fence)
            if left > 0 then
                redis.call('set', fence, ARGV[1], 'PX', left)
            elseif left == -1 then
                redis.call('set', fence, ARGV[1], 'PX', ARGV[2])
            end
        end
        return 0
        """;

    /// <summary>
    /// Stores fills whose fences are unmoved, and removes those fences with their counts of open fills: nothing is left
    /// behind a stored key (a fill of it still open elsewhere then does not store, which is safe: the key holds a value
    /// computed as late as its own). KEYS: key, fence, count, key, fence, count...; ARGV: PX milliseconds or '', then per
    /// fill the token its fence held and the value. Returns how many were stored.
    /// </summary>
    public const string FillIfFenced = """
        local stored = 0
        for i = 1, #KEYS, 3 do
            local n = (i + 2) / 3
            if redis.call('get', KEYS[i + 1]) == ARGV[2 * n] then
                if ARGV[1] ~= '' then
                    redis.call('set', KEYS[i], ARGV[2 * n + 1], 'PX', ARGV[1])
                else
                    redis.call('set', KEYS[i], ARGV[2 * n + 1])
                end
                redis.call('del', KEYS[i + 1], KEYS[i + 2])
                stored = stored + 1
            end
        end
        return stored
        """;
}

