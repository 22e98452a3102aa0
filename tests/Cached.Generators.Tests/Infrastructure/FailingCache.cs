namespace Cached.Generators.Tests.Infrastructure;

/// <summary>A backend that is down: every primitive throws, as a Redis client does when the server is gone.</summary>
internal sealed class FailingCache : BaseCache
{
    public int Attempts;

    // As RedisCache does: the scenarios' records serialize, so every write gets as far as the backend.
    protected override Cached.Serializers.ISerializer CreateDefaultSerializer() => new Cached.Serializers.JsonSerializer();

    private T Fail<T>()
    {
        Interlocked.Increment(ref Attempts);
        throw new CacheException("backend down");
    }

    protected override CacheResult<object?> GetEntry(string key) => Fail<CacheResult<object?>>();

    protected override ValueTask<CacheResult<object?>> GetEntryAsync(string key, CancellationToken cancellationToken) => Fail<ValueTask<CacheResult<object?>>>();

    protected override CacheResult<object?>[] GetEntries(IReadOnlyList<string> keys) => Fail<CacheResult<object?>[]>();

    protected override ValueTask<CacheResult<object?>[]> GetEntriesAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken) => Fail<ValueTask<CacheResult<object?>[]>>();

    protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => Fail<bool>();

    protected override ValueTask<bool> AddEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => Fail<bool>();

    protected override ValueTask<bool> SetEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override bool SetEntries(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl) => Fail<bool>();

    protected override ValueTask<bool> SetEntriesAsync(IReadOnlyList<KeyValuePair<string, object?>> entries, string? @namespace, TimeSpan? ttl, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override bool ContainsEntry(string key) => Fail<bool>();

    protected override ValueTask<bool> ContainsEntryAsync(string key, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override long IncrementEntry(string key, string? @namespace, long delta) => Fail<long>();

    protected override ValueTask<long> IncrementEntryAsync(string key, string? @namespace, long delta, CancellationToken cancellationToken) => Fail<ValueTask<long>>();

    protected override int RemoveEntry(string key) => Fail<int>();

    protected override ValueTask<int> RemoveEntryAsync(string key, CancellationToken cancellationToken) => Fail<ValueTask<int>>();

    protected override bool RemoveEntryIfEquals(string key, object? expected) => Fail<bool>();

    protected override ValueTask<bool> RemoveEntryIfEqualsAsync(string key, object? expected, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override bool ClearEntries(string? @namespace) => Fail<bool>();

    protected override ValueTask<bool> ClearEntriesAsync(string? @namespace, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override bool ExpireEntry(string key, TimeSpan? ttl) => Fail<bool>();

    protected override ValueTask<bool> ExpireEntryAsync(string key, TimeSpan? ttl, CancellationToken cancellationToken) => Fail<ValueTask<bool>>();

    protected override object? GetEntryVersion(string key) => Fail<object?>();

    protected override ValueTask<object?> GetEntryVersionAsync(string key, CancellationToken cancellationToken) => Fail<ValueTask<object?>>();

    protected override CacheResult<object?> SetEntryIfVersion(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl) => Fail<CacheResult<object?>>();

    protected override ValueTask<CacheResult<object?>> SetEntryIfVersionAsync(string key, string? @namespace, object? version, object? payload, TimeSpan? ttl, CancellationToken cancellationToken) => Fail<ValueTask<CacheResult<object?>>>();

    protected override object? ExecuteRaw(string command, object?[] args) => Fail<object?>();

    protected override ValueTask<object?> ExecuteRawAsync(string command, object?[] args, CancellationToken cancellationToken) => Fail<ValueTask<object?>>();
}
