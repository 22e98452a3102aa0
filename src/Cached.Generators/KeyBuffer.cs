using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>
/// The stack buffer a key is written into: as long as the longest key the method can make, where its parts are of
/// bounded length, so that a hit zeroes only what it may use (the runtime zeroes a stack buffer on every call: 512
/// bytes for 256 chars, about a tenth of a hit); <see cref="KeyBuffer.Longest"/> otherwise, and a longer key moves to a
/// pooled array either way.
/// </summary>
internal static class KeyBuffer
{
    /// <summary>The buffer of a key whose length has no bound known here (strings, enums, formats, instances).</summary>
    public const int Longest = 256;

    // Room per written argument beyond its text (separators, a null's text), so that a bound errs long, never short.
    private const int Slack = 4;

    /// <summary>The buffer of a <c>Key = "user:{id}"</c> template whose holes read <paramref name="parameters"/>.</summary>
    public static int ForTemplate(string template, IReadOnlyList<IParameterSymbol> parameters)
    {
        var length = 0;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                length++;
                i++;
                continue;
            }

            if (c != '{')
            {
                length++;
                continue;
            }

            var end = template.IndexOf('}', i + 1);
            if (end < 0)
            {
                return Longest;
            }

            var hole = template.Substring(i + 1, end - i - 1).Trim();
            // An alignment or a format (D20, or a custom one) may make any value long: no bound.
            if (hole.IndexOfAny([':', ',']) >= 0)
            {
                return Longest;
            }

            var name = hole.TrimStart('@');
            if (parameters.FirstOrDefault(p => p.Name == name) is not { } parameter || TextBound(parameter.Type) is not { } bound)
            {
                return Longest;
            }

            length += bound;
            i = end;
        }

        return Fit(length);
    }

    /// <summary>
    /// The buffer of a default key <c>N.Type.Method(a,b)</c> whose start is <paramref name="prefix"/> (a C# expression:
    /// bounded only when it is a literal, whose escapes make it no shorter than its text).
    /// </summary>
    public static int ForDefault(string prefix, bool includeInstance, IReadOnlyList<IParameterSymbol> parameters)
    {
        if (includeInstance || prefix.Length < 2 || prefix[0] != '"' || prefix[prefix.Length - 1] != '"' || prefix.Contains("\" + "))
        {
            return Longest;
        }

        var length = prefix.Length - 2 + 1;
        foreach (var parameter in parameters)
        {
            if (TextBound(parameter.Type) is not { } bound)
            {
                return Longest;
            }

            length += bound + Slack;
        }

        return Fit(length);
    }

    /// <summary>The most characters a value of <paramref name="type"/> is written as, invariant and in its default format; null for no bound.</summary>
    private static int? TextBound(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            return TextBound(nullable.TypeArguments[0]) is { } inner ? System.Math.Max(inner, 4) : null;
        }

        return type.SpecialType switch
        {
            SpecialType.System_Boolean => 5,
            SpecialType.System_Byte => 3,
            SpecialType.System_SByte => 4,
            SpecialType.System_Int16 => 6,
            SpecialType.System_UInt16 => 5,
            SpecialType.System_Int32 => 11,
            SpecialType.System_UInt32 => 10,
            SpecialType.System_Int64 or SpecialType.System_UInt64 or SpecialType.System_IntPtr or SpecialType.System_UIntPtr => 20,
            SpecialType.System_Single => 16,
            SpecialType.System_Double => 24,
            SpecialType.System_Decimal => 31,
            SpecialType.System_DateTime => 33,
            _ when type is INamedTypeSymbol { ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } named => named.Name switch
            {
                "Guid" => 36,
                "DateTimeOffset" => 33,
                "TimeSpan" => 26,
                _ => null,
            },
            _ => null,
        };
    }

    /// <summary>A bound rounded up to whole 16-byte blocks of zeroing, never past <see cref="Longest"/>.</summary>
    private static int Fit(int length) => System.Math.Min(Longest, System.Math.Max(8, (length + 7) / 8 * 8));
}
