using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Cached.Serializers;

/// <summary>What every refusal of <see cref="StringSerializer"/> ends with.</summary>
internal static class StringCodec
{
    public const string Advice
        = "Use JsonSerializer, or MessagePackSerializer (package Cached.MessagePack), for records, classes and collections.";
}

/// <summary>
/// How <see cref="StringSerializer"/> carries a <typeparamref name="T"/>, decided once per type: as text
/// (<see cref="string"/>; <see cref="object"/> reads back as text, so only a string is written as one), in the
/// type's round-trip text form (<see cref="TextFormats"/>), by an enum's names, or not at all. A refused type is
/// refused for every value, <c>null</c> included, with a <see cref="NotSupportedException"/> that names it.
/// </summary>
internal static class StringCodec<T>
{
    private static readonly Func<T, string>? s_format;
    private static readonly Func<string, T>? s_parse;
    private static readonly string? s_refusal;

    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "ParsableFor runs only where RuntimeFeature.IsDynamicCodeSupported (the net10 analyzer sees that guard, net8's does not); under NativeAOT a type outside the built-in list is refused instead.")]
    static StringCodec()
    {
        if (typeof(T) == typeof(string) || typeof(T) == typeof(object))
        {
            return;
        }

        var underlying = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        if (underlying.IsEnum)
        {
            s_format = static value => value!.ToString()!;
            s_parse = static text => (T)Enum.Parse(Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), text, ignoreCase: false);
            return;
        }

        var format = TextFormats.BuiltInFor(typeof(T))
            ?? (RuntimeFeature.IsDynamicCodeSupported ? TextFormats.ParsableFor<T>() : null);
        if (format is null)
        {
            s_refusal = $"{typeof(T)} has no exact text form. StringSerializer stores only strings and types whose text reads back exactly "
                + "(numbers, bool, char, Guid, DateTime, DateTimeOffset, TimeSpan, DateOnly, TimeOnly, enums, Uri, Version"
                + (RuntimeFeature.IsDynamicCodeSupported ? ", any type that implements IParsable<T> of itself" : "; not other IParsable<T> types under NativeAOT")
                + "). " + StringCodec.Advice;
            return;
        }

        s_format = (Func<T, string>)format.Format;
        s_parse = (Func<string, T>)format.Parse;
    }

    /// <summary>The text of <paramref name="value"/>, or <c>null</c> for a null value.</summary>
    /// <exception cref="NotSupportedException">The type is refused, or an <see cref="object"/> is not a string.</exception>
    public static string? Format(T value)
    {
        ThrowIfRefused();
        if (value is null)
        {
            return null;
        }

        if (s_format is not null)
        {
            return s_format(value);
        }

        return value as string ?? throw new NotSupportedException(
            $"A value typed object is stored by StringSerializer only when it is a string: a {value.GetType()} would read back as its text. "
            + $"Write it as a {value.GetType().Name}, or use JsonSerializer.");
    }

    /// <summary>The value <paramref name="text"/> stands for.</summary>
    /// <exception cref="NotSupportedException">The type is refused.</exception>
    public static T Parse(string text)
    {
        ThrowIfRefused();
        return s_parse is not null ? s_parse(text) : (T)(object)text;
    }

    /// <summary>The value of a stored <c>null</c>.</summary>
    /// <exception cref="NotSupportedException">The type is refused.</exception>
    /// <exception cref="FormatException"><typeparamref name="T"/> cannot be <c>null</c>.</exception>
    public static T? Null()
    {
        ThrowIfRefused();
        return default(T) is null ? default : throw new FormatException($"The payload is null, which a {typeof(T)} cannot hold.");
    }

    private static void ThrowIfRefused()
    {
        if (s_refusal is not null)
        {
            throw new NotSupportedException(s_refusal);
        }
    }
}
