namespace Cached.Tags;

/// <summary>
/// Tag versions kept as entries of the cache's own backend, one key per tag (<see cref="TagNames.KeyOf"/>), so that
/// every process sharing the backend sees every invalidation. Invalidating writes a new random token under the tag's
/// key: one command per tag, whatever the number of entries. A writer reads the tokens before computing its value and,
/// before storing it, creates the record if it is missing and extends it to outlive the entry, so records live as long
/// as the entries that need them and no longer.
/// </summary>
internal sealed class EntryTagStore(ITagEntries entries) : TagStore
{
    /// <inheritdoc />
    public override TagStamp Observe(string[] names) => Stamp(names, entries.Read(names));

    /// <inheritdoc />
    public override TagStamp? FromRead(string[] names, long[] tokens) => Stamp(names, (long[])tokens.Clone());

    /// <inheritdoc />
    public override async ValueTask<TagStamp> ObserveAsync(string[] names, CancellationToken cancellationToken)
        => Stamp(names, await entries.ReadAsync(names, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    /// <remarks>
    /// A token the writer made (the tag had no record) is created if the tag still has none; a token it read is kept
    /// only while the record still holds it. A record that went (evicted, expired early) is never brought back with a
    /// token it once held: entries still carrying that token would be current again.
    /// </remarks>
    public override bool Retain(TagStamp stamp, TimeSpan? life)
    {
        var kept = true;
        for (var i = 0; i < stamp.Names.Length && kept; i++)
        {
            kept = entries.Keep(stamp.Names[i], stamp.Tokens[i], life, Created(stamp, i));
        }

        return kept;
    }

    /// <inheritdoc />
    public override async ValueTask<bool> RetainAsync(TagStamp stamp, TimeSpan? life, CancellationToken cancellationToken)
    {
        if (stamp.Names.Length == 1)
        {
            return await entries.KeepAsync(stamp.Names[0], stamp.Tokens[0], life, Created(stamp, 0), cancellationToken).ConfigureAwait(false);
        }

        // Concurrently: on a remote backend, one round trip for all the tags.
        var keeps = new Task<bool>[stamp.Names.Length];
        for (var i = 0; i < keeps.Length; i++)
        {
            keeps[i] = entries.KeepAsync(stamp.Names[i], stamp.Tokens[i], life, Created(stamp, i), cancellationToken).AsTask();
        }

        return (await Task.WhenAll(keeps).ConfigureAwait(false)).All(static kept => kept);
    }

    private static bool Created(TagStamp stamp, int index) => stamp.Created is { } created && created[index];

    /// <inheritdoc />
    public override void Invalidate(string[] names)
    {
        Invalidating();
        foreach (var name in names)
        {
            entries.Replace(name, TagNames.NewToken(), InFlightWindow);
        }
    }

    /// <inheritdoc />
    public override async ValueTask InvalidateAsync(string[] names, CancellationToken cancellationToken)
    {
        Invalidating();
        if (names.Length == 1)
        {
            await entries.ReplaceAsync(names[0], TagNames.NewToken(), InFlightWindow, cancellationToken).ConfigureAwait(false);
            return;
        }

        var replaces = new Task[names.Length];
        for (var i = 0; i < replaces.Length; i++)
        {
            replaces[i] = entries.ReplaceAsync(names[i], TagNames.NewToken(), InFlightWindow, cancellationToken).AsTask();
        }

        await Task.WhenAll(replaces).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override long[] ReadTokens(string[] names) => entries.Read(names);

    /// <inheritdoc />
    public override ValueTask<long[]> ReadTokensAsync(string[] names, CancellationToken cancellationToken) => entries.ReadAsync(names, cancellationToken);

    /// <summary>The tokens read, with a new one for each tag that has none: <see cref="Retain"/> creates its record.</summary>
    private static TagStamp Stamp(string[] names, long[] tokens)
    {
        bool[]? created = null;
        for (var i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] == 0)
            {
                tokens[i] = TagNames.NewToken();
                // Two statements: the trim analyzer of the .NET 8 SDK crashes on an element write through "??=".
                created ??= new bool[tokens.Length];
                created[i] = true;
            }
        }

        return new TagStamp(names, tokens, created: created);
    }
}

/// <summary>The records of tag versions, as a backend keeps them: one entry per tag.</summary>
internal interface ITagEntries
{
    /// <summary>The tokens of the tags, 0 for a tag with no record, in one read.</summary>
    long[] Read(string[] names);

    /// <inheritdoc cref="Read"/>
    ValueTask<long[]> ReadAsync(string[] names, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps the tag's record holding <paramref name="token"/> at least <paramref name="life"/> (<c>null</c>: for ever):
    /// with <paramref name="create"/>, creates it if the tag has none; without, only while it still holds that token.
    /// </summary>
    /// <returns>Whether the record holds <paramref name="token"/> now.</returns>
    bool Keep(string name, long token, TimeSpan? life, bool create);

    /// <inheritdoc cref="Keep"/>
    ValueTask<bool> KeepAsync(string name, long token, TimeSpan? life, bool create, CancellationToken cancellationToken);

    /// <summary>Replaces the tag's record with <paramref name="token"/>, for <paramref name="life"/>.</summary>
    void Replace(string name, long token, TimeSpan life);

    /// <inheritdoc cref="Replace"/>
    ValueTask ReplaceAsync(string name, long token, TimeSpan life, CancellationToken cancellationToken);
}
