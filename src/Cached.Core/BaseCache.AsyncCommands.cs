using System.Diagnostics;
using Cached.Resilience;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The async twins of <c>BaseCache.Commands.cs</c>: the same checks and preparation, then the pipeline's
/// <see cref="RunAsync{TState, TResult}"/>, which owns <see cref="Timeout"/> and the caller's token. Argument errors
/// surface from the returned task, as an <c>async</c> method's do.
/// </summary>
public abstract partial class BaseCache
{
    /// <inheritdoc />
    public ValueTask<bool> AddAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => WriteAsync(CacheCommand.Add, key, value, ttl, @namespace, serializer, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> SetAsync<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => WriteAsync(CacheCommand.Set, key, value, ttl, @namespace, serializer, cancellationToken);

    /// <summary>Add and Set: the same checks and payload, then the backend's add-if-absent (failing on an existing key) or set.</summary>
    private async ValueTask<bool> WriteAsync<T>(CacheCommand command, string key, T value, TimeSpan? ttl, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        Guard.Key(key);
        var expiry = ResolveTtl(ttl);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return true;
        }

        var write = PrepareWrite(key, value, @namespace, serializer);
        return await RunAsync(
            new CommandRequest(command, key, Namespace: write.Namespace, Subject: write.FullKey, Value: value, Ttl: expiry),
            (write, expiry, command),
            static (cache, s, ct) =>
            {
                cache._fences.Move(s.write.FullKey);
                return s.command == CacheCommand.Add
                    ? cache.AddOrThrowAsync(s.write, s.expiry, ct)
                    : cache.SetEntryAsync(s.write.FullKey, s.write.Namespace, s.write.Payload, s.expiry, ct);
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<bool> AddOrThrowAsync(PreparedWrite write, TimeSpan? expiry, CancellationToken cancellationToken)
        => await AddEntryAsync(write.FullKey, write.Namespace, write.Payload, expiry, cancellationToken).ConfigureAwait(false)
            ? true
            : throw new KeyExistsException(write.Key);

    /// <inheritdoc />
    public async ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var result = await TryGetAsync<T>(key, @namespace, serializer, cancellationToken).ConfigureAwait(false);
        return result.Found ? result.Value : @default;
    }

    /// <inheritdoc />
    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return ValueTask.FromResult(CacheResult<T>.Miss);
        }

        var read = PrepareKey(key, @namespace);
        return RunReadAsync<T>(new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey), read, serializer, cancellationToken);
    }

    /// <summary>
    /// <see cref="RunAsync{TState, TResult}"/> for a read of one entry, with the same steps in the same order: an
    /// in-process read completes synchronously, without a state machine; a remote one that needs no timer
    /// (<see cref="ReadNeedsTimer"/>) is read, decoded and observed in one async frame (<see cref="DecodeThenEnd{T}"/>);
    /// one that does goes through <see cref="Complete{TResult}"/>.
    /// </summary>
    private ValueTask<CacheResult<T>> RunReadAsync<T>(in CommandRequest request, PreparedKey read, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var running = _running;
        running?.Enter();
        var handedOver = false;
        try
        {
            var context = CommandObserver.Begin(this, _plugins, request);
            try
            {
                var pending = GetEntryAsync(read.FullKey, cancellationToken);
                if (pending.IsCompletedSuccessfully)
                {
                    var result = Decode<T>(read.Key, pending.Result, serializer);
                    if (context is not null)
                    {
                        CommandObserver.End(this, _plugins, context, Outcomes<T>.Read(result));
                    }

                    return new ValueTask<CacheResult<T>>(result);
                }

                // The command goes on after this method returns: what is returned counts its end.
                handedOver = true;
                return ReadNeedsTimer(cancellationToken)
                    ? Complete(DecodeWhenRead<T>(pending, read.Key, serializer, cancellationToken), request.Command, request.ErrorSubject, context, Outcomes<T>.Read, running, cancellationToken)
                    : DecodeThenEnd<T>(pending, read.Key, serializer, request.ErrorSubject, context, running, Stopwatch.GetTimestamp(), cancellationToken);
            }
            catch (Exception ex) when (Translate(ex, request.Command, request.ErrorSubject) is { } mapped)
            {
                CommandObserver.Failed(this, context, mapped);
                return ValueTask.FromException<CacheResult<T>>(mapped);
            }
            catch (Exception ex) when (Report(context, ex))
            {
                throw;
            }
        }
        finally
        {
            if (!handedOver)
            {
                running?.Exit();
            }
        }
    }

    /// <summary>Decodes an entry once the backend has read it; under a timer, <see cref="Complete{TResult}"/> ends the command.</summary>
    private async ValueTask<CacheResult<T>> DecodeWhenRead<T>(ValueTask<CacheResult<object?>> pending, string key, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var entry = await pending.ConfigureAwait(false);
        if (entry.Found && serializer is IDecodeGate { Gate: { IsCompleted: false } gate })
        {
            // Tag tokens requested before the entry: their reply is due, and decoding checks the entry with them.
            await gate.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return await DecodeAsync<T>(key, entry, serializer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <see cref="DecodeWhenRead{T}"/> and <see cref="Complete{TResult}"/>'s ending (post hooks, error mapping, count of
    /// running commands) in one frame, for a read whose client enforces the timeout: a hit on a remote backend takes
    /// this path. A decoding that needs a round trip of its own (the tags of a tagged entry) gets what is left of
    /// <see cref="Timeout"/> since <paramref name="started"/>, so the command as a whole keeps its bound.
    /// </summary>
    private async ValueTask<CacheResult<T>> DecodeThenEnd<T>(ValueTask<CacheResult<object?>> pending, string key, ISerializer? serializer, string subject, Plugins.CacheCommandContext? context, CommandCount? running, long started, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await pending.ConfigureAwait(false);
            if (entry.Found && serializer is IDecodeGate { Gate: { IsCompleted: false } gate })
            {
                await gate.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var decoding = DecodeAsync<T>(key, entry, serializer, cancellationToken);
            var result = decoding.IsCompleted
                ? await decoding.ConfigureAwait(false)
                : await Bounded(decoding.AsTask(), CacheCommand.Get, _timeout - Stopwatch.GetElapsedTime(started), cancellationToken).ConfigureAwait(false);
            if (context is not null)
            {
                CommandObserver.End(this, _plugins, context, Outcomes<T>.Read(result));
            }

            return result;
        }
        catch (Exception ex) when (Translate(ex, CacheCommand.Get, subject) is { } mapped)
        {
            CommandObserver.Failed(this, context, mapped);
            throw mapped;
        }
        catch (Exception ex) when (Report(context, ex))
        {
            throw;
        }
        finally
        {
            running?.Exit();
        }
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => ValuesOf(await MultiTryGetCoreAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => await MultiTryGetCoreAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false);

    private async ValueTask<CacheResult<T>[]> MultiTryGetCoreAsync<T>(IEnumerable<string> keys, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var given = MaterializeKeys(keys);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return new CacheResult<T>[given.Length];
        }

        var batch = PrepareKeys(given, @namespace);
        return await RunAsync(
            new CommandRequest(CacheCommand.MultiGet, null, given, batch.Namespace, Subject: FirstOf(batch.FullKeys)),
            (batch, serializer),
            static (cache, s, ct) => cache.ReadAllAsync<T>(s.batch, s.serializer, ct),
            cancellationToken,
            Outcomes<T>.Batch).ConfigureAwait(false);
    }

    private async ValueTask<CacheResult<T>[]> ReadAllAsync<T>(PreparedBatch batch, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var entries = batch.Keys.Length == 0 ? [] : await GetEntriesAsync(batch.FullKeys, cancellationToken).ConfigureAwait(false);
        return await DecodeAllAsync<T>(batch.Keys, entries, serializer, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> MultiSetAsync<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        var expiry = ResolveTtl(ttl);
        cancellationToken.ThrowIfCancellationRequested();
        if (PrepareMultiSet(pairs, @namespace, serializer, out var values) is not { } batch)
        {
            return true;
        }

        return await RunAsync(
            new CommandRequest(CacheCommand.MultiSet, null, batch.Keys, batch.Namespace, values, expiry, Subject: FirstOf(batch.Entries)),
            (batch, expiry),
            static (cache, s, ct) =>
            {
                cache._fences.Move(s.batch.Entries);
                return s.batch.Entries.Length == 0 ? new ValueTask<bool>(true) : cache.SetEntriesAsync(s.batch.Entries, s.batch.Namespace, s.expiry, ct);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return false;
        }

        var read = PrepareKey(key, @namespace);
        return await RunAsync(
            new CommandRequest(CacheCommand.Exists, key, Namespace: read.Namespace, Subject: read.FullKey),
            read,
            static (cache, s, ct) => cache.ContainsEntryAsync(s.FullKey, ct),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return delta;
        }

        var target = PrepareKey(key, @namespace);
        return await RunAsync(
            new CommandRequest(CacheCommand.Increment, key, Namespace: target.Namespace, Subject: target.FullKey, Value: delta),
            (target, delta),
            static (cache, s, ct) =>
            {
                cache._fences.Move(s.target.FullKey);
                return cache.IncrementEntryAsync(s.target.FullKey, s.target.Namespace, s.delta, ct);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return 0;
        }

        var target = PrepareKey(key, @namespace);
        return await RunAsync(
            new CommandRequest(CacheCommand.Delete, key, Namespace: target.Namespace, Subject: target.FullKey),
            target,
            static (cache, s, ct) =>
            {
                cache._fences.Move(s.FullKey);
                return cache.RemoveEntryAsync(s.FullKey, ct);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return true;
        }

        var ns = ResolveNamespace(@namespace);
        return await RunAsync(
            new CommandRequest(CacheCommand.Clear, null, Namespace: ns),
            ns,
            static (cache, ns, ct) =>
            {
                cache._fences.MoveAll();
                return cache.ClearEntriesAsync(ns, ct);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        Guard.Key(key);
        var expiry = TtlRules.Normalize(ttl, nameof(ttl));
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return false;
        }

        var target = PrepareKey(key, @namespace);
        return await RunAsync(
            new CommandRequest(CacheCommand.Expire, key, Namespace: target.Namespace, Subject: target.FullKey, Ttl: expiry),
            (target, expiry),
            static (cache, s, ct) =>
            {
                cache._fences.Move(s.target.FullKey);
                return cache.ExpireEntryAsync(s.target.FullKey, s.expiry, ct);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        args ??= [];
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return null;
        }

        return await RunAsync(
            new CommandRequest(CacheCommand.Raw, null, Value: args, Subject: command),
            (command, args),
            static (cache, s, ct) => cache.ExecuteRawAsync(s.command, s.args, ct),
            cancellationToken).ConfigureAwait(false);
    }
}
