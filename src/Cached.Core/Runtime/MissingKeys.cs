using System.Collections.Frozen;
using System.Collections.Immutable;
using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>The missing keys of a multi-cached call, in the shape its body takes. Used by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class MissingKeys
{
    /// <summary>
    /// A set of <paramref name="missing"/> that compares keys as the caller's set did (the comparer of a
    /// <see cref="HashSet{T}"/>, <see cref="FrozenSet{T}"/> or <see cref="ImmutableHashSet{T}"/>), so that a body's
    /// <c>Contains</c> answers as it would have for the caller's set; for keys in any other collection, the default comparer.
    /// </summary>
    /// <param name="missing">The keys the cache did not hold.</param>
    /// <param name="keys">The keys the method was called with.</param>
    public static HashSet<TKey> AsSet<TKey>(List<TKey> missing, IEnumerable<TKey>? keys)
    {
        ArgumentNullException.ThrowIfNull(missing);
        var comparer = keys switch
        {
            HashSet<TKey> set => set.Comparer,
            FrozenSet<TKey> frozen => frozen.Comparer,
            ImmutableHashSet<TKey> immutable => immutable.KeyComparer,
            _ => null,
        };
        return new HashSet<TKey>(missing, comparer);
    }
}
