namespace Cached;

/// <summary>
/// After the implementation returns, invalidates the tags built from this method's arguments: every entry that carries
/// one of them reads as a miss from then on, in every process (see <see cref="ICache.InvalidateTags"/>). The tags are
/// fixed or templates naming parameters (<c>"user:{id}"</c>), checked at compile time and formatted as
/// <see cref="CachedAttribute.Key"/> is. They are invalidated in the caches of the tagged <see cref="CachedAttribute"/>
/// and <see cref="MultiCachedAttribute"/> methods of the same type, or, with <see cref="Alias"/>, in that cache. When the
/// implementation throws, nothing is invalidated. A cache fault is logged, never thrown.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class InvalidateTagsAttribute : Attribute
{
    /// <summary>Names the tags to invalidate: <c>[InvalidateTags("user:{id}", "users")]</c>.</summary>
    public InvalidateTagsAttribute(params string[] tags)
    {
        Tags = tags ?? [];
    }

    /// <summary>The tags, as templates.</summary>
    public IReadOnlyList<string> Tags { get; }

    /// <summary>A cache configured with <see cref="Caches"/> to invalidate the tags in, instead of the caches of the type's tagged methods.</summary>
    public string? Alias { get; set; }

    /// <summary>The name of the method that does the work; <c>&lt;Name&gt;Core</c> when unset.</summary>
    public string? Implementation { get; set; }
}
