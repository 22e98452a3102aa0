using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Cached.Runtime;

// The text rules of a key (see the remarks of CacheKeyWriter) and the buffer they write into.
public ref partial struct CacheKeyWriter
{
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
            case ISpanFormattable formattable when IsBareText(formattable):
                AppendFormattable(formattable, FormatOf(value));
                break;
            case IFormattable formattable:
                // Any other formattable value (a Uri, a type of the application's) is quoted like a string, since
                // nothing keeps a comma or a bracket out of its text: "a,b" never reads as two arguments.
                AppendString(formattable.ToString(null, CultureInfo.InvariantCulture));
                break;
            case ITuple tuple:
                // Element by element, so that ("a, b", "c") and ("a", "b, c") stay two keys; an item declared as a
                // reference type (object, an interface) that holds a boxed value carries its mark.
                AppendRaw('(');
                var declared = tuple.GetType() is { IsGenericType: true } tupleType ? tupleType.GetGenericArguments() : [];
                for (var i = 0; i < tuple.Length; i++)
                {
                    AppendSeparatorUnless(i == 0);
                    AppendHeld(tuple[i], i < 7 && i < declared.Length && !declared[i].IsValueType);
                }

                AppendRaw(')');
                break;
            case IDictionary dictionary:
                // Entry by entry, for the same reason: a pair's own text does not escape its key or its value. Keys or
                // values of a reference type (object, an interface) that hold a boxed value carry its mark, as a
                // sequence of object's elements do; a value type's collections are no IEnumerable<object>.
                AppendRaw('{');
                var firstEntry = true;
                var markKeys = dictionary.Keys is IEnumerable<object>;
                var markValues = dictionary.Values is IEnumerable<object>;
                foreach (DictionaryEntry entry in dictionary)
                {
                    AppendSeparatorUnless(firstEntry);
                    firstEntry = false;
                    AppendHeld(entry.Key, markKeys);
                    AppendRaw(':');
                    AppendHeld(entry.Value, markValues);
                }

                AppendRaw('}');
                break;
            case IEnumerable<KeyValuePair<object?, object?>> entries:
                // A dictionary as generated code reshapes it (its keys or values reshaped), written as one is above.
                AppendEntries(entries);
                break;
            case IEnumerable sequence:
                if (!TryEnumerate(sequence, out var items))
                {
                    AppendRaw("null");
                    break;
                }

                AppendRaw('[');
                var first = true;
                var mark = sequence is IEnumerable<object>;
                while (items.MoveNext())
                {
                    AppendSeparatorUnless(first);
                    first = false;
                    AppendHeld(items.Current, mark);
                }

                (items as IDisposable)?.Dispose();
                AppendRaw(']');
                break;
            default:
                AppendString(InvariantText(value));
                break;
        }
    }

    /// <summary>Writes pairs as <c>{k:v,k:v}</c>, each key and value by the rules in the remarks.</summary>
    private void AppendEntries<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>> entries)
    {
        AppendRaw('{');
        var first = true;
        foreach (var (key, value) in entries)
        {
            AppendSeparatorUnless(first);
            first = false;
            AppendDeclared(key);
            AppendRaw(':');
            AppendDeclared(value);
        }

        AppendRaw('}');
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

    /// <summary>The format that makes a value's text exact: round-trip for dates, times and floating point.</summary>
    private static string? FormatFor<T>()
        => typeof(T) == typeof(DateTime) || typeof(T) == typeof(DateTimeOffset) || typeof(T) == typeof(TimeOnly) ? "O"
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

        if (!TryEnumerate(values, out var items))
        {
            AppendRaw("null");
            return;
        }

        using var enumerator = items;
        AppendRaw('[');
        var first = true;
        while (enumerator.MoveNext())
        {
            AppendSeparatorUnless(first);
            first = false;
            AppendDeclared(enumerator.Current);
        }

        AppendRaw(']');
    }

    /// <summary>
    /// The sequence's enumerator; false for a struct sequence in its default state, which refuses to be enumerated (a
    /// default <c>ImmutableArray&lt;T&gt;</c>): it holds no array at all, so it is written <c>null</c>, as generated
    /// code writes one it reshapes.
    /// </summary>
    internal static bool TryEnumerate(IEnumerable sequence, out IEnumerator items)
        => TryStart(sequence, static s => s.GetEnumerator(), out items);

    /// <inheritdoc cref="TryEnumerate(IEnumerable, out IEnumerator)"/>
    private static bool TryEnumerate<T>(IEnumerable<T> sequence, out IEnumerator<T> items)
        => TryStart(sequence, static s => s.GetEnumerator(), out items);

    private static bool TryStart<TSequence, TEnumerator>(TSequence sequence, Func<TSequence, TEnumerator> start, out TEnumerator items)
        where TSequence : IEnumerable
    {
        try
        {
            items = start(sequence);
            return true;
        }
        catch (InvalidOperationException) when (sequence.GetType().IsValueType)
        {
            items = default!;
            return false;
        }
    }

    /// <summary>The comma between two elements: written before every element but the first.</summary>
    private void AppendSeparatorUnless(bool first)
    {
        if (!first)
        {
            AppendRaw(',');
        }
    }

    /// <summary>
    /// A sequence's text by the default key's rules (<c>[1,2]</c>, <c>{k:v}</c>), for a template hole that names a
    /// collection: its own <see cref="object.ToString"/> names only its type, so every call would share one entry.
    /// </summary>
    internal static string SequenceText(IEnumerable sequence)
    {
        var writer = default(CacheKeyWriter);
        try
        {
            writer.AppendValue(sequence);
            return writer._chars[..writer._length].ToString();
        }
        finally
        {
            if (writer._rented is not null)
            {
                ArrayPool<char>.Shared.Return(writer._rented);
            }
        }
    }

    /// <summary>
    /// A value's <see cref="object.ToString"/> written under the invariant culture, so that a record's numbers and dates
    /// read the same in every culture (a web app may set a culture per request).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="value"/> is a memory of anything but chars.</exception>
    internal static string? InvariantText(object value)
    {
        ThrowIfMemoryOfElements(value);
        var culture = CultureInfo.CurrentCulture;
        if (ReferenceEquals(culture, CultureInfo.InvariantCulture))
        {
            return value.ToString();
        }

        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            return value.ToString();
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    /// <summary>
    /// Refuses a <see cref="Memory{T}"/>, <see cref="ReadOnlyMemory{T}"/> or <see cref="System.Buffers.ReadOnlySequence{T}"/>
    /// of anything but chars that reaches the text fallback (inside a tuple, a list or an <see cref="object"/>): its text
    /// names only its type and length, so two of the same length would share one entry. A parameter of a memory type itself is written by its elements (<c>Sequence</c>); reading
    /// the elements of one held as <see cref="object"/> would need reflection, which trimming and NativeAOT do not keep.
    /// </summary>
    private static void ThrowIfMemoryOfElements(object value)
    {
        var type = value.GetType();
        if (type.IsGenericType
            && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(Memory<>) || definition == typeof(ReadOnlyMemory<>) || definition == typeof(System.Buffers.ReadOnlySequence<>))
            && type.GetGenericArguments()[0] != typeof(char))
        {
            throw new ArgumentException(
                $"A cache key cannot be written from a {value} inside another value: its text names only its type and length, so memories of the same length would share one entry. Pass the elements as an array or a memory parameter of their own, or write the key with Key or KeyBuilder.",
                nameof(value));
        }
    }

    private static string? FormatOf<T>(T value) => value switch
    {
        DateTime or DateTimeOffset or TimeOnly => "O",
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
