using Cached.Pipeline;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Serializers;

namespace Cached;

/// <summary>
/// The sync commands. Each one checks its arguments, answers as a miss (or a no-op) when caching is switched off
/// (<see cref="Cache.Disabled"/>), builds its keys and payloads, and hands one backend operation to the pipeline
/// (<see cref="Run{TState, TResult}"/>). The async twins, in <c>BaseCache.AsyncCommands.cs</c>, share every step but the last.
/// </summary>
public abstract partial class BaseCache
{
    /// <inheritdoc />
    public bool Add<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
        => Write(CacheCommand.Add, key, value, ttl, @namespace, serializer);

    /// <inheritdoc />
    public bool Set<T>(string key, T value, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
        => Write(CacheCommand.Set, key, value, ttl, @namespace, serializer);

    /// <summary>Add and Set: the same checks and payload, then the backend's add-if-absent (failing on an existing key) or set.</summary>
    private bool Write<T>(CacheCommand command, string key, T value, TimeSpan? ttl, string? @namespace, ISerializer? serializer)
    {
        CheckKey(key, @namespace);
        var expiry = ResolveTtl(ttl);
        if (Cache.Disabled)
        {
            return true;
        }

        var write = PrepareWrite(key, value, @namespace, serializer);
        return Run(
            new CommandRequest(command, key, Namespace: write.Namespace, Subject: write.FullKey, Value: value, Ttl: expiry),
            (write, expiry, command),
            static (cache, s) =>
            {
                cache._fences.Move(s.write.FullKey);
                return s.command == CacheCommand.Add
                    ? (cache.AddEntry(s.write.FullKey, s.write.Namespace, s.write.Payload, s.expiry) ? true : throw new KeyExistsException(s.write.Key))
                    : cache.SetEntry(s.write.FullKey, s.write.Namespace, s.write.Payload, s.expiry);
            });
    }

    /// <inheritdoc />
    public T? Get<T>(string key, T? @default = default, string? @namespace = null, ISerializer? serializer = null)
    {
        var result = TryGetCore(key, @namespace, serializer, @default);
        return result.Found ? result.Value : @default;
    }

    /// <inheritdoc />
    public bool TryGet<T>(string key, out T? value, string? @namespace = null, ISerializer? serializer = null)
    {
        var result = TryGetCore<T>(key, @namespace, serializer);
        value = result.Value;
        return result.Found;
    }

    /// <summary>
    /// The read of one entry; the post hooks see <paramref name="default"/> as the result of a miss, as aiocache's
    /// <c>post_get</c> sees the value after default substitution (a default of its own costs a delegate per call).
    /// </summary>
    private CacheResult<T> TryGetCore<T>(string key, string? @namespace, ISerializer? serializer, T? @default = default)
    {
        CheckKey(key, @namespace);
        if (Cache.Disabled)
        {
            return CacheResult<T>.Miss;
        }

        var read = PrepareKey(key, @namespace);
        return Run(
            new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey),
            (read, serializer),
            static (cache, s) => cache.Decode<T>(s.read.Key, cache.GetEntry(s.read.FullKey), s.serializer),
            EqualityComparer<T?>.Default.Equals(@default, default) ? Outcomes<T>.Read : ReadOutcomeOr(@default));
    }

    // Its own method, so that a call without a default allocates no closure: the compiler would make one at the entry of
    // a method whose lambda captures a parameter, whichever branch runs.
    private static Func<CacheResult<T>, CommandOutcome> ReadOutcomeOr<T>(T? @default)
        => result => result.Found ? Outcomes<T>.Read(result) : Outcomes<T>.Read(result) with { Result = @default };

    /// <inheritdoc />
    public IReadOnlyList<T?> MultiGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null)
        => ValuesOf(MultiTryGetCore<T>(keys, @namespace, serializer));

    /// <inheritdoc />
    public IReadOnlyList<CacheResult<T>> MultiTryGet<T>(IEnumerable<string> keys, string? @namespace = null, ISerializer? serializer = null)
        => MultiTryGetCore<T>(keys, @namespace, serializer);

    private CacheResult<T>[] MultiTryGetCore<T>(IEnumerable<string> keys, string? @namespace, ISerializer? serializer)
        => MultiTryGetOf<T>(MaterializeKeys(keys), @namespace, serializer);

    /// <summary>
    /// <see cref="MultiTryGet{T}"/> of keys a caller in this library built for this call and hands over: they are checked,
    /// not copied (a generated <c>[MultiCached]</c> method's, one string per key).
    /// </summary>
    internal CacheResult<T>[] MultiTryGetOwned<T>(string[] keys, string? @namespace, ISerializer? serializer)
        => MultiTryGetOf<T>(CheckKeys(keys), @namespace, serializer);

    private CacheResult<T>[] MultiTryGetOf<T>(string[] given, string? @namespace, ISerializer? serializer)
    {
        CheckNamespace(@namespace);
        if (Cache.Disabled)
        {
            return new CacheResult<T>[given.Length];
        }

        var batch = PrepareKeys(given, @namespace);
        return Run(
            new CommandRequest(CacheCommand.MultiGet, null, given, batch.Namespace, Subject: FirstOf(batch.FullKeys)),
            (batch, serializer),
            static (cache, s) => cache.DecodeAll<T>(s.batch.Keys, s.batch.Keys.Length == 0 ? [] : cache.GetEntries(s.batch.FullKeys), s.serializer),
            Outcomes<T>.Batch);
    }

    /// <inheritdoc />
    public bool MultiSet<T>(IEnumerable<KeyValuePair<string, T>> pairs, TimeSpan? ttl = null, string? @namespace = null, ISerializer? serializer = null)
    {
        var expiry = ResolveTtl(ttl);
        if (PrepareMultiSet(pairs, @namespace, serializer, out var values) is not { } batch)
        {
            return true;
        }

        return Run(
            new CommandRequest(CacheCommand.MultiSet, null, batch.Keys, batch.Namespace, values, expiry, Subject: FirstOf(batch.Entries)),
            (batch, expiry),
            static (cache, s) =>
            {
                cache._fences.Move(s.batch.Entries);
                return s.batch.Entries.Length == 0 || cache.SetEntries(s.batch.Entries, s.batch.Namespace, s.expiry);
            });
    }

    /// <inheritdoc />
    public bool Exists(string key, string? @namespace = null)
    {
        CheckKey(key, @namespace);
        if (Cache.Disabled)
        {
            return false;
        }

        var read = PrepareKey(key, @namespace);
        return Run(new CommandRequest(CacheCommand.Exists, key, Namespace: read.Namespace, Subject: read.FullKey), read, static (cache, s) => cache.ContainsEntry(s.FullKey));
    }

    /// <inheritdoc />
    public long Increment(string key, long delta = 1, string? @namespace = null)
    {
        CheckKey(key, @namespace);
        if (Cache.Disabled)
        {
            // aiocache's fake answer under its disable switch, whatever the delta.
            return 1;
        }

        var target = PrepareKey(key, @namespace);
        try
        {
            return Run(
                new CommandRequest(CacheCommand.Increment, key, Namespace: target.Namespace, Subject: target.FullKey, Value: delta),
                (target, delta),
                static (cache, s) =>
                {
                    cache._fences.Move(s.target.FullKey);
                    return cache.IncrementEntry(s.target.FullKey, s.target.Namespace, s.delta);
                });
        }
        catch (CacheValueNotIntegerException refused)
        {
            // Not in a filter: the look is a round trip, which must not run before the command's own finally blocks.
            if (HoldsStamped(target.FullKey))
            {
                throw CacheValueNotIntegerException.OfStamped(refused.Key, refused);
            }

            throw;
        }
    }

    /// <summary>
    /// Whether <paramref name="fullKey"/> holds an entry written with entry options: asked after an increment was refused
    /// (one more read, on that path only), to say why. A failed look says nothing: the refusal stands as it was.
    /// </summary>
    private bool HoldsStamped(string fullKey)
    {
        try
        {
            return GetEntry(fullKey) is { Found: true } entry && Resilience.StampFormat.TryUnwrap(entry.Value, out _, out _, out _);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public int Delete(string key, string? @namespace = null)
    {
        CheckKey(key, @namespace);
        if (Cache.Disabled)
        {
            return 0;
        }

        var target = PrepareKey(key, @namespace);
        return Run(
            new CommandRequest(CacheCommand.Delete, key, Namespace: target.Namespace, Subject: target.FullKey),
            target,
            static (cache, s) =>
            {
                cache._fences.Move(s.FullKey);
                return cache.RemoveEntry(s.FullKey);
            });
    }

    /// <inheritdoc />
    public bool Clear(string? @namespace = null)
    {
        var ns = ResolveNamespace(@namespace);
        RefuseUnstorable(ns);
        if (Cache.Disabled)
        {
            return true;
        }

        return Run(
            new CommandRequest(CacheCommand.Clear, null, Namespace: ns),
            ns,
            static (cache, ns) =>
            {
                cache._fences.MoveAll();
                return cache.ClearEntries(ns);
            });
    }

    /// <inheritdoc />
    public bool Expire(string key, TimeSpan? ttl, string? @namespace = null)
    {
        CheckKey(key, @namespace);
        var expiry = TtlRules.Normalize(ttl, nameof(ttl));
        if (Cache.Disabled)
        {
            return false;
        }

        var target = PrepareKey(key, @namespace);
        return Run(
            new CommandRequest(CacheCommand.Expire, key, Namespace: target.Namespace, Subject: target.FullKey, Ttl: expiry),
            (target, expiry),
            static (cache, s) =>
            {
                cache._fences.Move(s.target.FullKey);
                return cache.ExpireEntry(s.target.FullKey, s.expiry);
            });
    }

    /// <inheritdoc />
    public object? Raw(string command, params object?[] args)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        args = PrepareRawArguments(command, args ?? []);
        if (Cache.Disabled)
        {
            return null;
        }

        return Run(
            new CommandRequest(CacheCommand.Raw, null, Value: args, Subject: command),
            (command, args),
            static (cache, s) =>
            {
                if (!cache.RawCommandOnlyReads(s.command))
                {
                    cache._fences.MoveAll();
                }

                return cache.ExecuteRaw(s.command, s.args);
            });
    }
}
