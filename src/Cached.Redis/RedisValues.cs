using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>Payloads to Redis values and back, raw replies to .NET values, and glob patterns that match only themselves.</summary>
internal static class RedisValues
{
    /// <summary>Escapes Redis glob characters, so a namespace such as <c>a*</c> matches only itself.</summary>
    public static string GlobEscape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            if (c is '*' or '?' or '[' or ']' or '\\' or '^' or '-')
            {
                escaped.Append('\\');
            }

            escaped.Append(c);
        }

        return escaped.ToString();
    }

    internal static CacheResult<object?> ToResult(RedisValue value)
        => value.IsNull ? CacheResult<object?>.Miss : CacheResult<object?>.Hit((byte[])value!);

    internal static RedisValue ToValue(object? payload) => payload switch
    {
        byte[] bytes => bytes,
        string text => text,
        null => RedisValue.EmptyString,
        _ => throw new CacheSerializationException("?", payload.GetType(), "the Redis backend stores bytes; use a serializer that writes them."),
    };

    /// <summary>A raw reply as .NET values: text for bulk and simple strings (as aiocache decodes them), numbers, lists, null.</summary>
    internal static object? FromResult(RedisResult result)
    {
        if (result.IsNull)
        {
            return null;
        }

        return result.Resp2Type switch
        {
            ResultType.Integer => (long)result,
            ResultType.Array => ((RedisResult[])result!).Select(FromResult).ToList(),
            _ => (string?)result,
        };
    }

    /// <summary>The arguments of <see cref="Scripts.CompareAndSet"/>: expected value, new value, PX milliseconds, whether the key is expected missing.</summary>
    public static RedisValue[] CompareAndSetArguments(object? version, object? payload, TimeSpan? ttl)
        =>
        [
            version is null ? RedisValue.EmptyString : ToValue(version),
            ToValue(payload),
            ttl is { } span ? (long)Math.Ceiling(span.TotalMilliseconds) : RedisValue.EmptyString,
            version is null ? "1" : "0",
        ];

    /// <summary>
    /// Whether <paramref name="stored"/>, read after the server refused an increment by <paramref name="delta"/> with
    /// "not an integer or out of range", is an integer past 64 bits or one the increment takes past them: only then is
    /// the refusal an overflow (Redis says "would overflow" for the second, Garnet gives this one error for all three).
    /// The read comes after the refusal, so another client may have written meanwhile: an integer the increment keeps in
    /// range was not what the server refused, and the refusal stays "not an integer".
    /// </summary>
    internal static bool OverflowsWith(RedisValue stored, long delta)
    {
        if (!IsIntegerText(stored))
        {
            return false;
        }

        // Digits past 19 are past long's range without parsing them (which costs more the longer the text).
        var text = (string)stored!;
        if (text.Length - (text[0] == '-' ? 1 : 0) > 19 || !long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return true;
        }

        return delta > 0 ? value > long.MaxValue - delta : value < long.MinValue - delta;
    }

    /// <summary>
    /// Whether a stored value is an integer's text in Redis's own form, whatever its size: <c>0</c>, or an optional
    /// <c>-</c> and digits from a non-zero one (<c>05</c> and <c>-0</c> are not integers to Redis).
    /// </summary>
    internal static bool IsIntegerText(RedisValue value)
    {
        if (value.IsNull)
        {
            return false;
        }

        var text = ((string?)value).AsSpan();
        var digits = text.StartsWith("-") ? text[1..] : text;
        return digits.Length > 0 && !digits.ContainsAnyExceptInRange('0', '9')
            && (digits[0] != '0' || (digits.Length == 1 && text.Length == 1));
    }
}
