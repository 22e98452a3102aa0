namespace Cached.Tags;

/// <summary>Checks tag lists given by callers and names the backend keys tag versions live under.</summary>
internal static class TagNames
{
    /// <summary>The prefix of the keys that hold tag versions, in the cache's own namespace: keys users do not write.</summary>
    public const string KeyPrefix = "__cached:tag:";

    /// <summary>
    /// The tags as a distinct array, or <c>null</c> for none; a null or empty tag throws <see cref="ArgumentException"/>
    /// naming <paramref name="parameter"/>.
    /// </summary>
    public static string[]? Normalize(IEnumerable<string>? tags, string parameter)
    {
        if (tags is null)
        {
            return null;
        }

        var list = new List<string>(tags is IReadOnlyCollection<string> known ? known.Count : 4);
        foreach (var tag in tags)
        {
            if (string.IsNullOrEmpty(tag))
            {
                throw new ArgumentException($"A tag cannot be {(tag is null ? "null" : "empty")}.", parameter);
            }

            if (!list.Contains(tag, StringComparer.Ordinal))
            {
                list.Add(tag);
            }
        }

        return list.Count == 0 ? null : list.ToArray();
    }

    /// <summary>
    /// The tags an <c>InvalidateTags</c> call names, checked as every cache checks them (null: <see cref="ArgumentNullException"/>;
    /// a null or empty tag: <see cref="ArgumentException"/>); <c>null</c> when there is nothing to do (no tag, or
    /// caching switched off). A cancelled call throws once its arguments are checked.
    /// </summary>
    public static string[]? ToInvalidate(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var names = Normalize(tags, nameof(tags));
        cancellationToken.ThrowIfCancellationRequested();
        return Cache.Disabled ? null : names;
    }

    /// <summary>Tags a generated method built: distinct, without the empty ones; <c>null</c> when none is left.</summary>
    public static string[]? Lenient(string[]? tags)
    {
        if (tags is null)
        {
            return null;
        }

        var list = new List<string>(tags.Length);
        foreach (var tag in tags)
        {
            if (!string.IsNullOrEmpty(tag) && !list.Contains(tag, StringComparer.Ordinal))
            {
                list.Add(tag);
            }
        }

        return list.Count == 0 ? null : list.ToArray();
    }

    /// <summary>The key a tag's version lives under, before the cache builds it into its namespace.</summary>
    public static string KeyOf(string tag) => KeyPrefix + tag;

    /// <summary>A new version token: random, never 0 (0 reads as "no version").</summary>
    public static long NewToken() => Random.Shared.NextInt64(1, long.MaxValue);
}
