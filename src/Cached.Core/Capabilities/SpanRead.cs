namespace Cached.Capabilities;

/// <summary>What a read by span key found (<see cref="ISpanReadableCache.TryReadBySpan"/>).</summary>
public enum SpanRead : byte
{
    /// <summary>This cache cannot answer by span (or not exactly as the ordinary read would): read the ordinary way.</summary>
    Unsupported,

    /// <summary>The key is not there.</summary>
    Miss,

    /// <summary>The key is there; the value is returned.</summary>
    Hit,
}

/// <summary>The type test of a payload a span read returned, shared by the single and the batch hit paths.</summary>
/// <typeparam name="T">The method's result or value type.</typeparam>
internal static class SpanPayload<T>
{
    // True only for object (and IStamped): a stamped entry is then a T too, and must not be taken for the value.
    private static readonly bool s_stampIsT = typeof(T).IsAssignableFrom(typeof(Resilience.IStamped));

    /// <summary>
    /// True when <paramref name="payload"/> is a <typeparamref name="T"/>, or a stored null where
    /// <typeparamref name="T"/> allows one; anything else (bytes from a per-call serializer, another type) is for the
    /// ordinary read to read or report.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static bool TryTake(object? payload, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out T value)
    {
        switch (payload)
        {
            case T typed when !s_stampIsT || typed is not Resilience.IStamped:
                value = typed;
                return true;
            case null when default(T) is null:
                value = default!;
                return true;
            default:
                value = default;
                return false;
        }
    }
}
