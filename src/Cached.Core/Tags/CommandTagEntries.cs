namespace Cached.Tags;

/// <summary>
/// Tag records kept through a cache's public commands, for an <see cref="ICache"/> that is not a <see cref="BaseCache"/>
/// (so every cache supports tags): the records are entries of the cache's own namespace, read with one
/// <c>MultiTryGet</c>.
/// </summary>
internal sealed class CommandTagEntries(ICache cache) : ITagEntries
{
    public long[] Read(string[] names)
    {
        var results = cache.MultiTryGet<long>(KeysOf(names));
        return TokensOf(results);
    }

    public async ValueTask<long[]> ReadAsync(string[] names, CancellationToken cancellationToken)
        => TokensOf(await cache.MultiTryGetAsync<long>(KeysOf(names), cancellationToken: cancellationToken).ConfigureAwait(false));

    public bool Keep(string name, long token, TimeSpan? life, bool create)
    {
        var key = TagNames.KeyOf(name);
        if (create)
        {
            try
            {
                return cache.Add(key, token, Ttl(life));
            }
            catch (KeyExistsException)
            {
                return false;
            }
        }

        return cache.TryGet<long>(key, out var held) && held == token && cache.Expire(key, Ttl(life));
    }

    public async ValueTask<bool> KeepAsync(string name, long token, TimeSpan? life, bool create, CancellationToken cancellationToken)
    {
        var key = TagNames.KeyOf(name);
        if (create)
        {
            try
            {
                return await cache.AddAsync(key, token, Ttl(life), cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (KeyExistsException)
            {
                return false;
            }
        }

        var held = await cache.TryGetAsync<long>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return held.Found && held.Value == token && await cache.ExpireAsync(key, Ttl(life), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public void Replace(string name, long token, TimeSpan life) => cache.Set(TagNames.KeyOf(name), token, life);

    public async ValueTask ReplaceAsync(string name, long token, TimeSpan life, CancellationToken cancellationToken)
        => await cache.SetAsync(TagNames.KeyOf(name), token, life, cancellationToken: cancellationToken).ConfigureAwait(false);

    // No expiry is TimeSpan.Zero for the commands (null would mean the cache's default time to live).
    private static TimeSpan Ttl(TimeSpan? life) => life ?? TimeSpan.Zero;

    private static string[] KeysOf(string[] names) => Array.ConvertAll(names, TagNames.KeyOf);

    private static long[] TokensOf(IReadOnlyList<CacheResult<long>> results)
    {
        var tokens = new long[results.Count];
        for (var i = 0; i < tokens.Length; i++)
        {
            tokens[i] = results[i].Found ? results[i].Value : 0;
        }

        return tokens;
    }
}
