using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Numerics;
using System.Reflection;

namespace Cached.Serializers;

/// <summary>
/// The text forms <see cref="StringSerializer"/> gives each type it carries, as a
/// <c>Func&lt;T, string&gt;</c> and a <c>Func&lt;string, T&gt;</c>: a round-trip format for every built-in type
/// (<c>"O"</c> for dates, <c>"c"</c> for <see cref="TimeSpan"/>, <c>"R"</c> for binary floating point, the scale of
/// a <see cref="decimal"/> kept), and the <c>ToString</c>/<c>Parse</c> pair of any other <see cref="IParsable{TSelf}"/>
/// type. Value types are listed with their <see cref="Nullable{T}"/> too; <c>null</c> itself never reaches them.
/// </summary>
internal static class TextFormats
{
    private static readonly CultureInfo s_invariant = CultureInfo.InvariantCulture;

    private static readonly Dictionary<Type, TextFormat> s_builtIn = BuiltIn();

    /// <summary>The format of a built-in type, or <c>null</c>.</summary>
    public static TextFormat? BuiltInFor(Type type) => s_builtIn.GetValueOrDefault(type);

    /// <summary>
    /// The format of <typeparamref name="T"/> when it (or, for a nullable, its underlying type) implements
    /// <see cref="IParsable{TSelf}"/> of itself, or <c>null</c>. Writes are checked: a value whose text parses back to
    /// a different value is refused.
    /// </summary>
    [RequiresDynamicCode("Makes ParsableFormat<T> for a type known only at run time.")]
    [UnconditionalSuppressMessage("Trimming", "IL2090", Justification = "Only the interfaces are read. A type whose IParsable<T> implementation was trimmed away is refused like a type without one: nothing is called through a missing member.")]
    public static TextFormat? ParsableFor<T>()
    {
        var underlying = Nullable.GetUnderlyingType(typeof(T));
        var self = underlying ?? typeof(T);
        foreach (var candidate in self.GetInterfaces())
        {
            if (candidate.IsGenericType
                && candidate.GetGenericTypeDefinition() == typeof(IParsable<>)
                && candidate.GenericTypeArguments[0] == self)
            {
                var factory = typeof(TextFormats).GetMethod(nameof(ParsableFormat), BindingFlags.NonPublic | BindingFlags.Static)!;
                var format = (TextFormat)factory.MakeGenericMethod(self).Invoke(null, [underlying is not null])!;
                if (underlying is null)
                {
                    return format;
                }

                // A nullable's format cannot be made for an underlying type known only at run time (that would take a
                // struct constraint, which trimming cannot see through), so it goes through boxes: a boxed T? is a boxed
                // underlying value (null never gets here), and a boxed underlying value unboxes as a T?.
                var write = (Func<object, string>)format.Format;
                var read = (Func<string, object>)format.Parse;
                return new((Func<T, string>)(value => write(value!)), (Func<string, T>)(text => (T)read(text)));
            }
        }

        return null;
    }

    /// <summary>The format of <typeparamref name="TSelf"/>, typed, or on boxes for a nullable of it.</summary>
    private static TextFormat ParsableFormat<TSelf>(bool boxed)
        where TSelf : IParsable<TSelf>
        => boxed
            ? new((Func<object, string>)(static value => CheckedText((TSelf)value)), (Func<string, object>)(static text => Parse<TSelf>(text)!))
            : new((Func<TSelf, string>)CheckedText, (Func<string, TSelf>)Parse<TSelf>);

    private static TSelf Parse<TSelf>(string text)
        where TSelf : IParsable<TSelf>
        => TSelf.Parse(text, s_invariant);

    /// <summary>
    /// The invariant text of a value of a type Cached knows nothing more of than its <see cref="IParsable{TSelf}"/>:
    /// parsed back and compared first, so that a lossy <c>ToString</c> is refused rather than stored.
    /// </summary>
    private static string CheckedText<TSelf>(TSelf value)
        where TSelf : IParsable<TSelf>
    {
        var text = value is IFormattable formattable ? formattable.ToString(null, s_invariant) : value.ToString();
        TSelf back;
        try
        {
            back = TSelf.Parse(text ?? string.Empty, s_invariant);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
        {
            throw new NotSupportedException(NotExact(typeof(TSelf)), ex);
        }

        return text is not null && EqualityComparer<TSelf>.Default.Equals(back, value)
            ? text
            : throw new NotSupportedException(NotExact(typeof(TSelf)));
    }

    private static string NotExact(Type type)
        => $"{type} has no exact text form: the invariant text of a {type.Name} does not parse back to an equal value, so StringSerializer cannot store it. "
            + StringCodec.Advice;

    private static Dictionary<Type, TextFormat> BuiltIn()
    {
        var formats = new Dictionary<Type, TextFormat>();
        Integer<sbyte>(formats);
        Integer<byte>(formats);
        Integer<short>(formats);
        Integer<ushort>(formats);
        Integer<int>(formats);
        Integer<uint>(formats);
        Integer<long>(formats);
        Integer<ulong>(formats);
        Integer<nint>(formats);
        Integer<nuint>(formats);
        Integer<Int128>(formats);
        Integer<UInt128>(formats);
        Integer<BigInteger>(formats);

        // "R": the shortest text that parses back to the same bits, NaN, infinities and -0 included.
        FloatingPoint<Half>(formats);
        FloatingPoint<float>(formats);
        FloatingPoint<double>(formats);

        // The general format keeps a decimal's scale (1.50m is "1.50", read back with two decimals) but drops the
        // sign of a negative zero, which parsing "-0.00" restores.
        Value(
            formats,
            static value => value == 0 && decimal.IsNegative(value) ? "-" + value.ToString(s_invariant) : value.ToString(s_invariant),
            static text => decimal.Parse(text, NumberStyles.Float, s_invariant));

        Value(formats, static value => value ? "True" : "False", static text => bool.Parse(text));
        Value(formats, static value => value.ToString(), static text => char.Parse(text));
        Value(formats, static value => value.ToString("D"), static text => Guid.Parse(text));

        // "O" writes every tick and the kind (Z for UTC, the offset for Local, nothing for Unspecified), which
        // RoundtripKind restores.
        Value(formats, static value => value.ToString("O", s_invariant), static text => DateTime.Parse(text, s_invariant, DateTimeStyles.RoundtripKind));
        Value(formats, static value => value.ToString("O", s_invariant), static text => DateTimeOffset.Parse(text, s_invariant));
        Value(formats, static value => value.ToString("c", s_invariant), static text => TimeSpan.Parse(text, s_invariant));
        Value(formats, static value => value.ToString("O", s_invariant), static text => DateOnly.Parse(text, s_invariant));
        Value(formats, static value => value.ToString("O", s_invariant), static text => TimeOnly.Parse(text, s_invariant));

        // The text the Uri was made from: ToString() would unescape it.
        Reference(formats, static value => value.OriginalString, static text => new Uri(text, UriKind.RelativeOrAbsolute));
        Reference(formats, static value => value.ToString(), static text => Version.Parse(text));
        return formats;
    }

    private static void Integer<TNumber>(Dictionary<Type, TextFormat> formats)
        where TNumber : struct, INumberBase<TNumber>
        => Number<TNumber>(formats, null, NumberStyles.Integer);

    private static void Number<TNumber>(Dictionary<Type, TextFormat> formats, string? format, NumberStyles styles)
        where TNumber : struct, INumberBase<TNumber>
        => Value<TNumber>(formats, value => value.ToString(format, s_invariant), text => TNumber.Parse(text, styles, s_invariant));

    private static void FloatingPoint<TNumber>(Dictionary<Type, TextFormat> formats)
        where TNumber : struct, IFloatingPointIeee754<TNumber>
        => Value<TNumber>(formats, static value => value.ToString("R", s_invariant), static text => ParseFloatingPoint<TNumber>(text));

    // Python's str() writes the infinities as inf and -inf, which .NET does not parse (it does parse Python's nan).
    private static TNumber ParseFloatingPoint<TNumber>(string text)
        where TNumber : IFloatingPointIeee754<TNumber>
        => text switch
        {
            "inf" => TNumber.PositiveInfinity,
            "-inf" => TNumber.NegativeInfinity,
            _ => TNumber.Parse(text, NumberStyles.Float, s_invariant),
        };

    private static void Value<TValue>(Dictionary<Type, TextFormat> formats, Func<TValue, string> format, Func<string, TValue> parse)
        where TValue : struct
    {
        formats[typeof(TValue)] = new(format, parse);
        formats[typeof(TValue?)] = new((Func<TValue?, string>)(value => format(value!.Value)), (Func<string, TValue?>)(text => parse(text)));
    }

    private static void Reference<TValue>(Dictionary<Type, TextFormat> formats, Func<TValue, string> format, Func<string, TValue> parse)
        where TValue : class
        => formats[typeof(TValue)] = new(format, parse);
}

/// <summary>A type's text form: a <c>Func&lt;T, string&gt;</c> and a <c>Func&lt;string, T&gt;</c>.</summary>
internal sealed record TextFormat(Delegate Format, Delegate Parse);
