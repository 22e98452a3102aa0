namespace Cached.Tags;

/// <summary><see cref="ICache.InvalidateTags"/> for caches that do not implement it themselves: through their tag store.</summary>
internal static class TagCommands
{
    public static void Invalidate(ICache cache, string[] tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if (TagNames.Normalize(tags, nameof(tags)) is { } names && !Cache.Disabled)
        {
            TagStore.Of(cache).Invalidate(names);
        }
    }

    public static ValueTask InvalidateAsync(ICache cache, IEnumerable<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var names = TagNames.Normalize(tags, nameof(tags));
        cancellationToken.ThrowIfCancellationRequested();
        return names is null || Cache.Disabled ? ValueTask.CompletedTask : TagStore.Of(cache).InvalidateAsync(names, cancellationToken);
    }
}
