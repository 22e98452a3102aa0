using System.Buffers.Text;
using System.Text;
using Cached.Pipeline;
using Cached.Plugins;
using Cached.Tags;

namespace Cached;

/// <summary>
/// Tags (<see cref="CacheEntryOptions.Tags"/>): <see cref="InvalidateTags"/>, and the records of tag versions kept as
/// entries of this backend through its own storage primitives (see <see cref="EntryTagStore"/>), so every backend
/// supports tags; the in-process store keeps them as objects instead.
/// </summary>
public abstract partial class BaseCache : ITagHost
{
    private TagStore? _tagStore;

    /// <inheritdoc />
    TagStore ITagHost.Tags => Volatile.Read(ref _tagStore) ?? InitTagStore();

    /// <summary>This cache's tag store: records in the backend, read and written through the storage primitives.</summary>
    private protected virtual TagStore CreateTagStore() => new EntryTagStore(new TagEntries(this));

    private TagStore InitTagStore()
    {
        Interlocked.CompareExchange(ref _tagStore, CreateTagStore(), null);
        return _tagStore;
    }

    /// <summary>Moves every fill fence: a fill opened before this point stores nothing (a tag invalidation of an L1 does it first).</summary>
    internal void MoveAllFences() => _fences.MoveAll();

    /// <inheritdoc />
    public void InvalidateTags(params string[] tags)
    {
        if (TagNames.ToInvalidate(tags) is not { } names)
        {
            return;
        }

        Run(
            new CommandRequest(CacheCommand.InvalidateTags, null, names),
            names,
            static (cache, n) =>
            {
                ((ITagHost)cache).Tags.Invalidate(n);
                return true;
            });
    }

    /// <inheritdoc />
    public async ValueTask InvalidateTagsAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        if (TagNames.ToInvalidate(tags, cancellationToken) is not { } names)
        {
            return;
        }

        await RunAsync(
            new CommandRequest(CacheCommand.InvalidateTags, null, names),
            names,
            static async (cache, n, ct) =>
            {
                await ((ITagHost)cache).Tags.InvalidateAsync(n, ct).ConfigureAwait(false);
                return true;
            },
            cancellationToken, awaitedOnce: true).ConfigureAwait(false);
    }

    /// <summary>
    /// Keeps the key holding <paramref name="payload"/> for at least <paramref name="ttl"/> (<c>null</c>: for ever), as a
    /// tag record needs it: with <paramref name="create"/>, adds it if the key holds nothing; without, extends it only
    /// while it still holds exactly <paramref name="payload"/> (a record that went must not come back with an old
    /// value). By default an add, or a read then an expiry that may also shorten a longer life (a record that ends early
    /// only makes entries miss); Redis overrides it with one script that never shortens.
    /// </summary>
    /// <returns>Whether the key holds <paramref name="payload"/> now.</returns>
    protected virtual bool KeepEntry(string key, string? @namespace, object? payload, TimeSpan? ttl, bool create)
    {
        if (create)
        {
            return AddEntry(key, @namespace, payload, ttl);
        }

        return GetEntry(key) is { Found: true } held && PayloadCodec.PayloadEquals(held.Value, payload) && ExpireEntry(key, ttl);
    }

    /// <inheritdoc cref="KeepEntry"/>
    protected virtual async ValueTask<bool> KeepEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, bool create, CancellationToken cancellationToken)
    {
        if (create)
        {
            return await AddEntryAsync(key, @namespace, payload, ttl, cancellationToken).ConfigureAwait(false);
        }

        return await GetEntryAsync(key, cancellationToken).ConfigureAwait(false) is { Found: true } held
            && PayloadCodec.PayloadEquals(held.Value, payload)
            && await ExpireEntryAsync(key, ttl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes a tag record: the key holds <paramref name="payload"/> for <paramref name="ttl"/>, whatever it held.
    /// A read-through never fills a tag record, so no fill's fence guards it, and a backend whose writes also move the
    /// fence of the key they write (Redis: a script sent beside the write) writes a record without that step. By
    /// default <see cref="SetEntry"/>.
    /// </summary>
    /// <returns>Whether the record was written.</returns>
    protected virtual bool ReplaceEntry(string key, string? @namespace, object? payload, TimeSpan ttl)
        => SetEntry(key, @namespace, payload, ttl);

    /// <inheritdoc cref="ReplaceEntry"/>
    protected virtual ValueTask<bool> ReplaceEntryAsync(string key, string? @namespace, object? payload, TimeSpan ttl, CancellationToken cancellationToken)
        => SetEntryAsync(key, @namespace, payload, ttl, cancellationToken);

    /// <summary>
    /// Tag records as entries of this backend: keys in the cache's own namespace, tokens as decimal text. They are read
    /// and written on the backend directly, beside the command that needs them, so its faults are translated here as the
    /// pipeline translates a command's (a client's connection error becomes a <see cref="CacheBackendException"/>, which
    /// callers such as a two-level cache recognise as an unreachable backend).
    /// </summary>
    private sealed class TagEntries(BaseCache cache) : ITagEntries
    {
        public long[] Read(string[] names)
        {
            var keys = Keys(names);
            cache.ThrowIfCircuitOpen(CacheCommand.MultiGet, keys[0]);
            try
            {
                return TokensOf(cache.GetEntries(keys));
            }
            catch (Exception ex) when (cache.Translate(ex, CacheCommand.MultiGet, keys[0]) is { } mapped)
            {
                throw mapped;
            }
        }

        public async ValueTask<long[]> ReadAsync(string[] names, CancellationToken cancellationToken)
        {
            var keys = Keys(names);
            cache.ThrowIfCircuitOpen(CacheCommand.MultiGet, keys[0]);
            try
            {
                return TokensOf(await cache.GetEntriesAsync(keys, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (cache.Translate(ex, CacheCommand.MultiGet, keys[0]) is { } mapped)
            {
                throw mapped;
            }
        }

        public bool Keep(string name, long token, TimeSpan? life, bool create)
        {
            var key = Key(name);
            cache.ThrowIfCircuitOpen(CacheCommand.Set, key);
            try
            {
                return cache.KeepEntry(key, Space, Payload(token), life, create);
            }
            catch (Exception ex) when (cache.Translate(ex, CacheCommand.Set, key) is { } mapped)
            {
                throw mapped;
            }
        }

        public async ValueTask<bool> KeepAsync(string name, long token, TimeSpan? life, bool create, CancellationToken cancellationToken)
        {
            var key = Key(name);
            cache.ThrowIfCircuitOpen(CacheCommand.Set, key);
            try
            {
                return await cache.KeepEntryAsync(key, Space, Payload(token), life, create, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cache.Translate(ex, CacheCommand.Set, key) is { } mapped)
            {
                throw mapped;
            }
        }

        public void Replace(string name, long token, TimeSpan life)
        {
            var key = Key(name);
            cache.ThrowIfCircuitOpen(CacheCommand.Set, key);
            try
            {
                cache.ReplaceEntry(key, Space, Payload(token), life);
            }
            catch (Exception ex) when (cache.Translate(ex, CacheCommand.Set, key) is { } mapped)
            {
                throw mapped;
            }
        }

        public async ValueTask ReplaceAsync(string name, long token, TimeSpan life, CancellationToken cancellationToken)
        {
            var key = Key(name);
            cache.ThrowIfCircuitOpen(CacheCommand.Set, key);
            try
            {
                await cache.ReplaceEntryAsync(key, Space, Payload(token), life, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (cache.Translate(ex, CacheCommand.Set, key) is { } mapped)
            {
                throw mapped;
            }
        }

        private string? Space => cache.ResolveNamespace(null);

        private string Key(string name) => cache.BuildKeyIn(TagNames.KeyOf(name), Space);

        private string[] Keys(string[] names) => Array.ConvertAll(names, Key);

        private static byte[] Payload(long token) => Encoding.ASCII.GetBytes(token.ToString(System.Globalization.CultureInfo.InvariantCulture));

        private static long[] TokensOf(CacheResult<object?>[] entries)
        {
            var tokens = new long[entries.Length];
            for (var i = 0; i < tokens.Length; i++)
            {
                tokens[i] = entries[i].Found ? Parse(entries[i].Value) : 0;
            }

            return tokens;
        }

        // Anything that is not a token reads as none, which only makes the tag's entries miss.
        private static long Parse(object? payload) => payload switch
        {
            byte[] bytes when Utf8Parser.TryParse(bytes, out long token, out var used) && used == bytes.Length => token,
            ReadOnlyMemory<byte> memory when Utf8Parser.TryParse(memory.Span, out long token, out var used) && used == memory.Length => token,
            string text when long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var token) => token,
            long token => token,
            _ => 0,
        };
    }
}
