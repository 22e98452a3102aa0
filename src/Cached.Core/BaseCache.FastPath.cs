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
    /// Reads <paramref name="key"/> (the caller's key, before the namespace) without allocating. A hit returns the
    /// stored reference, which the caller type-tests: done there, in a generic class, the test is cheaper than in a
    /// generic method over a reference type.
    /// </summary>
    internal SpanRead TryGetBySpan(ReadOnlySpan<char> key, string? @namespace, out object? payload)
    {
        payload = null;
        if (key.IsEmpty || !ReadsBySpan || Cache.Disabled || CacheTelemetry.IsObserved)
        {
            return SpanRead.Unsupported;
        }

        return TryGetEntryBySpan(key, ResolveNamespace(@namespace), out payload);
    }

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
