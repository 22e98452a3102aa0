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
        if (TagNames.Normalize(tags ?? throw new ArgumentNullException(nameof(tags)), nameof(tags)) is not { } names || Cache.Disabled)
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
        ArgumentNullException.ThrowIfNull(tags);
        var names = TagNames.Normalize(tags, nameof(tags));
        cancellationToken.ThrowIfCancellationRequested();
        if (names is null || Cache.Disabled)
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
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates the key with <paramref name="payload"/> if it holds nothing, and makes it live at least
    /// <paramref name="ttl"/> (<c>null</c>: for ever); what tag records need. By default an add, then an expiry that may
    /// also shorten a longer one (a record that ends early only makes entries miss); a backend that can extend
    /// without shortening (Redis: <c>PEXPIRE ... GT</c>) overrides it.
    /// </summary>
    /// <returns>True when the key was created.</returns>
    protected virtual bool KeepEntry(string key, string? @namespace, object? payload, TimeSpan? ttl)
    {
        if (AddEntry(key, @namespace, payload, ttl))
        {
            return true;
        }

        ExpireEntry(key, ttl);
        return false;
    }

    /// <inheritdoc cref="KeepEntry"/>
    protected virtual async ValueTask<bool> KeepEntryAsync(string key, string? @namespace, object? payload, TimeSpan? ttl, CancellationToken cancellationToken)
    {
        if (await AddEntryAsync(key, @namespace, payload, ttl, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        await ExpireEntryAsync(key, ttl, cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>Tag records as entries of this backend: keys in the cache's own namespace, tokens as decimal text.</summary>
    private sealed class TagEntries(BaseCache cache) : ITagEntries
    {
        public long[] Read(string[] names) => TokensOf(cache.GetEntries(Keys(names)));

        public async ValueTask<long[]> ReadAsync(string[] names, CancellationToken cancellationToken)
            => TokensOf(await cache.GetEntriesAsync(Keys(names), cancellationToken).ConfigureAwait(false));

        public void Keep(string name, long token, TimeSpan? life)
            => cache.KeepEntry(Key(name), Space, Payload(token), life);

        public async ValueTask KeepAsync(string name, long token, TimeSpan? life, CancellationToken cancellationToken)
            => await cache.KeepEntryAsync(Key(name), Space, Payload(token), life, cancellationToken).ConfigureAwait(false);

        public void Replace(string name, long token, TimeSpan life)
            => cache.SetEntry(Key(name), Space, Payload(token), life);

        public async ValueTask ReplaceAsync(string name, long token, TimeSpan life, CancellationToken cancellationToken)
            => await cache.SetEntryAsync(Key(name), Space, Payload(token), life, cancellationToken).ConfigureAwait(false);

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
