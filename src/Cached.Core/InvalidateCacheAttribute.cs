namespace Cached;

/// <summary>
/// After the implementation returns, deletes the entries of the named <see cref="CachedAttribute"/> methods of the
/// same type whose key parameters this method has too (matched by name; a mismatch is a compile-time error), and
/// of the named <see cref="MultiCachedAttribute"/> methods the keys this method's parameter of the same name as their
/// <see cref="MultiCachedAttribute.KeysFrom"/> holds: one key, or a collection of keys. A name that is overloaded
/// invalidates every overload whose key this method can build.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class InvalidateCacheAttribute : Attribute
{
    /// <summary>Names the cached or multi-cached methods to invalidate: <c>[InvalidateCache(nameof(GetUser))]</c>.</summary>
    public InvalidateCacheAttribute(params string[] methods)
    {
        Methods = methods ?? [];
    }

    /// <summary>The cached methods whose entries are deleted.</summary>
    public IReadOnlyList<string> Methods { get; }

    /// <summary>The name of the method that does the work; <c>&lt;Name&gt;Core</c> when unset.</summary>
    public string? Implementation { get; set; }
}
