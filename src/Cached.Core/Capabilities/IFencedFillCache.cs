using Cached.Serializers;

namespace Cached.Capabilities;

/// <summary>
/// A cache whose fills are fenced: a value computed after a miss is stored only if no write, delete, expiry or clear of
/// its key happened since the fill opened, so an invalidation is final. Generated methods fill through it. Every
/// <see cref="BaseCache"/> implements it; <c>RedisCache</c> fences across processes as well as within one.
/// </summary>
/// <remarks>
/// Open the fill after the miss and before computing the value, so that what is computed is never older than the
/// fence; dispose the ticket when done, stored or not. On a store in this process (<see cref="SimpleMemoryCache"/>),
/// keys share a fixed set of fences (1,024 per cache), each remembering the keys of its last 8 moves: more writes of
/// other keys sharing this key's fence during the fill also keep it from storing. That only ever refuses a value,
/// never stores a stale one.
/// </remarks>
public interface IFencedFillCache
{
    /// <summary>Opens a fill of <paramref name="key"/>: notes its fence as it stands now.</summary>
    FillTicket OpenFill(string key, string? @namespace = null);

    /// <inheritdoc cref="OpenFill"/>
    ValueTask<FillTicket> OpenFillAsync(string key, string? @namespace = null, CancellationToken cancellationToken = default);

    /// <summary>Opens the fills of several keys of one namespace at once (on a remote cache, in one round trip).</summary>
    IReadOnlyList<FillTicket> OpenFills(IEnumerable<string> keys, string? @namespace = null);

    /// <inheritdoc cref="OpenFills"/>
    ValueTask<IReadOnlyList<FillTicket>> OpenFillsAsync(IEnumerable<string> keys, string? @namespace = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores <paramref name="value"/> under the ticket's key, unless the key was written, deleted, expired or cleared
    /// since the ticket opened; plugins see a Set.
    /// </summary>
    /// <returns>Whether the value was stored; <c>false</c> when an invalidation came first (the newer state stands).</returns>
    bool TryFill<T>(FillTicket ticket, T value, TimeSpan? ttl = null, ISerializer? serializer = null);

    /// <inheritdoc cref="TryFill"/>
    ValueTask<bool> TryFillAsync<T>(FillTicket ticket, T value, TimeSpan? ttl = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores each value under its ticket's key, as <see cref="TryFill"/> does one, in one command (plugins see a
    /// MultiSet). The tickets must share a namespace.
    /// </summary>
    /// <returns>How many values were stored.</returns>
    int TryFillMany<T>(IEnumerable<KeyValuePair<FillTicket, T>> fills, TimeSpan? ttl = null, ISerializer? serializer = null);

    /// <inheritdoc cref="TryFillMany"/>
    ValueTask<int> TryFillManyAsync<T>(IEnumerable<KeyValuePair<FillTicket, T>> fills, TimeSpan? ttl = null, ISerializer? serializer = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether no invalidation of the ticket's key is known in this process since it opened (on a store in this process,
    /// false too after more writes of keys sharing its fence than the fence remembers). Costs no round trip, so it misses an invalidation made by another process; <see cref="TryFill"/> does not.
    /// </summary>
    bool IsCurrent(FillTicket ticket);
}
