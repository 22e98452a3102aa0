using System.Diagnostics;
using System.Runtime.CompilerServices;
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
        CheckKey(key, @namespace);
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
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    private async ValueTask<bool> AddOrThrowAsync(PreparedWrite write, TimeSpan? expiry, CancellationToken cancellationToken)
        => await AddEntryAsync(write.FullKey, write.Namespace, write.Payload, expiry, cancellationToken).ConfigureAwait(false)
            ? true
            : throw new KeyExistsException(write.Key);

    /// <inheritdoc />
    public ValueTask<T?> GetAsync<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
    {
        // The read's own frame answers the value or the default (AsValue), so that post hooks see what the caller gets.
        if (KeyProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<T?>(problem);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<T?>(cancellationToken);
        }

        if (Cache.Disabled)
        {
            return new ValueTask<T?>(@default);
        }

        var read = PrepareKey(key, @namespace);
        return RunReadAsync<T, AsValue<T>, T?>(new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey), read, serializer, awaitedOnce: false, new AsValue<T>(@default), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => TryGetCoreAsync<T>(key, @namespace, serializer, awaitedOnce: false, cancellationToken);

    /// <summary>
    /// <see cref="TryGetAsync{T}"/> for a caller of this library that awaits the result exactly once and keeps nothing
    /// of it (<see cref="GetAsync{T}"/>, generated methods): a remote read's frame comes from a pool.
    /// </summary>
    internal ValueTask<CacheResult<T>> TryGetOnceAsync<T>(string key, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
        => TryGetCoreAsync<T>(key, @namespace, serializer, awaitedOnce: true, cancellationToken);

    private ValueTask<CacheResult<T>> TryGetCoreAsync<T>(string key, string? @namespace, ISerializer? serializer, bool awaitedOnce, CancellationToken cancellationToken)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            // In the task, as every other async command's argument error (this method is not async itself).
            return ValueTask.FromException<CacheResult<T>>(problem);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // In the task, as an async method would: a caller starting several calls before awaiting them sees it there.
            return ValueTask.FromCanceled<CacheResult<T>>(cancellationToken);
        }

        if (Cache.Disabled)
        {
            return ValueTask.FromResult(CacheResult<T>.Miss);
        }

        var read = PrepareKey(key, @namespace);
        return RunReadAsync<T, AsRead<T>, CacheResult<T>>(new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey), read, serializer, awaitedOnce, default, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<T?>> MultiGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => ValuesOf(await MultiTryGetCoreAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<CacheResult<T>>> MultiTryGetAsync<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null, CancellationToken cancellationToken = default)
        => await MultiTryGetCoreAsync<T>(keys, @namespace, serializer, cancellationToken).ConfigureAwait(false);

    // Its callers are async methods: a bad key fails their task, as before.
    private ValueTask<CacheResult<T>[]> MultiTryGetCoreAsync<T>(IEnumerable<string> keys, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
        => MultiTryGetOfAsync<T>(MaterializeKeys(keys), @namespace, serializer, cancellationToken);

    /// <inheritdoc cref="MultiTryGetOwned{T}"/>
    internal ValueTask<CacheResult<T>[]> MultiTryGetOwnedAsync<T>(string[] keys, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
        => MultiTryGetOfAsync<T>(CheckKeys(keys), @namespace, serializer, cancellationToken);

    private async ValueTask<CacheResult<T>[]> MultiTryGetOfAsync<T>(string[] given, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        CheckNamespace(@namespace);
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
            Outcomes<T>.Batch, awaitedOnce: true).ConfigureAwait(false);
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
        if (PrepareMultiSet(pairs, @namespace, serializer, out var values, cancellationToken) is not { } batch)
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
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExistsAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key, @namespace);
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
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<long> IncrementAsync(string key, long delta = 1, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key, @namespace);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            // aiocache's fake answer under its disable switch, whatever the delta.
            return 1;
        }

        var target = PrepareKey(key, @namespace);
        try
        {
            return await RunAsync(
                new CommandRequest(CacheCommand.Increment, key, Namespace: target.Namespace, Subject: target.FullKey, Value: delta),
                (target, delta),
                static (cache, s, ct) =>
                {
                    cache._fences.Move(s.target.FullKey);
                    return cache.IncrementEntryAsync(s.target.FullKey, s.target.Namespace, s.delta, ct);
                },
                cancellationToken, awaitedOnce: true).ConfigureAwait(false);
        }
        catch (CacheValueNotIntegerException refused)
        {
            if (await HoldsStampedAsync(target.FullKey, cancellationToken).ConfigureAwait(false))
            {
                throw CacheValueNotIntegerException.OfStamped(refused.Key, refused);
            }

            throw;
        }
    }

    /// <inheritdoc cref="HoldsStamped"/>
    /// <remarks>Bounded by <see cref="Timeout"/>, as a command is: a look that takes longer says nothing.</remarks>
    private async ValueTask<bool> HoldsStampedAsync(string fullKey, CancellationToken cancellationToken)
    {
        Task<CacheResult<object?>>? look = null;
        try
        {
            look = GetEntryAsync(fullKey, cancellationToken).AsTask();
            var entry = await (_timeout is { } timeout ? TokenWait.WaitAsync(look, timeout, TimeProvider.System, cancellationToken) : look).ConfigureAwait(false);
            return entry.Found && Resilience.StampFormat.TryUnwrap(entry.Value, out _, out _, out _);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (look is not null)
            {
                Abandon(look);
            }

            return false;
        }
    }

    /// <inheritdoc />
    public async ValueTask<int> DeleteAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key, @namespace);
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
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ClearAsync(string? @namespace = null, CancellationToken cancellationToken = default)
    {
        var ns = ResolveNamespace(@namespace);
        RefuseUnstorable(ns);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return true;
        }

        return await RunAsync(
            new CommandRequest(CacheCommand.Clear, null, Namespace: ns),
            ns,
            static (cache, ns, ct) =>
            {
                cache._fences.MoveAll();
                return cache.ClearEntriesAsync(ns, ct);
            },
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> ExpireAsync(string key, TimeSpan? ttl, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        CheckKey(key, @namespace);
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
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<object?> RawAsync(string command, object?[]? args = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        args = PrepareRawArguments(command, args ?? []);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return null;
        }

        return await RunAsync(
            new CommandRequest(CacheCommand.Raw, null, Value: args, Subject: command),
            (command, args),
            static (cache, s, ct) =>
            {
                if (!cache.RawCommandOnlyReads(s.command))
                {
                    cache._fences.MoveAll();
                }

                return cache.ExecuteRawAsync(s.command, s.args, ct);
            },
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }
}
