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

    [DoesNotReturn]
    private static void ThrowBadKey(string? key, string? paramName)
    {
        if (key is null)
        {
            throw new ArgumentNullException(paramName, "A cache key cannot be null.");
        }

        throw new ArgumentException("A cache key cannot be empty.", paramName);
    }
}
