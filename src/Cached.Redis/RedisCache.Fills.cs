using StackExchange.Redis;
using System.Runtime.CompilerServices;
using static Cached.Redis.RedisSlots;
using static Cached.Redis.RedisValues;

namespace Cached.Redis;

// Fenced fills across processes (RedisFences): fills open and check fences; every write, delete, expiry and clear moves
// them, in the same round trip as the command itself.
public sealed partial class RedisCache
{
    private static readonly TimeSpan s_defaultMaxFill = TimeSpan.FromMinutes(1);
    private readonly TimeSpan _maxFillDuration = s_defaultMaxFill;

    // Set once the server ran a script for this cache. Every write sends its fence move (a script) together with the
    // command, so a server that runs no scripts (Garnet without --lua) would apply the command and then fail the write:
    // the first write asks first, and a write is refused before anything is sent until a script has run.
    private int _scriptsRun;

    /// <summary>
    /// The longest a cached method's body may run and still store its result (1 minute unless set): the fence that
    /// keeps an invalidation final across processes lives that long in Redis after the last fill of its key opened.
    /// A body that runs longer returns its result to its callers without storing it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than a millisecond.</exception>
    public TimeSpan MaxFillDuration
    {
        get => _maxFillDuration;
        init => _maxFillDuration = value >= TimeSpan.FromMilliseconds(1)
            ? value
            : throw new ArgumentOutOfRangeException(nameof(MaxFillDuration), value, "A fill needs at least a millisecond.");
    }

    private long FenceMilliseconds => (long)Math.Ceiling(_maxFillDuration.TotalMilliseconds);

    /// <inheritdoc />
    protected override int FillEntries(KeyValuePair<string, object?>[] entries, object?[] fences, string? @namespace, TimeSpan? ttl)
    {
        var db = WriteDb();
        if (entries.Length == 1)
        {
            var entry = entries[0];
            return fences[0] is OpenedFence fence
                ? FillOne(db, entry, fence, ttl)
                : db.StringSet(entry.Key, ToValue(entry.Value), ttl, When.Always) ? 1 : 0;
        }

        var stored = 0;
        foreach (var group in SlotGroups(db.Multiplexer, entries.Select(static e => e.Key).ToArray()))
        {
            var fill = FillScript(entries, fences, group, ttl);
            if (fill.Keys.Length > 0)
            {
                stored += (int)(long)OnSlot(db, fill.Keys, fill, static (db, fill) => db.ScriptEvaluate(Scripts.FillIfFenced, fill.Keys, fill.Args));
            }

            foreach (var index in fill.Unfenced)
            {
                stored += db.StringSet(entries[index].Key, ToValue(entries[index].Value), ttl, When.Always) ? 1 : 0;
            }
        }

        return stored;
    }

    /// <inheritdoc />
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))] // awaited once, by the pipeline
    protected override async ValueTask<int> FillEntriesAsync(KeyValuePair<string, object?>[] entries, object?[] fences, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        var deadline = CallDeadline();
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        if (entries.Length == 1)
        {
            // A cached method's fill: one key, one command, without the batch's grouping and continuations.
            var entry = entries[0];
            return fences[0] is OpenedFence fence
                ? (int)(long)await FillOneAsync(db, entry, fence, ttl, deadline, cancellationToken).ConfigureAwait(false)
                : await db.StringSetAsync(entry.Key, ToValue(entry.Value), ttl, When.Always).ConfigureAwait(false) ? 1 : 0;
        }

        var writes = new List<Task<int>>();
        foreach (var group in SlotGroups(db.Multiplexer, entries.Select(static e => e.Key).ToArray()))
        {
            var fill = FillScript(entries, fences, group, ttl);
            if (fill.Keys.Length > 0)
            {
                writes.Add(StoredAsync(OnSlotAsync(db, fill.Keys, fill, static (db, fill) => db.ScriptEvaluateAsync(Scripts.FillIfFenced, fill.Keys, fill.Args), deadline, cancellationToken)));
            }

            foreach (var index in fill.Unfenced)
            {
                writes.Add(StoredAsync(db.StringSetAsync(entries[index].Key, ToValue(entries[index].Value), ttl, When.Always)));
            }
        }

        return (await Task.WhenAll(writes).ConfigureAwait(false)).Sum();
    }

    /// <summary>One fill through its fence: the key and its fence in one script.</summary>
    private int FillOne(IDatabase db, KeyValuePair<string, object?> entry, OpenedFence fence, TimeSpan? ttl)
    {
        RedisKey[] keys = [entry.Key, fence.Fence, RedisFences.HoldersOf(fence.Fence)];
        return (int)(long)OnSlot(db, keys, (keys, args: FillArguments(ttl, fence, entry.Value)), static (db, s) => db.ScriptEvaluate(Scripts.FillIfFenced, s.keys, s.args));
    }

    /// <inheritdoc cref="FillOne"/>
    private Task<RedisResult> FillOneAsync(IDatabase db, KeyValuePair<string, object?> entry, OpenedFence fence, TimeSpan? ttl, long? deadline, CancellationToken cancellationToken)
    {
        RedisKey[] keys = [entry.Key, fence.Fence, RedisFences.HoldersOf(fence.Fence)];
        return OnSlotAsync(db, keys, (keys, args: FillArguments(ttl, fence, entry.Value)), static (db, s) => db.ScriptEvaluateAsync(Scripts.FillIfFenced, s.keys, s.args), deadline, cancellationToken);
    }

    // Awaited rather than read in a continuation: a failed command then fails the batch with its own exception, which
    // the pipeline maps (a ContinueWith reading Result would wrap it in an AggregateException that nothing maps).
    private static async Task<int> StoredAsync(Task<RedisResult> fill) => (int)(long)await fill.ConfigureAwait(false);

    private static async Task<int> StoredAsync(Task<bool> set) => await set.ConfigureAwait(false) ? 1 : 0;

    /// <summary>The fill script's arguments for one entry: the TTL, the token its fence must still hold, the value.</summary>
    private static RedisValue[] FillArguments(TimeSpan? ttl, OpenedFence fence, object? value) => [TtlArgument(ttl), fence.Seen, ToValue(value)];

    /// <summary>The fill script's TTL argument: whole milliseconds, rounded up, or empty for none.</summary>
    private static RedisValue TtlArgument(TimeSpan? ttl) => ttl is { } span ? (long)Math.Ceiling(span.TotalMilliseconds) : RedisValue.EmptyString;

    /// <summary>The fill script's keys and arguments for one hash slot's fenced entries, and the entries without a fence.</summary>
    private static (RedisKey[] Keys, RedisValue[] Args, List<int> Unfenced) FillScript(KeyValuePair<string, object?>[] entries, object?[] fences, SlotGroup group, TimeSpan? ttl)
    {
        var keys = new List<RedisKey>(group.Indexes.Length * 3);
        var args = new List<RedisValue>(1 + (group.Indexes.Length * 2)) { TtlArgument(ttl) };
        var unfenced = new List<int>();
        foreach (var index in group.Indexes)
        {
            if (fences[index] is not OpenedFence fence)
            {
                unfenced.Add(index);
                continue;
            }

            keys.Add(entries[index].Key);
            keys.Add(fence.Fence);
            keys.Add(RedisFences.HoldersOf(fence.Fence));
            args.Add(fence.Seen);
            args.Add(ToValue(entries[index].Value));
        }

        return (keys.ToArray(), args.ToArray(), unfenced);
    }

    /// <summary>The database for a write, which moves fences with scripts: on the first, the server is seen to run one.</summary>
    /// <exception cref="CacheBackendException">The server runs no scripts; nothing was written.</exception>
    private IDatabase WriteDb()
    {
        var db = Db();
        if (Volatile.Read(ref _scriptsRun) == 0)
        {
            try
            {
                db.ScriptEvaluate(Scripts.Probe);
            }
            catch (RedisServerException refused) when (RefusesScripts(refused))
            {
                throw ScriptsRefused(refused);
            }

            Volatile.Write(ref _scriptsRun, 1);
        }

        return db;
    }

    /// <inheritdoc cref="WriteDb"/>
    private ValueTask<IDatabase> WriteDbAsync(CancellationToken cancellationToken)
    {
        return Volatile.Read(ref _scriptsRun) != 0 ? DbAsync(cancellationToken) : FirstWriteDbAsync(cancellationToken);

        async ValueTask<IDatabase> FirstWriteDbAsync(CancellationToken cancellationToken)
        {
            var db = await DbAsync(cancellationToken).ConfigureAwait(false);
            var probe = db.ScriptEvaluateAsync(Scripts.Probe);
            try
            {
                await probe.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RedisServerException refused) when (RefusesScripts(refused))
            {
                throw ScriptsRefused(refused);
            }
            catch (OperationCanceledException) when (!probe.IsCompleted)
            {
                // The caller left; the probe's own outcome is still observed.
                _ = probe.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }

            Volatile.Write(ref _scriptsRun, 1);
            return db;
        }
    }

    // Scripting off (Garnet without --lua), EVAL renamed away, or an ACL without it; not a passing error (BUSY, LOADING,
    // TRYAGAIN...), which the pipeline translates as any other.
    internal static bool RefusesScripts(RedisServerException refused)
        => refused.Message.Contains("scripting", StringComparison.OrdinalIgnoreCase)
            || refused.Message.Contains("unknown command", StringComparison.OrdinalIgnoreCase)
            || refused.Message.StartsWith("NOPERM", StringComparison.Ordinal);

    private static CacheBackendException ScriptsRefused(RedisServerException refused) => new(
        $"The server refused to run a Lua script ({refused.Message}), so nothing was written: every RedisCache write moves its key's fence with a script, in the same round trip (see docs/redis.md). Enable scripting on the server (Garnet needs --lua), and where an ACL refuses it, let the user run EVAL and EVALSHA (+@scripting).",
        refused);

    /// <summary>
    /// Sends the move of a key's fence, ahead of the command that invalidates it, on the same connection. Always as EVAL,
    /// with the script's text: sent by its hash after a <c>SCRIPT FLUSH</c>, it would fail with <c>NOSCRIPT</c> and the
    /// client would send it again only once that reply came, after the command had run, and a fill opened before the
    /// write could store in between. About 300 bytes more per write, for an invalidation that stays final.
    /// </summary>
    private Task<RedisResult>? MoveFence(IDatabase db, string key)
        => FenceOf(db, key) is { } fence
            ? db.ScriptEvaluateAsync(Scripts.MoveFences, [fence], FenceArguments(), CommandFlags.NoScriptCache)
            : null;

    /// <summary>Sends the move of the fences of one hash slot's keys, as EVAL (see <see cref="MoveFence"/>).</summary>
    private Task<RedisResult>? MoveFences(IDatabase db, SlotGroup group)
    {
        var (fences, _) = FencesOf(db, group);
        return fences.Length == 0 ? null : db.ScriptEvaluateAsync(Scripts.MoveFences, fences, FenceArguments(), CommandFlags.NoScriptCache);
    }

    /// <summary>
    /// Runs a sync command after the move of its key's fence. The move is sent first and answered first (one connection
    /// per server, in order), so waiting for it after the command costs no second round trip.
    /// </summary>
    private T Fenced<TState, T>(IDatabase db, string key, TState state, Func<TState, T> command)
        => Fenced(MoveFence(db, key), state, command);

    private static T Fenced<TState, T>(Task<RedisResult>? moved, TState state, Func<TState, T> command)
    {
        if (moved is null)
        {
            return command(state);
        }

        T result;
        try
        {
            result = command(state);
        }
        catch
        {
            Observe(moved);
            throw;
        }

        moved.GetAwaiter().GetResult();
        return result;
    }

    /// <summary>Awaits an async command sent after the move of its key's fence; both fail the call if either fails.</summary>
    private static async Task<T> FencedAsync<T>(Task<RedisResult>? moved, Task<T> command)
    {
        if (moved is null)
        {
            return await command.ConfigureAwait(false);
        }

        try
        {
            await moved.ConfigureAwait(false);
        }
        catch
        {
            Observe(command);
            throw;
        }

        return await command.ConfigureAwait(false);
    }

    /// <summary>
    /// Moves every fence of the keys a clear of <paramref name="namespace"/> is about to remove (all of them for a whole
    /// database), first. Each fence SCAN returns is checked against the namespace's exact prefix, as the keys are:
    /// Garnet matches case-insensitively, and would move the fences of another namespace spelled in other cases.
    /// </summary>
    private void MoveFencesMatching(IDatabase db, string? @namespace)
    {
        var prefix = ClearPrefix(@namespace);
        foreach (var server in Primaries(db.Multiplexer))
        {
            var fences = server.Keys(DatabaseNumber, FencePattern(@namespace), pageSize: Scripts.ScanPage)
                .Select(static k => (string)k!)
                .Where(fence => fence.StartsWith(prefix, StringComparison.Ordinal));
            foreach (var batch in fences.Chunk(Scripts.ScanPage))
            {
                foreach (var group in SlotGroups(db.Multiplexer, batch))
                {
                    OnSlot(db, group.Keys, (group.Keys, args: FenceArguments()), static (db, s) => db.ScriptEvaluate(Scripts.MoveFences, s.Keys, s.args));
                }
            }
        }
    }

    /// <inheritdoc cref="MoveFencesMatching"/>
    private async Task MoveFencesMatchingAsync(IDatabase db, string? @namespace, long? deadline, CancellationToken cancellationToken)
    {
        var prefix = ClearPrefix(@namespace);
        foreach (var server in Primaries(db.Multiplexer))
        {
            var batch = new List<string>(Scripts.ScanPage);
            await foreach (var key in server.KeysAsync(DatabaseNumber, FencePattern(@namespace), pageSize: Scripts.ScanPage).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (!((string)key!).StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                batch.Add(key!);
                if (batch.Count == Scripts.ScanPage)
                {
                    await MoveAll(db, batch, deadline, cancellationToken).ConfigureAwait(false);
                    batch.Clear();
                }
            }

            await MoveAll(db, batch, deadline, cancellationToken).ConfigureAwait(false);
        }

        async Task MoveAll(IDatabase db, List<string> fences, long? deadline, CancellationToken cancellationToken)
        {
            foreach (var group in SlotGroups(db.Multiplexer, fences))
            {
                ThrowIfAbandoned(deadline, cancellationToken);
                await OnSlotAsync(db, group.Keys, (group.Keys, args: FenceArguments()), static (db, s) => db.ScriptEvaluateAsync(Scripts.MoveFences, s.Keys, s.args), deadline, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The fences a clear of <paramref name="namespace"/> (or of everything) moves.</summary>
    private string FencePattern(string? @namespace) => RedisFences.PatternOf(@namespace is null ? string.Empty : GlobEscape(ComposeKey(string.Empty, @namespace)));

    private static void Observe(Task task)
        => _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
