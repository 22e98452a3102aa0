using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Runtime;

namespace Cached;

/// <summary>
/// The optional abilities every <see cref="BaseCache"/> offers through small interfaces, so that the runtime never
/// downcasts: lock entries (<see cref="ILockingCache"/>), compare-and-set (<see cref="IVersionedCache"/>) and its alias
/// (<see cref="IAliasedCache"/>). Lock traffic bypasses the serializer, plugins and telemetry, as aiocache's does, but
/// still runs under the timeout and the backend's error mapping.
/// </summary>
public abstract partial class BaseCache : ILockingCache, IVersionedCache, IAliasedCache
{
    /// <inheritdoc />
    void IAliasedCache.AssignAlias(string alias) => Interlocked.CompareExchange(ref _alias, alias, null);

    /// <inheritdoc />
    /// <remarks>
    /// With caching switched off (<see cref="Cache.Disabled"/>) the lock is taken without touching the backend, as
    /// aiocache's <c>add</c> answers true then: nothing is stored, so there is nothing to hold another caller off.
    /// </remarks>
    bool ILockingCache.TryAcquireLock(string key, string? @namespace, string token, TimeSpan lease)
    {
        var entry = PrepareLock(key, @namespace, token, lease);
        return Cache.Disabled || Run(LockRequest(CacheCommand.Add, key, entry.FullKey), entry, static (cache, s) => cache.AddEntry(s.FullKey, s.Namespace, s.Payload, s.Lease));
    }

    /// <inheritdoc />
    /// <remarks>A token cancelled already gives a cancelled task and takes nothing, as every async command does.</remarks>
    ValueTask<bool> ILockingCache.TryAcquireLockAsync(string key, string? @namespace, string token, TimeSpan lease, CancellationToken cancellationToken)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<bool>(problem);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        var entry = PrepareLock(key, @namespace, token, lease);
        return Cache.Disabled
            ? new ValueTask<bool>(true)
            : RunAsync(LockRequest(CacheCommand.Add, key, entry.FullKey), entry, static (cache, s, ct) => cache.AddEntryAsync(s.FullKey, s.Namespace, s.Payload, s.Lease, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Sent with caching switched off too: a lock taken while it was on must not be left to block other callers for
    /// its whole lease (a lock taken while off was never stored, and its release finds nothing). Sent while the circuit
    /// breaker is open too, for the same reason (<see cref="ReleaseLockPastBreakerAsync"/>): a release is one command
    /// per lock, and on a backend that still hangs it costs one timeout, where a refused one left the lock on a server
    /// that answers (a healthy cluster primary) for its whole lease, its holder unable to try again.
    /// </remarks>
    bool ILockingCache.ReleaseLock(string key, string? @namespace, string token)
    {
        var entry = PrepareLock(key, @namespace, token, default);
        return Run(LockRequest(CacheCommand.Delete, key, entry.FullKey) with { PastBreaker = true }, entry, static (cache, s) => cache.RemoveEntryIfEquals(s.FullKey, s.Payload));
    }

    /// <inheritdoc />
    /// <remarks>Sent while the circuit breaker is open too, as <see cref="ILockingCache.ReleaseLock"/> is.</remarks>
    ValueTask<bool> ILockingCache.ReleaseLockAsync(string key, string? @namespace, string token, CancellationToken cancellationToken)
        => ReleaseLockEntryAsync(key, @namespace, token, cancellationToken);

    /// <summary>
    /// <see cref="ILockingCache.ReleaseLockAsync"/> without the caller's token: the release of a lock whose take failed
    /// unanswered (the take opened the breaker) must follow that take on its connection, or a take the server runs late
    /// leaves a lock nobody holds for its whole lease.
    /// </summary>
    internal ValueTask<bool> ReleaseLockPastBreakerAsync(string key, string? @namespace, string token)
        => ReleaseLockEntryAsync(key, @namespace, token, CancellationToken.None);

    private ValueTask<bool> ReleaseLockEntryAsync(string key, string? @namespace, string token, CancellationToken cancellationToken)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<bool>(problem);
        }

        var entry = PrepareLock(key, @namespace, token, default);
        return RunAsync(LockRequest(CacheCommand.Delete, key, entry.FullKey) with { PastBreaker = true }, entry, static (cache, s, ct) => cache.RemoveEntryIfEqualsAsync(s.FullKey, s.Payload, ct), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>With caching switched off, false without touching the backend, as <c>Exists</c> answers then.</remarks>
    bool ILockingCache.IsLocked(string key, string? @namespace)
    {
        CheckKey(key, @namespace);
        var lockKey = LockKey(key, ResolveNamespace(@namespace));
        return !Cache.Disabled && Run(LockRequest(CacheCommand.Exists, key, lockKey), lockKey, static (cache, lockKey) => HoldsLockToken(cache.GetEntry(lockKey)));
    }

    /// <inheritdoc />
    ValueTask<bool> ILockingCache.IsLockedAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<bool>(problem);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        var lockKey = LockKey(key, ResolveNamespace(@namespace));
        return Cache.Disabled
            ? new ValueTask<bool>(false)
            : RunAsync(LockRequest(CacheCommand.Exists, key, lockKey), lockKey, static (cache, lockKey, ct) => cache.HoldsLockTokenAsync(lockKey, ct), cancellationToken);
    }

    private async ValueTask<bool> HoldsLockTokenAsync(string lockKey, CancellationToken cancellationToken)
        => HoldsLockToken(await GetEntryAsync(lockKey, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// What the lock key of <paramref name="key"/> holds: nothing, a lock token, or another value. Where
    /// <see cref="ILockingCache.IsLocked"/> answers false for both a free lock and a value named like one, a lock
    /// attempt tells them apart: a free lock is taken again, and only another value makes it go on without one.
    /// </summary>
    internal LockProbe ProbeLock(string key, string? @namespace)
    {
        var lockKey = LockKey(key, ResolveNamespace(@namespace));
        return Run(LockRequest(CacheCommand.Exists, key, lockKey), lockKey, static (cache, lockKey) => ProbeOf(cache.GetEntry(lockKey)));
    }

    /// <inheritdoc cref="ProbeLock"/>
    internal ValueTask<LockProbe> ProbeLockAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        var lockKey = LockKey(key, ResolveNamespace(@namespace));
        return RunAsync(LockRequest(CacheCommand.Exists, key, lockKey), lockKey, static (cache, lockKey, ct) => cache.ProbeLockEntryAsync(lockKey, ct), cancellationToken, awaitedOnce: true);
    }

    private async ValueTask<LockProbe> ProbeLockEntryAsync(string lockKey, CancellationToken cancellationToken)
        => ProbeOf(await GetEntryAsync(lockKey, cancellationToken).ConfigureAwait(false));

    private static LockProbe ProbeOf(CacheResult<object?> entry)
        => !entry.Found ? LockProbe.Free : HoldsLockToken(entry) ? LockProbe.Held : LockProbe.Other;

    /// <summary>
    /// Whether a lock key holds a lock token: a UUID, ours (<c>N</c> format) or Python's (<c>D</c> format). A value
    /// stored under a key that merely ends in <c>-lock</c> is not a lock, so it never makes a lease wait.
    /// </summary>
    private static bool HoldsLockToken(CacheResult<object?> entry)
        => entry.Found && entry.Value switch
        {
            string text => Guid.TryParse(text, out _),
            byte[] { Length: <= 64 } bytes => Guid.TryParse(System.Text.Encoding.UTF8.GetString(bytes), out _),
            _ => false,
        };

    /// <inheritdoc />
    object? IVersionedCache.GetVersion(string key, string? @namespace)
    {
        var fullKey = VersionKey(key, @namespace);
        return Run(LockRequest(CacheCommand.Get, key, fullKey), fullKey, static (cache, fullKey) => cache.GetEntryVersion(fullKey));
    }

    /// <inheritdoc />
    ValueTask<object?> IVersionedCache.GetVersionAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<object?>(problem);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<object?>(cancellationToken);
        }

        var fullKey = VersionKey(key, @namespace);
        return RunAsync(LockRequest(CacheCommand.Get, key, fullKey), fullKey, static (cache, fullKey, ct) => cache.GetEntryVersionAsync(fullKey, ct), cancellationToken);
    }

    /// <inheritdoc />
    CacheResult<object?> IVersionedCache.SetIfVersion<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl)
    {
        CheckKey(key, @namespace);
        RequireConditionalOperations();
        var expiry = ResolveTtl(ttl);
        var write = PrepareWrite(key, value, @namespace, null);
        return Run(
            new CommandRequest(CacheCommand.Set, key, Namespace: write.Namespace, Subject: write.FullKey, Value: value, Ttl: expiry),
            (write, version, expiry),
            static (cache, s) =>
            {
                cache._fences.Move(s.write.FullKey);
                return cache.SetEntryIfVersion(s.write.FullKey, s.write.Namespace, s.version, s.write.Payload, s.expiry);
            },
            static stored => new CommandOutcome(stored.Found));
    }

    /// <inheritdoc />
    ValueTask<CacheResult<object?>> IVersionedCache.SetIfVersionAsync<T>(string key, string? @namespace, object? version, T value, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        if (KeyProblem(key, @namespace) is { } problem)
        {
            return ValueTask.FromException<CacheResult<object?>>(problem);
        }

        RequireConditionalOperations();
        var expiry = ResolveTtl(ttl);
        if (cancellationToken.IsCancellationRequested)
        {
            // A caller that already left writes nothing, as every async command of the cache.
            return ValueTask.FromCanceled<CacheResult<object?>>(cancellationToken);
        }

        var write = PrepareWrite(key, value, @namespace, null);
        return RunAsync(
            new CommandRequest(CacheCommand.Set, key, Namespace: write.Namespace, Subject: write.FullKey, Value: value, Ttl: expiry),
            (write, version, expiry),
            static (cache, s, ct) =>
            {
                cache._fences.Move(s.write.FullKey);
                return cache.SetEntryIfVersionAsync(s.write.FullKey, s.write.Namespace, s.version, s.write.Payload, s.expiry, ct);
            },
            cancellationToken,
            static stored => new CommandOutcome(stored.Found));
    }

    /// <summary>
    /// A request of lock or version traffic, about <paramref name="backendKey"/>: the key it reaches (a lock's is
    /// <c>&lt;key&gt;-lock</c>), which its errors name and whose part of the backend it counts on
    /// (<see cref="FaultDomainOf"/>); on a cluster a lock key is in another slot than its key.
    /// </summary>
    private static CommandRequest LockRequest(CacheCommand command, string key, string backendKey) => new(command, key, Observed: false, Subject: backendKey);

    private LockEntry PrepareLock(string key, string? @namespace, string token, TimeSpan lease)
    {
        // Checked here for the sync methods (the async ones refuse it in their task first): a null key took "-lock".
        CheckKey(key, @namespace);
        RequireConditionalOperations();
        var ns = ResolveNamespace(@namespace);
        return new LockEntry(LockKey(key, ns), ns, StoresReferences ? token : System.Text.Encoding.UTF8.GetBytes(token), TtlRules.ToWholeMilliseconds(lease));
    }

    private string VersionKey(string key, string? @namespace)
    {
        CheckKey(key, @namespace);
        RequireConditionalOperations();
        return BuildKey(key, @namespace);
    }

    private string LockKey(string key, string? ns) => BuildKeyIn(key + "-lock", ns);

    private readonly record struct LockEntry(string FullKey, string? Namespace, object Payload, TimeSpan Lease);
}
