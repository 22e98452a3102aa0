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

    [DoesNotReturn]
    private static void ThrowBadKey(string? key, string? paramName) => throw KeyProblem(key, paramName)!;
}
