using StackExchange.Redis;
using static Cached.Redis.RedisSlots;
using static Cached.Redis.RedisValues;

namespace Cached.Redis;

// Clear: first the fences of what it clears are moved (RedisFences), then a namespace goes by SCAN and UNLINK on every
// primary, a whole database by FLUSHDB only in admin mode.
public sealed partial class RedisCache
{
    // Set once the server refused FLUSHDB (an ACL without it, or the command renamed away): later clears go straight to
    // SCAN and UNLINK instead of paying the refused round trip every time.
    private volatile bool _flushRefused;

    /// <inheritdoc />
    /// <remarks>
    /// A namespace is cleared with SCAN and UNLINK, one page at a time. A whole database is too, unless the connection
    /// allows admin commands (<c>allowAdmin=true</c>, an explicit opt-in), when FLUSHDB does it in one command.
    /// </remarks>
    protected override bool ClearEntries(string? @namespace)
    {
        RefuseNamespaceClearWithKeyBuilder(@namespace);
        var db = WriteDb();
        MoveFencesMatching(db, @namespace);
        var flush = @namespace is null && !_flushRefused && AllowsAdmin(db.Multiplexer);
        foreach (var server in Primaries(db.Multiplexer))
        {
            if (flush && Flushed(server))
            {
                continue;
            }

            var prefix = ClearPrefix(@namespace);
            var keys = server.Keys(DatabaseNumber, ClearPattern(@namespace), pageSize: Scripts.ScanPage)
                .Select(static k => (string)k!)
                .Where(key => key.StartsWith(prefix, StringComparison.Ordinal));
            foreach (var batch in keys.Chunk(Scripts.ScanPage))
            {
                foreach (var group in SlotGroups(db.Multiplexer, batch))
                {
                    OnSlot(db, group.Keys, group.Keys, static (db, keys) => db.Execute("UNLINK", keys.Cast<object>().ToArray()));
                }
            }
        }

        return true;
    }

    /// <inheritdoc />
    protected override async ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken)
    {
        RefuseNamespaceClearWithKeyBuilder(@namespace);
        var deadline = CallDeadline();
        var db = await WriteDbAsync(cancellationToken).ConfigureAwait(false);
        await MoveFencesMatchingAsync(db, @namespace, deadline, cancellationToken).ConfigureAwait(false);
        var flush = @namespace is null && !_flushRefused && AllowsAdmin(db.Multiplexer);
        foreach (var server in Primaries(db.Multiplexer))
        {
            if (flush && await FlushedAsync(server).ConfigureAwait(false))
            {
                continue;
            }

            var batch = new List<string>(Scripts.ScanPage);
            var prefix = ClearPrefix(@namespace);
            await foreach (var key in server.KeysAsync(DatabaseNumber, ClearPattern(@namespace), pageSize: Scripts.ScanPage).WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                if (!((string)key!).StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                batch.Add(key!);
                if (batch.Count == Scripts.ScanPage)
                {
                    ThrowIfAbandoned(deadline, cancellationToken);
                    await UnlinkAsync(db, batch, deadline, cancellationToken).ConfigureAwait(false);
                    batch.Clear();
                }
            }

            ThrowIfAbandoned(deadline, cancellationToken);
            await UnlinkAsync(db, batch, deadline, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Runs FLUSHDB, or answers false when the server refuses it, so that the clear goes on by SCAN and UNLINK: managed
    /// servers often deny it to their users (an ACL without <c>flushdb</c> or <c>@dangerous</c>: NOPERM) or rename it
    /// away (<c>rename-command FLUSHDB ""</c>: unknown command), and a connection string may disable it in its command
    /// map, while admin mode (<c>allowAdmin=true</c>) may be on for another reason.
    /// </summary>
    private bool Flushed(IServer server)
    {
        try
        {
            server.FlushDatabase(DatabaseNumber);
            return true;
        }
        catch (Exception refused) when (RefusesFlush(refused))
        {
            _flushRefused = true;
            return false;
        }
    }

    /// <inheritdoc cref="Flushed"/>
    private async ValueTask<bool> FlushedAsync(IServer server)
    {
        try
        {
            await server.FlushDatabaseAsync(DatabaseNumber).ConfigureAwait(false);
            return true;
        }
        catch (Exception refused) when (RefusesFlush(refused))
        {
            _flushRefused = true;
            return false;
        }
    }

    private static bool RefusesFlush(Exception refused) => refused is RedisCommandException
        || (refused is RedisServerException && (refused.Message.StartsWith("NOPERM", StringComparison.Ordinal)
            || refused.Message.Contains("unknown command", StringComparison.OrdinalIgnoreCase)));

    private string ClearPattern(string? @namespace) => @namespace is null ? "*" : GlobEscape(ClearPrefix(@namespace)) + "*";

    /// <summary>
    /// The exact prefix of the keys a clear removes; each key SCAN finds is checked against it, since a server that
    /// speaks Redis may match patterns more loosely (Garnet ignores letter case: <c>app:*</c> finds <c>APP:k</c>).
    /// </summary>
    private string ClearPrefix(string? @namespace) => @namespace is null ? string.Empty : ComposeKey(string.Empty, @namespace);

    /// <summary>Whether the connection allows admin commands: off unless its configuration opts in.</summary>
    private static bool AllowsAdmin(IConnectionMultiplexer multiplexer)
        => ConfigurationOptions.Parse(multiplexer.Configuration).AllowAdmin;

    /// <summary>
    /// Redis finds a namespace's keys by their <c>namespace:</c> prefix, which a custom <see cref="BaseCache.KeyBuilder"/>
    /// need not write, so such a clear would leave the builder's keys behind while the memory backend (which remembers
    /// each entry's namespace) removes them. It is refused instead of half done; <c>Clear()</c> of a cache without a
    /// namespace still empties its database.
    /// </summary>
    private void RefuseNamespaceClearWithKeyBuilder(string? @namespace)
    {
        if (@namespace is not null && KeyBuilder is not null)
        {
            throw new NotSupportedException($"RedisCache cannot clear namespace '{@namespace}' of a cache with a KeyBuilder: Redis finds a namespace's keys by their '{@namespace}:' prefix, which the builder's keys need not have. Delete the keys one by one, or clear a cache without a namespace.");
        }
    }
}
