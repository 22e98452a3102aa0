namespace Cached.Capabilities;

/// <summary>
/// A cache that can answer a read from a key in a stack buffer, so that a hit of a generated method allocates nothing,
/// not even the key string. <see cref="SimpleMemoryCache"/> implements it; so may a two-level cache or a user's
/// in-process backend. Generated methods ask for it once per resolution of their cache, never per call.
/// </summary>
public interface ISpanReadableCache
{
    /// <summary>
    /// Whether this cache, as configured, answers span reads exactly as <see cref="ICache.TryGet{T}"/> would (no plugins,
    /// no key builder, values kept as references), and the namespace that reads in <paramref name="namespace"/> land in.
    /// </summary>
    /// <param name="namespace">The caller's namespace; <c>null</c> for the cache's own.</param>
    /// <param name="resolvedNamespace">The namespace to pass to <see cref="TryReadBySpan"/>.</param>
    bool CanReadBySpan(string? @namespace, out string? resolvedNamespace);

    /// <summary>
    /// Reads the payload stored under <paramref name="key"/> in <paramref name="resolvedNamespace"/>. Never throws: a
    /// fault, or a case the cache cannot answer exactly, is <see cref="SpanRead.Unsupported"/>, and the caller then
    /// reads the ordinary way, which reports it.
    /// </summary>
    SpanRead TryReadBySpan(ReadOnlySpan<char> key, string? resolvedNamespace, out object? payload);
}
