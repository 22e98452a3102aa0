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
    public override void Retain(TagStamp stamp, TimeSpan? life)
    {
        for (var i = 0; i < stamp.Names.Length; i++)
        {
            entries.Keep(stamp.Names[i], stamp.Tokens[i], life);
        }
    }

    /// <inheritdoc />
    public override async ValueTask RetainAsync(TagStamp stamp, TimeSpan? life, CancellationToken cancellationToken)
    {
        if (stamp.Names.Length == 1)
        {
            await entries.KeepAsync(stamp.Names[0], stamp.Tokens[0], life, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Concurrently: on a remote backend, one round trip for all the tags.
        var keeps = new Task[stamp.Names.Length];
        for (var i = 0; i < keeps.Length; i++)
        {
            keeps[i] = entries.KeepAsync(stamp.Names[i], stamp.Tokens[i], life, cancellationToken).AsTask();
        }

        await Task.WhenAll(keeps).ConfigureAwait(false);
    }

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
        for (var i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] == 0)
            {
                tokens[i] = TagNames.NewToken();
            }
        }

        return new TagStamp(names, tokens);
    }
}

/// <summary>The records of tag versions, as a backend keeps them: one entry per tag.</summary>
internal interface ITagEntries
{
    /// <summary>The tokens of the tags, 0 for a tag with no record, in one read.</summary>
    long[] Read(string[] names);

    /// <inheritdoc cref="Read"/>
    ValueTask<long[]> ReadAsync(string[] names, CancellationToken cancellationToken);

    /// <summary>Creates the tag's record with <paramref name="token"/> if it has none, and keeps it at least <paramref name="life"/> (<c>null</c>: for ever).</summary>
    void Keep(string name, long token, TimeSpan? life);

    /// <inheritdoc cref="Keep"/>
    ValueTask KeepAsync(string name, long token, TimeSpan? life, CancellationToken cancellationToken);

    /// <summary>Replaces the tag's record with <paramref name="token"/>, for <paramref name="life"/>.</summary>
    void Replace(string name, long token, TimeSpan life);

    /// <inheritdoc cref="Replace"/>
    ValueTask ReplaceAsync(string name, long token, TimeSpan life, CancellationToken cancellationToken);
}
