using System.Buffers;
using System.Globalization;
using System.Numerics;

namespace Cached.Serializers;

/// <summary>
/// JSON as Python's <c>json</c> module writes it where it differs from System.Text.Json: a binary floating-point number
/// in the layout of <c>repr(float)</c> (<c>2.0</c>, <c>1e+16</c>), so that Python reads it back as a float and not an
/// int, and NaN and the infinities as the bare literals <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c>, which
/// <c>json.loads</c> reads and no .NET JSON reader does.
/// </summary>
internal static class PythonJson
{
    /// <summary>Room for any of them: the longest, <c>-1.7976931348623157e+308</c>, is 24 bytes.</summary>
    public const int MaxFloatLength = 32;

    public static ReadOnlySpan<byte> NaN => "NaN"u8;

    public static ReadOnlySpan<byte> PositiveInfinity => "Infinity"u8;

    public static ReadOnlySpan<byte> NegativeInfinity => "-Infinity"u8;

    /// <summary>
    /// Writes <paramref name="value"/> as Python's <c>repr</c> writes a float: the shortest digits that read back as
    /// the same value, laid out as CPython's <c>float_repr_style</c> "short" lays them out (an exponent below 1e-4 and
    /// from 1e16 on, <c>.0</c> after a whole number), or a named literal. Returns the number of bytes written.
    /// </summary>
    public static int FormatFloat<T>(T value, Span<byte> destination)
        where T : IFloatingPointIeee754<T>
    {
        if (T.IsNaN(value))
        {
            return Copy(NaN, destination);
        }

        if (T.IsInfinity(value))
        {
            return Copy(T.IsNegative(value) ? NegativeInfinity : PositiveInfinity, destination);
        }

        // .NET's "R" has the same shortest digits as Python's repr, and mostly its layout: both write 21.5 and
        // 0.0001, and both switch to an exponent below 1e-4. A whole number lacks the ".0" Python adds; from 1e16 on
        // Python writes an exponent where .NET writes digits until 1e21; .NET's exponent is "E+16", Python's "e+16".
        if (!value.TryFormat(destination, out var length, "R", CultureInfo.InvariantCulture))
        {
            throw new ArgumentException($"{value} does not fit in {destination.Length} bytes.", nameof(destination));
        }

        var text = destination[..length];
        if (text.IndexOfAny((byte)'E', (byte)'e') < 0)
        {
            var point = text.IndexOf((byte)'.');
            if ((point < 0 ? length : point) - (text[0] == '-' ? 1 : 0) <= 16)
            {
                return point >= 0 ? length : length + Copy(".0"u8, destination[length..]);
            }
        }

        Span<byte> roundTrip = stackalloc byte[MaxFloatLength];
        text.CopyTo(roundTrip);
        return Layout(roundTrip[..length], destination);
    }

    /// <summary>Lays the digits of a round-trip text out as CPython's <c>format_float_short</c> does for repr.</summary>
    private static int Layout(ReadOnlySpan<byte> roundTrip, Span<byte> destination)
    {
        Span<byte> digits = stackalloc byte[MaxFloatLength];
        var count = 0;
        var beforePoint = -1;
        var exponent = 0;
        var negative = roundTrip[0] == '-';
        for (var i = negative ? 1 : 0; i < roundTrip.Length; i++)
        {
            var c = roundTrip[i];
            if (c is >= (byte)'0' and <= (byte)'9')
            {
                digits[count++] = c;
            }
            else if (c == '.')
            {
                beforePoint = count;
            }
            else if (c is (byte)'E' or (byte)'e')
            {
                exponent = int.Parse(roundTrip[(i + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
                break;
            }
        }

        // The value is 0.d1d2...dn x 10^point (CPython's decpt), with d1 not zero and dn not zero.
        var point = (beforePoint < 0 ? count : beforePoint) + exponent;
        var first = 0;
        while (first < count && digits[first] == '0')
        {
            first++;
            point--;
        }

        while (count > first && digits[count - 1] == '0')
        {
            count--;
        }

        var written = 0;
        if (negative)
        {
            destination[written++] = (byte)'-';
        }

        if (first == count)
        {
            return written + Copy("0.0"u8, destination[written..]);
        }

        ReadOnlySpan<byte> significant = digits[first..count];
        if (point is <= -4 or > 16)
        {
            destination[written++] = significant[0];
            if (significant.Length > 1)
            {
                destination[written++] = (byte)'.';
                written += Copy(significant[1..], destination[written..]);
            }

            var power = point - 1;
            destination[written++] = (byte)'e';
            destination[written++] = power < 0 ? (byte)'-' : (byte)'+';
            if (Math.Abs(power) < 10)
            {
                destination[written++] = (byte)'0';
            }

            Math.Abs(power).TryFormat(destination[written..], out var powerLength, default, CultureInfo.InvariantCulture);
            return written + powerLength;
        }

        if (point <= 0)
        {
            written += Copy("0."u8, destination[written..]);
            destination.Slice(written, -point).Fill((byte)'0');
            written += -point;
            return written + Copy(significant, destination[written..]);
        }

        if (point < significant.Length)
        {
            written += Copy(significant[..point], destination[written..]);
            destination[written++] = (byte)'.';
            return written + Copy(significant[point..], destination[written..]);
        }

        written += Copy(significant, destination[written..]);
        destination.Slice(written, point - significant.Length).Fill((byte)'0');
        written += point - significant.Length;
        return written + Copy(".0"u8, destination[written..]);
    }

    /// <summary>
    /// <paramref name="payload"/> with each bare <c>NaN</c>, <c>Infinity</c> and <c>-Infinity</c> outside a string
    /// quoted, so that a JSON reader takes it as a string; <c>null</c> when it has none. Only for a payload that failed
    /// to read: Python writes them (<c>json.dumps(float("nan"))</c> is <c>NaN</c>), no JSON reader of .NET reads them.
    /// </summary>
    public static byte[]? QuoteNamedLiterals(ReadOnlySequence<byte> payload)
    {
        var bytes = payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray();
        ArrayBufferWriter<byte>? quoted = null;
        var copied = 0;
        var inString = false;
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if (inString)
            {
                if (b == '\\')
                {
                    i++;
                }
                else if (b == '"')
                {
                    inString = false;
                }

                continue;
            }

            if (b == '"')
            {
                inString = true;
                continue;
            }

            var literal = LiteralAt(bytes, i);
            if (literal > 0)
            {
                quoted ??= new ArrayBufferWriter<byte>(bytes.Length + 16);
                quoted.Write(bytes[copied..i]);
                quoted.Write("\""u8);
                quoted.Write(bytes.Slice(i, literal));
                quoted.Write("\""u8);
                i += literal - 1;
                copied = i + 1;
            }
        }

        if (quoted is null)
        {
            return null;
        }

        quoted.Write(bytes[copied..]);
        return quoted.WrittenSpan.ToArray();
    }

    /// <summary>The length of the named literal that stands as a whole token at <paramref name="index"/>, or 0.</summary>
    private static int LiteralAt(ReadOnlySpan<byte> bytes, int index)
    {
        var rest = bytes[index..];
        var length = rest.StartsWith(NaN) ? NaN.Length
            : rest.StartsWith(PositiveInfinity) ? PositiveInfinity.Length
            : rest.StartsWith(NegativeInfinity) ? NegativeInfinity.Length
            : 0;
        return length > 0 && IsDelimiter(bytes, index - 1) && IsDelimiter(bytes, index + length) ? length : 0;
    }

    private static bool IsDelimiter(ReadOnlySpan<byte> bytes, int index)
        => (uint)index >= (uint)bytes.Length || bytes[index] is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'
            or (byte)',' or (byte)':' or (byte)'[' or (byte)']' or (byte)'{' or (byte)'}';

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
