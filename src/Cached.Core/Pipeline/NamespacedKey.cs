namespace Cached.Pipeline;

/// <summary>
/// The one rule that puts a key in a namespace, span first: <c>namespace:key</c>, with <c>\</c> and <c>:</c> escaped
/// inside the namespace so that no two (namespace, key) pairs give the same backend key. The string form is written
/// by the span form, so the two cannot disagree.
/// </summary>
internal static class NamespacedKey
{
    /// <summary>The namespace a command runs in: the argument when given, else the cache's own; <c>null</c> when that is empty.</summary>
    public static string? Resolve(string? given, string? own)
    {
        var resolved = given ?? own;
        return string.IsNullOrEmpty(resolved) ? null : resolved;
    }

    /// <summary>How many characters <c>namespace:key</c> takes, escapes included.</summary>
    public static int Length(string @namespace, int keyLength) => EscapedLength(@namespace) + 1 + keyLength;

    /// <summary>
    /// Writes <c>namespace:key</c> into <paramref name="destination"/>; false when it does not fit, so the caller
    /// falls back to a heap string or to another path.
    /// </summary>
    public static bool TryWrite(ReadOnlySpan<char> key, string @namespace, Span<char> destination, out int written)
    {
        written = Length(@namespace, key.Length);
        if (written > destination.Length)
        {
            return false;
        }

        var position = WriteEscaped(@namespace, destination);
        destination[position++] = ':';
        key.CopyTo(destination[position..]);
        return true;
    }

    /// <summary><c>namespace:key</c> as a string, by the same rule as <see cref="TryWrite"/>.</summary>
    public static string Compose(string key, string @namespace)
        => string.Create(Length(@namespace, key.Length), (key, @namespace), static (destination, parts) =>
        {
            var position = WriteEscaped(parts.@namespace, destination);
            destination[position++] = ':';
            parts.key.AsSpan().CopyTo(destination[position..]);
        });

    private static int EscapedLength(string @namespace)
    {
        var length = @namespace.Length;
        var span = @namespace.AsSpan();
        var next = span.IndexOfAny(':', '\\');
        while (next >= 0)
        {
            length++;
            span = span[(next + 1)..];
            next = span.IndexOfAny(':', '\\');
        }

        return length;
    }

    private static int WriteEscaped(string @namespace, Span<char> destination)
    {
        var source = @namespace.AsSpan();
        if (source.IndexOfAny(':', '\\') < 0)
        {
            source.CopyTo(destination);
            return source.Length;
        }

        var position = 0;
        foreach (var c in source)
        {
            if (c is ':' or '\\')
            {
                destination[position++] = '\\';
            }

            destination[position++] = c;
        }

        return position;
    }
}
