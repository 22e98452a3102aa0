using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Cached.Runtime;

/// <summary>Argument checks shared by every cache command, with their throws kept out of the callers' bodies.</summary>
internal static class Guard
{
    public static void Key([NotNull] string? key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
    {
        if (string.IsNullOrEmpty(key))
        {
            ThrowBadKey(key, paramName);
        }
    }

    /// <summary>The exception a bad key is refused with, for a method that returns it in its task; null for a good key.</summary>
    public static ArgumentException? KeyProblem(string? key, [CallerArgumentExpression(nameof(key))] string? paramName = null)
        => key is null ? new ArgumentNullException(paramName, "A cache key cannot be null.")
            : key.Length == 0 ? new ArgumentException("A cache key cannot be empty.", paramName)
            : null;

    /// <summary>Refuses a batch of keys with a null or empty one among them, naming its index.</summary>
    public static void BatchKeys(string[] keys, string paramName)
    {
        for (var i = 0; i < keys.Length; i++)
        {
            if (string.IsNullOrEmpty(keys[i]))
            {
                throw new ArgumentException($"The key at index {i} is {(keys[i] is null ? "null" : "empty")}.", paramName);
            }
        }
    }

    /// <summary>Refuses a batch of pairs with a null or empty key among them, naming its index; nothing is written.</summary>
    public static void PairKeys<T>(KeyValuePair<string, T>[] pairs, [CallerArgumentExpression(nameof(pairs))] string? paramName = null)
    {
        for (var i = 0; i < pairs.Length; i++)
        {
            if (string.IsNullOrEmpty(pairs[i].Key))
            {
                throw new ArgumentException($"The key of the pair at index {i} is {(pairs[i].Key is null ? "null" : "empty")}.", paramName);
            }
        }
    }

    /// <summary>
    /// Refuses a key (or namespace) with a lone surrogate, which UTF-8 cannot hold: a backend that stores keys as UTF-8
    /// would store it under U+FFFD, and "s\ud800", "s\udbff" and "s\ufffd" would be one entry.
    /// </summary>
    public static void Utf8(string text, string paramName)
    {
        if (Utf8Problem(text, paramName) is { } problem)
        {
            throw problem;
        }
    }

    /// <summary>The exception <see cref="Utf8"/> refuses <paramref name="text"/> with, for a method that returns it in its task; null when UTF-8 holds it.</summary>
    public static ArgumentException? Utf8Problem(string text, string paramName)
    {
        var at = LoneSurrogateAt(text);
        return at < 0 ? null : new ArgumentException($"The {paramName} '{text}' holds a lone surrogate at index {at}, {NotUtf8}", paramName);
    }

    /// <summary>
    /// Refuses a key of a batch as <see cref="Utf8"/> refuses a key, naming the batch's parameter and the item's index as
    /// a null or empty key of a batch is named: <paramref name="item"/> is "key" or "key of the pair".
    /// </summary>
    public static void Utf8Item(string key, string item, int index, string paramName)
    {
        var at = LoneSurrogateAt(key);
        if (at >= 0)
        {
            throw new ArgumentException($"The {item} at index {index} ('{key}') holds a lone surrogate at character {at}, {NotUtf8}", paramName);
        }
    }

    private const string NotUtf8 = "which a store of UTF-8 keys cannot hold: it would share its entry with every key that differs only there.";

    /// <summary>The index of the first surrogate in <paramref name="text"/> that is not half of a pair, or -1.</summary>
    public static int LoneSurrogateAt(string text)
    {
        var chars = text.AsSpan();
        var at = chars.IndexOfAnyInRange('\ud800', '\udfff');
        while (at >= 0)
        {
            if (!char.IsHighSurrogate(chars[at]) || at + 1 == chars.Length || !char.IsLowSurrogate(chars[at + 1]))
            {
                return at;
            }

            var next = chars[(at + 2)..].IndexOfAnyInRange('\ud800', '\udfff');
            at = next < 0 ? -1 : at + 2 + next;
        }

        return -1;
    }

    [DoesNotReturn]
    private static void ThrowBadKey(string? key, string? paramName) => throw KeyProblem(key, paramName)!;
}
