namespace Cached.Tags;

/// <summary><see cref="ICache.InvalidateTags"/> for caches that do not implement it themselves: through their tag store.</summary>
internal static class TagCommands
{
    public static void Invalidate(ICache cache, string[] tags)
    {
        if (TagNames.ToInvalidate(tags) is { } names)
        {
            TagStore.Of(cache).Invalidate(names);
        }
    }

    public static ValueTask InvalidateAsync(ICache cache, IEnumerable<string> tags, CancellationToken cancellationToken)
    {
        // Arguments are checked from the call; a cancellation comes in the task.
        var names = TagNames.ToInvalidate(tags, CancellationToken.None);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        return names is null ? ValueTask.CompletedTask : TagStore.Of(cache).InvalidateAsync(names, cancellationToken);
    }
}
