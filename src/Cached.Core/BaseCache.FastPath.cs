using Cached.Diagnostics;
using Cached.Runtime;

namespace Cached;

/// <summary>
/// The read that generated methods try first: by a key in a stack buffer, so a hit on an in-process backend allocates
/// nothing. It applies only where it cannot differ from <see cref="ICache.TryGet{T}"/>: no plugins, no listener, no
/// <see cref="KeyBuilder"/>, caching on, values kept as references. Anywhere else it answers
/// <see cref="SpanRead.Unsupported"/> and the caller takes the ordinary path.
/// </summary>
public abstract partial class BaseCache
{
    private int _readsBySpan;

    /// <summary>
    /// The switches that can change between two calls and turn the span hit off everywhere: caching disabled, or
    /// someone listening to what a hit records (its count, its duration, its activity). Only a hit may be answered
    /// under this check: a miss must go on to the ordinary path, which checks every instrument.
    /// </summary>
    internal static bool SpanHitsOpen => !Cache.Disabled && !CacheTelemetry.IsHitObserved;

    /// <summary>
    /// This cache when its settings allow the span read, else <c>null</c>; with the namespace reads in
    /// <paramref name="namespace"/> resolve to. Worked out once per resolution of a generated method's cache, so that
    /// a hit checks only <see cref="SpanHitsOpen"/>.
    /// </summary>
    internal BaseCache? SpanReader(string? @namespace, out string? resolvedNamespace)
    {
        resolvedNamespace = ResolveNamespace(@namespace);
        return ReadsBySpan ? this : null;
    }

    /// <summary>
    /// The span read for a caller that has checked <see cref="SpanHitsOpen"/> and holds this cache from
    /// <see cref="SpanReader"/>: <paramref name="resolvedNamespace"/> is already resolved. Never throws.
    /// </summary>
    internal SpanRead ReadBySpan(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload)
        => TryGetEntryBySpan(key, resolvedNamespace, out payload);

    /// <summary>
    /// Whether this cache's settings allow the span read: no plugins, no key builder, values kept as references. They
    /// are init-only, so the answer is worked out once (0: not yet, 1: yes, 2: no).
    /// </summary>
    private bool ReadsBySpan
    {
        get
        {
            var known = _readsBySpan;
            if (known == 0)
            {
                known = _plugins.Length == 0 && KeyBuilder is null && KeepsReferences(Serializer) ? 1 : 2;
                _readsBySpan = known;
            }

            return known == 1;
        }
    }

    /// <summary>
    /// The backend's span-keyed read of the key <paramref name="key"/> composed with <paramref name="namespace"/> by
    /// <see cref="ComposeKey"/>'s default rule. Backends that cannot look up without a string leave it unsupported.
    /// It must not throw: a fault answers <see cref="SpanRead.Unsupported"/>, and the ordinary read reports it.
    /// </summary>
    private protected virtual SpanRead TryGetEntryBySpan(ReadOnlySpan<char> key, string? @namespace, out object? payload)
    {
        payload = null;
        return SpanRead.Unsupported;
    }

    /// <summary>
    /// Writes <c>namespace:key</c> into <paramref name="destination"/> as the default <see cref="ComposeKey"/> does;
    /// false when the namespace needs escaping or the key does not fit, so the caller falls back.
    /// </summary>
    private protected static bool TryComposeKey(ReadOnlySpan<char> key, string @namespace, Span<char> destination, out int written)
    {
        written = @namespace.Length + 1 + key.Length;
        if (written > destination.Length || @namespace.AsSpan().IndexOfAny(':', '\\') >= 0)
        {
            return false;
        }

        @namespace.AsSpan().CopyTo(destination);
        destination[@namespace.Length] = ':';
        key.CopyTo(destination[(@namespace.Length + 1)..]);
        return true;
    }
}
