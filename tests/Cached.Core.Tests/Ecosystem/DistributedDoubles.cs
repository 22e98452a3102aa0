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
