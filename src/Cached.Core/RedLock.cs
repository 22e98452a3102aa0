using Cached.Capabilities;
using Cached.Runtime;

namespace Cached;

/// <summary>
/// A lock shared through the cache's backend (pycached's <c>RedLock</c>): a random token stored under
/// <c>key-lock</c> with the lease as its time to live, so callers in different processes exclude each other.
/// <code>
/// using (new RedLock(cache, "key", lease: TimeSpan.FromSeconds(2))) { ... }
/// await using (await RedLock.AcquireAsync(cache, "key", TimeSpan.FromSeconds(2))) { ... }
/// </code>
/// </summary>
/// <remarks>
/// A caller that finds the lock held waits, polling from 5 ms up to 100 ms so as not to hammer the server, until the
/// holder releases it (then it takes the lock) or until one lease has passed (then it goes on without the lock, as
/// aiocache's does: <see cref="IsAcquired"/> is false). A lease shorter than the work lets others in early; choose it
/// longer than the work. The lock is released only by its owner: a lock that expired and was taken by someone else
/// is left to them. <c>[Cached(Lease = ...)]</c> uses this same lock.
/// </remarks>
public sealed class RedLock : IDisposable, IAsyncDisposable
{
    private static readonly TimeSpan s_firstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_lastPoll = TimeSpan.FromMilliseconds(100);

    private readonly ILockingCache _cache;
    private readonly string? _namespace;
    private readonly string _token = Guid.NewGuid().ToString("N");
    private int _released;

    /// <summary>Takes the lock, waiting as the remarks describe.</summary>
    /// <exception cref="ArgumentException">The cache cannot hold locks (<see cref="ILockingCache"/>), or the key is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The lease is not positive.</exception>
    /// <exception cref="NotSupportedException">The cache is one whose backend has no atomic add (a cache over an
    /// <c>IDistributedCache</c>, or two levels over one): a lock taken as a read then a write would not be one.</exception>
    public RedLock(ICache cache, string key, TimeSpan lease, string? @namespace = null)
        : this(Check(cache, key, lease), key, lease, @namespace, acquire: true)
    {
    }

    private RedLock(ILockingCache cache, string key, TimeSpan lease, string? @namespace, bool acquire)
    {
        _cache = cache;
        Key = key;
        Lease = lease;
        _namespace = @namespace;
        if (acquire)
        {
            IsAcquired = Acquire();
        }
    }

    /// <summary>The key the lock protects (stored under <c>key-lock</c>).</summary>
    public string Key { get; }

    /// <summary>How long the lock lives if its owner never releases it.</summary>
    public TimeSpan Lease { get; }

    /// <summary>True when this caller holds the lock; false when it waited out a lease and went on without it.</summary>
    public bool IsAcquired { get; private set; }

    /// <summary>Takes the lock asynchronously, waiting as the remarks describe.</summary>
    public static async ValueTask<RedLock> AcquireAsync(ICache cache, string key, TimeSpan lease, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        var redLock = new RedLock(Check(cache, key, lease), key, lease, @namespace, acquire: false);
        redLock.IsAcquired = await redLock.AcquireAsync(cancellationToken).ConfigureAwait(false);
        return redLock;
    }

    /// <summary>Releases the lock if this caller still owns it.</summary>
    public void Dispose()
    {
        if (IsAcquired && Interlocked.Exchange(ref _released, 1) == 0)
        {
            _cache.ReleaseLock(Key, _namespace, _token);
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public async ValueTask DisposeAsync()
    {
        if (IsAcquired && Interlocked.Exchange(ref _released, 1) == 0)
        {
            await _cache.ReleaseLockAsync(Key, _namespace, _token, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private bool Acquire()
    {
        var deadline = Deadline();
        var pause = s_firstPoll;
        while (true)
        {
            var attempt = LockAttempts.Try(_cache, Key, _namespace, _token, Lease);
            if (attempt != LockAttempt.Held)
            {
                return attempt == LockAttempt.Taken;
            }

            if (_cache.TimeProvider.GetTimestamp() >= deadline)
            {
                return false;
            }

            Thread.Sleep(pause);
            pause = Next(pause);
        }
    }

    private async ValueTask<bool> AcquireAsync(CancellationToken cancellationToken)
    {
        var deadline = Deadline();
        var pause = s_firstPoll;
        while (true)
        {
            var attempt = await LockAttempts.TryAsync(_cache, Key, _namespace, _token, Lease, cancellationToken).ConfigureAwait(false);
            if (attempt != LockAttempt.Held)
            {
                return attempt == LockAttempt.Taken;
            }

            if (_cache.TimeProvider.GetTimestamp() >= deadline)
            {
                return false;
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            pause = Next(pause);
        }
    }

    private long Deadline() => _cache.TimeProvider.GetTimestamp() + (long)(Lease.TotalSeconds * _cache.TimeProvider.TimestampFrequency);

    private static TimeSpan Next(TimeSpan pause) => pause * 2 < s_lastPoll ? pause * 2 : s_lastPoll;

    private static ILockingCache Check(ICache cache, string key, TimeSpan lease)
    {
        ArgumentNullException.ThrowIfNull(cache);
        Guard.Key(key);
        if (lease <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(lease), lease, "A lease must be positive.");
        }

        return cache as ILockingCache ?? throw new ArgumentException($"RedLock needs a cache that can hold locks ({nameof(ILockingCache)}), which {cache.GetType()} is not.", nameof(cache));
    }
}
