using Microsoft.Extensions.Caching.Distributed;

namespace Cached.Tests.Ecosystem;

/// <summary>A provider whose server is gone: every call fails as a socket error, as real clients report it.</summary>
internal sealed class UnreachableStore : IDistributedCache
{
    public byte[]? Get(string key) => throw Lost();

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Task.FromException<byte[]?>(Lost());

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw Lost();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => Task.FromException(Lost());

    public void Refresh(string key) => throw Lost();

    public Task RefreshAsync(string key, CancellationToken token = default) => Task.FromException(Lost());

    public void Remove(string key) => throw Lost();

    public Task RemoveAsync(string key, CancellationToken token = default) => Task.FromException(Lost());

    private static IOException Lost() => new("connection lost", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
}

/// <summary>A provider whose server can be taken down and brought back, counting the writes that reached it.</summary>
internal sealed class SwitchableStore : IDistributedCache
{
    private readonly Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache _inner =
        new(Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions()));

    private int _writes;

    public bool Down { get; set; }

    /// <summary>Writes attempted, whether or not the server was up.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public byte[]? Get(string key) => Down ? throw Lost() : _inner.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => Down ? Task.FromException<byte[]?>(Lost()) : _inner.GetAsync(key, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        Interlocked.Increment(ref _writes);
        if (Down)
        {
            throw Lost();
        }

        _inner.Set(key, value, options);
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Interlocked.Increment(ref _writes);
        return Down ? Task.FromException(Lost()) : _inner.SetAsync(key, value, options, token);
    }

    public void Refresh(string key) => _inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => _inner.RefreshAsync(key, token);

    public void Remove(string key) => _inner.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => _inner.RemoveAsync(key, token);

    private static IOException Lost() => new("connection lost", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
}
