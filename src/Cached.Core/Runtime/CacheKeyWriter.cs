using System.Buffers;
using System.Collections;
using System.ComponentModel;
using System.Globalization;

namespace Cached.Runtime;

/// <summary>
/// Builds the default key of a generated cached method into a stack buffer, allocating only the final string:
/// <c>Namespace.Type.Method(arg1,arg2)</c>. Used by generated code.
/// </summary>
/// <remarks>
/// <para>The format is unambiguous, so no two different argument lists give one key:</para>
/// <list type="bullet">
/// <item><c>null</c> is <c>null</c>; strings are quoted, with <c>\</c> and <c>"</c> escaped (<c>"a\"b"</c>); chars are <c>'c'</c>.</item>
/// <item>Numbers, <see cref="Guid"/>, <see cref="TimeSpan"/> and enums use their invariant text; <see cref="DateTime"/> and
/// <see cref="DateTimeOffset"/> the round-trip format <c>O</c>; floating point the shortest round-trippable text.</item>
/// <item>Sequences (arrays, lists, sets...) are <c>[a,b]</c>, their elements rendered by these rules.</item>
/// <item>Any other value is its <see cref="object.ToString"/>, quoted and escaped like a string (the generator warns
/// when a type does not override <c>ToString</c>: such keys would collide).</item>
/// </list>
/// <para>Everything is culture-invariant and uses no reflection.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public ref struct CacheKeyWriter
{
    private static readonly SearchValues<char> s_escaped = SearchValues.Create("\"\\'");

    private Span<char> _chars;
    private char[]? _rented;
    private int _length;
    private bool _hasArgument;

    /// <summary>Starts a key <c>prefix(</c> in <paramref name="buffer"/> (grown from the array pool when too small).</summary>
    public CacheKeyWriter(Span<char> buffer, string prefix)
    {
        _chars = buffer;
        _rented = null;
        _length = 0;
        _hasArgument = false;
        AppendRaw(prefix);
        AppendRaw('(');
    }

    /// <summary>Appends a string argument.</summary>
    public void Argument(string? value)
    {
        Separate();
        AppendString(value);
    }

    /// <summary>Appends an <see cref="int"/> argument.</summary>
    public void Argument(int value)
    {
        Separate();
        AppendFormattable(value, default);
    }

    /// <summary>Appends a <see cref="long"/> argument.</summary>
    public void Argument(long value)
    {
        Separate();
        AppendFormattable(value, default);
    }

    /// <summary>Appends a <see cref="double"/> argument, round-trippable.</summary>
    public void Argument(double value)
    {
        Separate();
        AppendFormattable(value, "R");
    }

    /// <summary>Appends a <see cref="bool"/> argument as <c>true</c> or <c>false</c>.</summary>
    public void Argument(bool value)
    {
        Separate();
        AppendRaw(value ? "true" : "false");
    }

    /// <summary>Appends a <see cref="Guid"/> argument.</summary>
    public void Argument(Guid value)
    {
        Separate();
        AppendFormattable(value, "D");
    }

    /// <summary>Appends a <see cref="DateTime"/> argument in the round-trip format.</summary>
    public void Argument(DateTime value)
    {
        Separate();
        AppendFormattable(value, "O");
    }

    /// <summary>Appends a <see cref="DateTimeOffset"/> argument in the round-trip format.</summary>
    public void Argument(DateTimeOffset value)
    {
        Separate();
        AppendFormattable(value, "O");
    }

    /// <summary>Appends a formattable value-type argument (decimal, TimeSpan, a user's ISpanFormattable struct) without boxing it.</summary>
    public void Formattable<T>(T value)
        where T : struct, ISpanFormattable
    {
        Separate();
        AppendFormattable(value, FormatFor<T>());
    }

    /// <summary>Appends a nullable formattable argument (<c>int?</c>, <c>DateTime?</c>...) without boxing it.</summary>
    public void NullableFormattable<T>(T? value)
        where T : struct, ISpanFormattable
    {
        Separate();
        if (value is { } present)
        {
            AppendFormattable(present, FormatFor<T>());
        }
        else
        {
            AppendRaw("null");
        }
    }

    /// <summary>Appends an enum argument by name (its number when it has no name) without boxing it.</summary>
    public void Enum<T>(T value)
        where T : struct, Enum
    {
        Separate();
        AppendEnum(value);
    }

    /// <summary>Appends a nullable enum argument without boxing it.</summary>
    public void NullableEnum<T>(T? value)
        where T : struct, Enum
    {
        Separate();
        if (value is { } present)
        {
            AppendEnum(present);
        }
        else
        {
            AppendRaw("null");
        }
    }

    /// <summary>Appends an array argument as <c>[a,b]</c> without allocating an enumerator.</summary>
    public void Sequence<T>(T[]? values)
    {
        Separate();
        if (values is null)
        {
            AppendRaw("null");
            return;
        }

        AppendRaw('[');
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                AppendRaw(',');
            }

            AppendValue(values[i]);
        }

        AppendRaw(']');
    }

    /// <summary>Appends a list argument as <c>[a,b]</c> without allocating an enumerator.</summary>
    public void Sequence<T>(List<T>? values)
    {
        Separate();
        if (values is null)
        {
            AppendRaw("null");
            return;
        }

        AppendRaw('[');
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                AppendRaw(',');
            }

            AppendValue(values[i]);
        }

        AppendRaw(']');
    }

    /// <summary>Appends an argument of any other type, by the rules in the remarks.</summary>
    public void Argument<T>(T value)
    {
        Separate();
        AppendValue(value);
    }

    /// <summary>Appends the instance when <c>IncludeInstance</c> is set.</summary>
    public void Instance(object instance)
    {
        Separate();
        AppendValue(instance);
    }

    /// <summary>Appends a sequence argument as <c>[a,b]</c>.</summary>
    public void Sequence<T>(IEnumerable<T>? values)
    {
        Separate();
        AppendSequence(values);
    }

    /// <summary>
    /// Closes the key and returns it where it was written: in the caller's buffer when it fit, so nothing is
    /// allocated (a key that outgrew the buffer is copied to a string and the pooled array given back).
    /// </summary>
    public ReadOnlySpan<char> Close()
    {
        AppendRaw(')');
        if (_rented is null)
        {
            return _chars[.._length];
        }

        var key = _chars[.._length].ToString();
        ArrayPool<char>.Shared.Return(_rented);
        _rented = null;
        return key.AsSpan();
    }

    /// <summary>Closes the key and returns it.</summary>
    public string Finish()
    {
        AppendRaw(')');
        var key = _chars[.._length].ToString();
        if (_rented is not null)
        {
            ArrayPool<char>.Shared.Return(_rented);
            _rented = null;
        }

        return key;
    }

    /// <summary>The invariant text of one key of a multi-cached method: strings as they are, other values by the rules in the remarks.</summary>
    public static string Format<T>(T value)
    {
        if (value is string text)
        {
            return text;
        }

        if (value is IFormattable formattable)
        {
            return formattable.ToString(FormatOf(value), CultureInfo.InvariantCulture);
        }

        return value?.ToString() ?? "null";
    }

    private void Separate()
    {
        if (_hasArgument)
        {
            AppendRaw(',');
        }

        _hasArgument = true;
    }

    private void AppendValue<T>(T value)
    {
        // The JIT folds these type tests per T, so common value types are written without boxing.
        if (typeof(T).IsValueType && TryAppendKnownValue(value))
        {
            return;
        }

        switch (value)
        {
            case null:
                AppendRaw("null");
                break;
            case string text:
                AppendString(text);
                break;
            case char c:
                AppendRaw('\'');
                AppendEscaped(c);
                AppendRaw('\'');
                break;
            case bool b:
                AppendRaw(b ? "true" : "false");
                break;
            case ISpanFormattable formattable:
                AppendFormattable(formattable, FormatOf(value));
                break;
            case IEnumerable sequence:
                AppendRaw('[');
                var first = true;
                foreach (var item in sequence)
                {
                    if (!first)
                    {
                        AppendRaw(',');
                    }

                    first = false;
                    AppendValue(item);
                }

                AppendRaw(']');
                break;
            default:
                AppendString(value.ToString());
                break;
        }
    }

    private bool TryAppendKnownValue<T>(T value)
    {
        if (typeof(T) == typeof(int))
        {
            AppendFormattable((int)(object)value!, default);
        }
        else if (typeof(T) == typeof(long))
        {
            AppendFormattable((long)(object)value!, default);
        }
        else if (typeof(T) == typeof(double))
        {
            AppendFormattable((double)(object)value!, "R");
        }
        else if (typeof(T) == typeof(decimal))
        {
            AppendFormattable((decimal)(object)value!, default);
        }
        else if (typeof(T) == typeof(Guid))
        {
            AppendFormattable((Guid)(object)value!, "D");
        }
        else if (typeof(T) == typeof(DateTime))
        {
            AppendFormattable((DateTime)(object)value!, "O");
        }
        else if (typeof(T) == typeof(DateTimeOffset))
        {
            AppendFormattable((DateTimeOffset)(object)value!, "O");
        }
        else if (typeof(T) == typeof(TimeSpan))
        {
            AppendFormattable((TimeSpan)(object)value!, default);
        }
        else if (typeof(T) == typeof(bool))
        {
            AppendRaw((bool)(object)value! ? "true" : "false");
        }
        else if (typeof(T) == typeof(char))
        {
            AppendRaw('\'');
            AppendEscaped((char)(object)value!);
            AppendRaw('\'');
        }
        else
        {
            return false;
        }

        return true;
    }

    private void AppendEnum<T>(T value)
        where T : struct, Enum
    {
        int written;
        while (!System.Enum.TryFormat(value, _chars[_length..], out written))
        {
            Grow(_chars.Length);
        }

        _length += written;
    }

    /// <summary>The format that makes a value's text exact: round-trip for dates and floating point.</summary>
    private static string? FormatFor<T>()
        => typeof(T) == typeof(DateTime) || typeof(T) == typeof(DateTimeOffset) ? "O"
            : typeof(T) == typeof(double) || typeof(T) == typeof(float) || typeof(T) == typeof(Half) ? "R"
            : typeof(T) == typeof(Guid) ? "D"
            : null;

    private void AppendSequence<T>(IEnumerable<T>? values)
    {
        if (values is null)
        {
            AppendRaw("null");
            return;
        }

        AppendRaw('[');
        var first = true;
        foreach (var item in values)
        {
            if (!first)
            {
                AppendRaw(',');
            }

            first = false;
            AppendValue(item);
        }

        AppendRaw(']');
    }

    private static string? FormatOf<T>(T value) => value switch
    {
        DateTime or DateTimeOffset => "O",
        double or float or Half => "R",
        Guid => "D",
        _ => null,
    };

    private void AppendString(string? text)
    {
        if (text is null)
        {
            AppendRaw("null");
            return;
        }

        AppendRaw('"');
        var rest = text.AsSpan();
        while (true)
        {
            // Copy the runs between characters that need a backslash in one go: most strings have none.
            var special = rest.IndexOfAny(s_escaped);
            AppendRaw(special < 0 ? rest : rest[..special]);
            if (special < 0)
            {
                break;
            }

            AppendEscaped(rest[special]);
            rest = rest[(special + 1)..];
        }

        AppendRaw('"');
    }

    private void AppendEscaped(char c)
    {
        if (c is '"' or '\\' or '\'')
        {
            AppendRaw('\\');
        }

        AppendRaw(c);
    }

    private void AppendFormattable<T>(T value, ReadOnlySpan<char> format)
        where T : ISpanFormattable
    {
        int written;
        while (!value.TryFormat(_chars[_length..], out written, format, CultureInfo.InvariantCulture))
        {
            Grow(_chars.Length);
        }

        _length += written;
    }

    private void AppendRaw(char c)
    {
        if (_length == _chars.Length)
        {
            Grow(1);
        }

        _chars[_length++] = c;
    }

    private void AppendRaw(string text) => AppendRaw(text.AsSpan());

    private void AppendRaw(ReadOnlySpan<char> text)
    {
        if (_length + text.Length > _chars.Length)
        {
            Grow(text.Length);
        }

        text.CopyTo(_chars[_length..]);
        _length += text.Length;
    }

    private void Grow(int atLeast)
    {
        var bigger = ArrayPool<char>.Shared.Rent(Math.Max(_chars.Length * 2, _length + atLeast + 16));
        _chars[.._length].CopyTo(bigger);
        if (_rented is not null)
        {
            ArrayPool<char>.Shared.Return(_rented);
        }

        _rented = bigger;
        _chars = bigger;
    }
}
