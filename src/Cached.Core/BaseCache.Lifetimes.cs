using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Runtime;
using Cached.Resilience;
using Cached.Serializers;
using Cached.Tags;

namespace Cached;

/// <summary>
/// Reads that also tell how long an entry has left to live, for a <see cref="MultiLevelCache"/> that keeps a copy in
/// its first level no longer than the second level keeps the entry.
/// </summary>
public abstract partial class BaseCache
{
    /// <summary>
    /// Reads an entry with its remaining time to live: <c>null</c> when it never expires or when the backend cannot
    /// tell, which is what this default, built on <see cref="GetEntry"/>, answers. A backend that can read both in
    /// one round trip overrides it.
    /// </summary>
    /// <param name="key">The full key, namespace applied.</param>
    protected virtual (CacheResult<object?> Entry, TimeSpan? RemainingTtl) GetEntryWithTtl(string key) => (GetEntry(key), null);

    /// <inheritdoc cref="GetEntryWithTtl(string)"/>
    /// <param name="key">The full key, namespace applied.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    protected virtual async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl)> GetEntryWithTtlAsync(string key, CancellationToken cancellationToken)
        => (await GetEntryAsync(key, cancellationToken).ConfigureAwait(false), null);

    /// <summary>Reads several entries with their remaining times to live; this default reads them one by one.</summary>
    /// <param name="keys">The full keys, namespace applied.</param>
    protected virtual (CacheResult<object?> Entry, TimeSpan? RemainingTtl)[] GetEntriesWithTtl(IReadOnlyList<string> keys)
    {
        var results = new (CacheResult<object?>, TimeSpan?)[keys.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = GetEntryWithTtl(keys[i]);
        }

        return results;
    }

    /// <inheritdoc cref="GetEntriesWithTtl(IReadOnlyList{string})"/>
    /// <param name="keys">The full keys, namespace applied.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    protected virtual async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl)[]> GetEntriesWithTtlAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        var results = new (CacheResult<object?>, TimeSpan?)[keys.Count];
        for (var i = 0; i < results.Length; i++)
        {
            results[i] = await GetEntryWithTtlAsync(keys[i], cancellationToken).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary><see cref="ICache.TryGet{T}"/> that also returns the entry's remaining time to live.</summary>
    internal (CacheResult<T> Result, TimeSpan? RemainingTtl) TryGetWithTtl<T>(string key, string? @namespace, ISerializer? serializer)
    {
        Guard.Key(key);
        if (Cache.Disabled)
        {
            return (CacheResult<T>.Miss, null);
        }

        var read = PrepareKey(key, @namespace);
        return Run(
            new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey),
            (read, serializer),
            static (cache, s) =>
            {
                var (entry, ttl) = cache.GetEntryWithTtl(s.read.FullKey);
                var result = cache.Decode<T>(s.read.Key, entry, s.serializer);
                return (result, cache.CopyableLife(entry, result, ttl));
            },
            static read => Outcomes<T>.Read(read.Item1));
    }

    /// <inheritdoc cref="TryGetWithTtl{T}"/>
    internal ValueTask<(CacheResult<T> Result, TimeSpan? RemainingTtl)> TryGetWithTtlAsync<T>(string key, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        Guard.Key(key);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<(CacheResult<T>, TimeSpan?)>(cancellationToken);
        }

        if (Cache.Disabled)
        {
            return ValueTask.FromResult<(CacheResult<T>, TimeSpan?)>((CacheResult<T>.Miss, null));
        }

        var read = PrepareKey(key, @namespace);
        return RunAsync(
            new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey),
            (read, serializer),
            static async (cache, s, ct) =>
            {
                var (entry, ttl) = await cache.GetEntryWithTtlAsync(s.read.FullKey, ct).ConfigureAwait(false);
                var result = await cache.DecodeAsync<T>(s.read.Key, entry, s.serializer, ct).ConfigureAwait(false);
                if (result.Value is IStamped { Tags: { NeedsCheck: true } tags })
                {
                    await ((ITagHost)cache).Tags.CheckAsync(tags, ct).ConfigureAwait(false);
                }

                return (result, cache.CopyableLife(entry, result, ttl));
            },
            cancellationToken,
            static read => Outcomes<T>.Read(read.Item1));
    }

    /// <summary>
    /// Reads an entry with its remaining time to live and, when the key is missing, opens its fill on the backend (what
    /// <see cref="OpenFillEntries"/> notes for it), for a two-level cache's read-through. This default reads, then
    /// opens: two steps, correct on any backend. A backend that can do both in one round trip, atomically, overrides it,
    /// and a read-through miss then costs one round trip less.
    /// </summary>
    /// <param name="key">The full key, namespace applied.</param>
    /// <param name="namespace">The namespace the key is in.</param>
    /// <returns>
    /// The entry and its remaining time to live; <c>Opened</c> when the key was missing and its fill was opened, with
    /// <c>Fence</c> what the backend noted of its fence, as <see cref="OpenFillEntries"/> returns it.
    /// </returns>
    protected virtual (CacheResult<object?> Entry, TimeSpan? RemainingTtl, bool Opened, object? Fence) GetEntryWithTtlOrOpenFill(string key, string? @namespace)
    {
        var (entry, remaining) = GetEntryWithTtl(key);
        return entry.Found ? (entry, remaining, false, null) : (entry, remaining, true, OpenFillEntries([key], @namespace)[0]);
    }

    /// <summary>
    /// Reads an entry with its remaining time to live and, when the key is missing, opens its fill on the backend (what
    /// <see cref="OpenFillEntriesAsync"/> notes for it), for a two-level cache's read-through. This default reads, then
    /// opens: two steps, correct on any backend. A backend that can do both in one round trip, atomically, overrides it,
    /// and a read-through miss then costs one round trip less.
    /// </summary>
    /// <param name="key">The full key, namespace applied.</param>
    /// <param name="namespace">The namespace the key is in.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>
    /// The entry and its remaining time to live; <c>Opened</c> when the key was missing and its fill was opened, with
    /// <c>Fence</c> what the backend noted of its fence, as <see cref="OpenFillEntriesAsync"/> returns it.
    /// </returns>
    protected virtual async ValueTask<(CacheResult<object?> Entry, TimeSpan? RemainingTtl, bool Opened, object? Fence)> GetEntryWithTtlOrOpenFillAsync(string key, string? @namespace, CancellationToken cancellationToken)
    {
        var (entry, remaining) = await GetEntryWithTtlAsync(key, cancellationToken).ConfigureAwait(false);
        if (entry.Found)
        {
            return (entry, remaining, false, null);
        }

        var fences = await OpenFillEntriesAsync([key], @namespace, cancellationToken).ConfigureAwait(false);
        return (entry, remaining, true, fences[0]);
    }

    /// <summary>
    /// <see cref="TryGetWithTtl{T}"/> that also opens the key's fill when the key is missing (see
    /// <see cref="GetEntryWithTtlOrOpenFill"/>): a ticket as <see cref="IFencedFillCache.OpenFill"/> gives one, opened
    /// before the read answered. Null when the key was there, or when the read opened nothing.
    /// </summary>
    /// <remarks>The fence in this process opens before the read is sent, as in <see cref="TryGetWithTtlOrOpenFillAsync{T}"/>.</remarks>
    internal (CacheResult<T> Result, TimeSpan? RemainingTtl, FillTicket? Ticket) TryGetWithTtlOrOpenFill<T>(string key, string? @namespace, ISerializer? serializer)
    {
        Guard.Key(key);
        if (Cache.Disabled)
        {
            return (CacheResult<T>.Miss, null, null);
        }

        var read = PrepareKey(key, @namespace);
        var local = _fences.Open(read.FullKey);
        try
        {
            var (result, remaining, opened, fence) = Run(
                new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey),
                (read, serializer),
                static (cache, s) =>
                {
                    var (entry, ttl, opened, fence) = cache.GetEntryWithTtlOrOpenFill(s.read.FullKey, s.read.Namespace);
                    var result = cache.Decode<T>(s.read.Key, entry, s.serializer);
                    return (result, cache.CopyableLife(entry, result, ttl), opened, fence);
                },
                static read => Outcomes<T>.Read(read.Item1));
            return (result, remaining, Ticket(read, local, opened, fence));
        }
        catch
        {
            _fences.Close(local);
            throw;
        }
    }

    /// <summary>
    /// <see cref="TryGetWithTtlAsync{T}"/> that also opens the key's fill when the key is missing (see
    /// <see cref="GetEntryWithTtlOrOpenFillAsync"/>): a ticket as <see cref="IFencedFillCache.OpenFillAsync"/> gives one,
    /// opened before the read answered. Null when the key was there, or when the read opened nothing.
    /// </summary>
    /// <remarks>
    /// The fence in this process opens before the read is sent, as <see cref="IFencedFillCache.OpenFillAsync"/> opens it
    /// before the backend's: a write in this process while the read is on its way then refuses the fill too. Plugins see
    /// a Get.
    /// </remarks>
    internal async ValueTask<(CacheResult<T> Result, TimeSpan? RemainingTtl, FillTicket? Ticket)> TryGetWithTtlOrOpenFillAsync<T>(string key, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        Guard.Key(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (Cache.Disabled)
        {
            return (CacheResult<T>.Miss, null, null);
        }

        var read = PrepareKey(key, @namespace);
        var local = _fences.Open(read.FullKey);
        try
        {
            var (result, remaining, opened, fence) = await RunAsync(
                new CommandRequest(CacheCommand.Get, key, Namespace: read.Namespace, Subject: read.FullKey),
                (read, serializer),
                static async (cache, s, ct) =>
                {
                    var (entry, ttl, opened, fence) = await cache.GetEntryWithTtlOrOpenFillAsync(s.read.FullKey, s.read.Namespace, ct).ConfigureAwait(false);
                    var result = await cache.DecodeAsync<T>(s.read.Key, entry, s.serializer, ct).ConfigureAwait(false);
                    if (result.Value is IStamped { Tags: { NeedsCheck: true } tags })
                    {
                        await ((ITagHost)cache).Tags.CheckAsync(tags, ct).ConfigureAwait(false);
                    }

                    return (result, cache.CopyableLife(entry, result, ttl), opened, fence);
                },
                cancellationToken,
                static read => Outcomes<T>.Read(read.Item1), awaitedOnce: true).ConfigureAwait(false);
            return (result, remaining, Ticket(read, local, opened, fence));
        }
        catch
        {
            _fences.Close(local);
            throw;
        }
    }

    /// <summary>The ticket of a fill a read opened; null, and the fence in this process closed, when it opened none.</summary>
    private FillTicket? Ticket(PreparedKey read, FillFences.Ticket local, bool opened, object? fence)
    {
        if (!opened)
        {
            _fences.Close(local);
            return null;
        }

        // Every caller that read this miss holds the fence's token: none releases it when its fill does not store.
        var ticket = new FillTicket(this, _fences, local, read.Key, read.Namespace, fence);
        ticket.MarkShared();
        return ticket;
    }

    /// <summary><see cref="ICache.MultiTryGet{T}"/> that also returns each entry's remaining time to live.</summary>
    internal (CacheResult<T>[] Results, TimeSpan?[] RemainingTtls) MultiTryGetWithTtl<T>(string[] keys, string? @namespace, ISerializer? serializer)
    {
        if (Cache.Disabled || keys.Length == 0)
        {
            return (new CacheResult<T>[keys.Length], new TimeSpan?[keys.Length]);
        }

        var batch = PrepareKeys(keys, @namespace);
        return Run(
            new CommandRequest(CacheCommand.MultiGet, null, keys, batch.Namespace, Subject: FirstOf(batch.FullKeys)),
            (batch, serializer),
            static (cache, s) => cache.DecodeWithTtls<T>(s.batch.Keys, cache.GetEntriesWithTtl(s.batch.FullKeys), s.serializer),
            static read => Outcomes<T>.Batch(read.Item1));
    }

    /// <inheritdoc cref="MultiTryGetWithTtl{T}"/>
    internal ValueTask<(CacheResult<T>[] Results, TimeSpan?[] RemainingTtls)> MultiTryGetWithTtlAsync<T>(string[] keys, string? @namespace, ISerializer? serializer, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<(CacheResult<T>[], TimeSpan?[])>(cancellationToken);
        }

        if (Cache.Disabled || keys.Length == 0)
        {
            return ValueTask.FromResult((new CacheResult<T>[keys.Length], new TimeSpan?[keys.Length]));
        }

        var batch = PrepareKeys(keys, @namespace);
        return RunAsync(
            new CommandRequest(CacheCommand.MultiGet, null, keys, batch.Namespace, Subject: FirstOf(batch.FullKeys)),
            (batch, serializer),
            static async (cache, s, ct) => await cache.DecodeWithTtlsAsync<T>(s.batch.Keys, await cache.GetEntriesWithTtlAsync(s.batch.FullKeys, ct).ConfigureAwait(false), s.serializer, ct).ConfigureAwait(false),
            cancellationToken,
            static read => Outcomes<T>.Batch(read.Item1));
    }

    private (CacheResult<T>[], TimeSpan?[]) DecodeWithTtls<T>(string[] keys, (CacheResult<object?> Entry, TimeSpan? RemainingTtl)[] read, ISerializer? serializer)
    {
        var (entries, ttls) = Split(read);
        var results = DecodeAll<T>(keys, entries, serializer);
        ((ITagHost)this).Tags.CheckAll(StampTags(results));
        return (results, CopyableLives(entries, results, ttls));
    }

    /// <inheritdoc cref="DecodeWithTtls{T}"/>
    private async ValueTask<(CacheResult<T>[], TimeSpan?[])> DecodeWithTtlsAsync<T>(string[] keys, (CacheResult<object?> Entry, TimeSpan? RemainingTtl)[] read, ISerializer? serializer, CancellationToken cancellationToken)
    {
        var (entries, ttls) = Split(read);
        var results = await DecodeAllAsync<T>(keys, entries, serializer, cancellationToken).ConfigureAwait(false);
        await ((ITagHost)this).Tags.CheckAllAsync(StampTags(results), cancellationToken).ConfigureAwait(false);
        return (results, CopyableLives(entries, results, ttls));
    }

    private static (CacheResult<object?>[] Entries, TimeSpan?[] Ttls) Split((CacheResult<object?> Entry, TimeSpan? RemainingTtl)[] read)
    {
        var entries = new CacheResult<object?>[read.Length];
        var ttls = new TimeSpan?[read.Length];
        for (var i = 0; i < read.Length; i++)
        {
            (entries[i], ttls[i]) = read[i];
        }

        return (entries, ttls);
    }

    /// <summary>The tags of the stamped entries a batch read whole: checked together, one read of their union.</summary>
    private static IEnumerable<TagStamp?> StampTags<T>(CacheResult<T>[] results)
        => results.Select(static result => result.Value is IStamped stamped ? stamped.Tags : null);

    private TimeSpan?[] CopyableLives<T>(CacheResult<object?>[] entries, CacheResult<T>[] results, TimeSpan?[] ttls)
    {
        for (var i = 0; i < results.Length; i++)
        {
            ttls[i] = CopyableLife(entries[i], results[i], ttls[i]);
        }

        return ttls;
    }

    /// <summary>
    /// How long a two-level cache may copy what this read returned: the entry's remaining life, but zero for a tagged
    /// entry read as its plain value, whose copy could not carry its tags. A tagged entry read whole (a stamp read
    /// from bytes) has its tags checked here, so the copy can be trusted.
    /// </summary>
    private TimeSpan? CopyableLife<T>(CacheResult<object?> entry, CacheResult<T> result, TimeSpan? remaining)
    {
        if (!result.Found || !StampFormat.IsTagged(entry.Value))
        {
            return remaining;
        }

        if (result.Value is not IStamped { Tags: { } tags })
        {
            return TimeSpan.Zero;
        }

        ((ITagHost)this).Tags.Check(tags);
        return remaining;
    }
}
