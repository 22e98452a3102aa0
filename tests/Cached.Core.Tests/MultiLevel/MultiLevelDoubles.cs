using Cached.Plugins;

namespace Cached.Tests.MultiLevel;

/// <summary>A plugin that takes its cache down: while <see cref="Down"/>, every command fails as an unreachable server does.</summary>
internal sealed class Outage : CachePlugin
{
    public volatile bool Down;

    /// <summary>While set, only writes fail: reads reach the cache.</summary>
    public volatile bool WritesOnly;

    public override void Pre(CacheCommandContext context)
    {
        if (Down && (!WritesOnly || context.Command is CacheCommand.Set or CacheCommand.MultiSet or CacheCommand.Delete))
        {
            throw new CacheBackendException($"L2 is down ({context.Command})", null, unreachable: true);
        }
    }
}

/// <summary>A plugin that holds a read of one key after it has read the value and before it returns: a race, forced.</summary>
internal sealed class ReadHold(string key) : CachePlugin
{
    public readonly ManualResetEventSlim Reached = new(false);

    public readonly ManualResetEventSlim Release = new(false);

    public override void Post(CacheCommandContext context)
    {
        if (context.Command == CacheCommand.Get && context.Key == key && !Release.IsSet)
        {
            Reached.Set();
            Release.Wait(TimeSpan.FromSeconds(10));
        }
    }
}

/// <summary>Nodes of one deployment in one process: each with its own L1, all sharing one L2 and one backplane.</summary>
internal sealed class Nodes : IDisposable
{
    public Nodes(ICache l2, TimeProvider? time = null, TimeSpan? l1Ttl = null, int count = 2)
    {
        L2 = l2;
        var backplane = new MemoryBackplane();
        Backplane = backplane;
        All = Enumerable.Range(0, count)
            .Select(_ => new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time ?? TimeProvider.System }, l2, backplane) { L1Ttl = l1Ttl })
            .ToArray();
    }

    public ICache L2 { get; }

    public MemoryBackplane Backplane { get; }

    public MultiLevelCache[] All { get; }

    public MultiLevelCache A => All[0];

    public MultiLevelCache B => All[1];

    public void Dispose()
    {
        foreach (var node in All)
        {
            node.L1.Dispose();
        }

        L2.Dispose();
    }
}

/// <summary>A plugin that holds the first Set after it reached the store, before the command returns.</summary>
internal sealed class WriteHold : CachePlugin
{
    private int _armed;

    /// <summary>Holds the next Set.</summary>
    public void Arm() => Volatile.Write(ref _armed, 1);

    public readonly ManualResetEventSlim Reached = new(false);

    public readonly ManualResetEventSlim Release = new(false);

    public override void Post(CacheCommandContext context)
    {
        if (context.Command == CacheCommand.Set && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            Reached.Set();
            Release.Wait(TimeSpan.FromSeconds(10));
        }
    }
}

/// <summary>A plugin that fails writes as a server that answered and refused (out of memory, say).</summary>
internal sealed class Refusal : CachePlugin
{
    public override void Pre(CacheCommandContext context)
    {
        if (context.Command == CacheCommand.Set)
        {
            throw new CacheBackendException("OOM command not allowed", null);
        }
    }
}

/// <summary>An in-process backplane whose sends and subscriptions can be made to fail.</summary>
internal sealed class FlakyBackplane : ICacheBackplane
{
    private readonly MemoryBackplane _inner = new();

    public volatile bool FailPublish;

    public volatile bool FailSubscribe;

    public int Subscribes;

    public IDisposable Subscribe(string channel, IBackplaneSubscriber subscriber)
    {
        Interlocked.Increment(ref Subscribes);
        return FailSubscribe ? throw new CacheBackendException("subscribe refused", null) : _inner.Subscribe(channel, subscriber);
    }

    public void Publish(string channel, BackplaneMessage message)
    {
        if (FailPublish)
        {
            throw new CacheBackendException("backplane down", null, unreachable: true);
        }

        _inner.Publish(channel, message);
    }

    public ValueTask PublishAsync(string channel, BackplaneMessage message, CancellationToken cancellationToken = default)
        => FailPublish ? ValueTask.FromException(new CacheBackendException("backplane down", null, unreachable: true)) : _inner.PublishAsync(channel, message, cancellationToken);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}

/// <summary>Waits for background work (a retried write) that a test cannot await directly.</summary>
internal static class Waits
{
    /// <summary>Returns once <paramref name="condition"/> holds; fails the test after 10 s.</summary>
    public static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "timed out");
            await Task.Delay(10);
        }
    }
}

/// <summary>
/// A distributed store whose writes, once armed, wait at a gate before they apply, whatever the caller's token says: a
/// remote store that applies a command after its caller stopped waiting.
/// </summary>
internal sealed class LateStore : Microsoft.Extensions.Caching.Distributed.IDistributedCache
{
    private readonly Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache _inner =
        new(Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions()));

    private TaskCompletionSource? _gate;

    /// <summary>Holds the next writes until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held writes apply.</summary>
    public void Release() => _gate?.TrySetResult();

    public byte[]? Get(string key) => _inner.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => _inner.GetAsync(key, token);

    public void Set(string key, byte[] value, Microsoft.Extensions.Caching.Distributed.DistributedCacheEntryOptions options) => _inner.Set(key, value, options);

    public async Task SetAsync(string key, byte[] value, Microsoft.Extensions.Caching.Distributed.DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        if (_gate is { } gate)
        {
            await gate.Task;
        }

        await _inner.SetAsync(key, value, options, CancellationToken.None);
    }

    public void Refresh(string key) => _inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => _inner.RefreshAsync(key, token);

    public void Remove(string key) => _inner.Remove(key);

    public async Task RemoveAsync(string key, CancellationToken token = default)
    {
        if (_gate is { } gate)
        {
            await gate.Task;
        }

        await _inner.RemoveAsync(key, CancellationToken.None);
    }
}
