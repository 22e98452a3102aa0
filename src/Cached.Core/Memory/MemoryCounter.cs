using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Cached.Memory;

/// <summary>Reads and writes counters in every form a value can be stored in.</summary>
internal static class MemoryCounter
{
    public static object Create(long value, bool asBytes)
        => asBytes ? Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture)) : value;

    /// <summary>Returns the new value and its stored form, keeping the form (and integer type) of the old one; a string becomes a long.</summary>
    public static (long Value, object Stored) Add(string key, object? stored, long delta)
    {
        switch (stored)
        {
            case long l: { var v = checked(l + delta); return (v, v); }
            case int i: { var v = checked(i + delta); return (v, checked((int)v)); }
            case short s: { var v = checked(s + delta); return (v, checked((short)v)); }
            case sbyte sb: { var v = checked(sb + delta); return (v, checked((sbyte)v)); }
            case byte b: { var v = checked(b + delta); return (v, checked((byte)v)); }
            case ushort us: { var v = checked(us + delta); return (v, checked((ushort)v)); }
            case uint ui: { var v = checked(ui + delta); return (v, checked((uint)v)); }
            case ulong ul: { var v = checked(checked((long)ul) + delta); return (v, checked((ulong)v)); }
            // Decimals without a fraction part (3m, whose JSON is 3, not 3.0m) and big integers are integers, as INCRBY counts
            // on their JSON; past long's range, an overflow.
            case decimal d when d.Scale == 0: { var v = checked(checked((long)d) + delta); return (v, (decimal)v); }
            case BigInteger big: { var v = checked(checked((long)big) + delta); return (v, (BigInteger)v); }
            // A string (kept as it is by NullSerializer) becomes the long it counts to, as aiocache's int(v) + delta
            // stores an int: Get<long> reads it back.
            case string text when IsRedisInteger(text):
                {
                    var v = checked(InLongRange(long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed), parsed) + delta);
                    return (v, v);
                }

            case byte[] bytes when IsRedisInteger(bytes):
                {
                    var v = checked(InLongRange(Utf8Parser.TryParse(bytes, out long parsed, out var consumed) && consumed == bytes.Length, parsed) + delta);
                    return (v, Create(v, asBytes: true));
                }

            default:
                throw new CacheValueNotIntegerException(key);
        }
    }

    /// <summary>
    /// Whether stored text is an integer in the one form Redis's <c>INCRBY</c> takes: <c>0</c>, or an optional
    /// <c>-</c> and digits from a non-zero one; no <c>+</c>, no leading zero, no <c>-0</c>, no space. The same stored
    /// bytes then count, or are refused, alike on both backends (<c>05</c> is not valid JSON either).
    /// </summary>
    private static bool IsRedisInteger(ReadOnlySpan<char> text)
    {
        var digits = text.StartsWith("-") ? text[1..] : text;
        return digits.Length is > 0 and <= 40
            && (digits[0] is >= '1' and <= '9' || (digits.Length == 1 && digits[0] == '0' && text.Length == 1))
            && !digits.ContainsAnyExceptInRange('0', '9');
    }

    private static bool IsRedisInteger(byte[] bytes)
    {
        if (bytes.Length > 41)
        {
            return false;
        }

        Span<char> text = stackalloc char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            text[i] = (char)bytes[i];
        }

        return IsRedisInteger(text);
    }

    /// <summary>An integer's text that did not parse as a long is past its range: an overflow, as the docs promise, not "not an integer".</summary>
    private static long InLongRange(bool parsed, long value)
        => parsed ? value : throw new OverflowException("The stored integer is past the range of a 64-bit counter.");
}
