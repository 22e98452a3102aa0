using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Cached.Serializers;

/// <summary>What every refusal of <see cref="StringSerializer"/> ends with.</summary>
internal static class StringCodec
{
    public const string Advice
        = "Use JsonSerializer, or MessagePackSerializer (package Cached.MessagePack), for records, classes and collections.";

    /// <summary>The text of <c>null</c>: what Python's <c>str(None)</c> writes.</summary>
    public const string NoneText = "None";
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
    /// <exception cref="ArgumentException">The text is <c>None</c>, which reads back as <c>null</c> for this type.</exception>
    public static string? Format(T value)
    {
        ThrowIfRefused();
        if (value is null)
        {
            return null;
        }

        var text = s_format is not null
            ? s_format(value)
            : value as string ?? throw new NotSupportedException(
                $"A value typed object is stored by StringSerializer only when it is a string: a {value.GetType()} would read back as its text. "
                + $"Write it as a {value.GetType().Name}, or use JsonSerializer.");

        // A type that cannot hold null (an enum with a member named None) reads None back as that member, so only a
        // type that can hold null loses its value to the text of null.
        return default(T) is null && text == StringCodec.NoneText
            ? throw new ArgumentException(
                $"StringSerializer stores null as the text None, as Python's str(None) does, so a {TypeNames.Of(typeof(T))} whose text is None would read back as null: "
                + "this value is not stored. Use JsonSerializer to store it.",
                nameof(value))
            : text;
    }

    /// <summary>The value <paramref name="text"/> stands for.</summary>
    /// <exception cref="NotSupportedException">The type is refused.</exception>
    public static T Parse(string text)
    {
        ThrowIfRefused();
        return s_parse is not null ? s_parse(text) : (T)(object)text;
    }

    /// <summary>
    /// The value of the text <c>None</c>: <c>null</c> for a type that can hold it; for one that cannot, the value the
    /// text parses to (an enum member named None), else a <see cref="FormatException"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The type is refused.</exception>
    /// <exception cref="FormatException"><typeparamref name="T"/> cannot be <c>null</c> and does not parse <c>None</c>.</exception>
    public static T? None()
    {
        ThrowIfRefused();
        if (default(T) is null)
        {
            return default;
        }

        try
        {
            return s_parse!(StringCodec.NoneText);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new FormatException($"The payload is None, the text of null (Python's str(None)), which a {TypeNames.Of(typeof(T))} cannot hold.", ex);
        }
    }

    private static void ThrowIfRefused()
    {
        if (s_refusal is not null)
        {
            throw new NotSupportedException(s_refusal);
        }
    }
}
