using System.Buffers;
using System.Collections;
using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Cached.Runtime;

/// <summary>
/// Builds the default key of a generated cached method into a stack buffer, allocating only the final string:
/// <c>Namespace.Type.Method(arg1,arg2)</c>. Used by generated code.
/// </summary>
/// <remarks>
/// <para>The format is unambiguous, so no two different argument lists give one key:</para>
/// <list type="bullet">
/// <item><c>null</c> is <c>null</c>; strings are quoted, with <c>\</c> and <c>"</c> escaped (<c>"a\"b"</c>); chars are <c>'c'</c>.</item>
/// <item>Numbers, <see cref="Guid"/>, <see cref="TimeSpan"/> and enums use their invariant text (a number other than an
/// <see cref="int"/> held as <see cref="object"/> is marked with its type as a C# literal is: <c>1L</c>, <c>1D</c>; an
/// enum, a <c>BigInteger</c>, a <see cref="TimeOnly"/>, a <see cref="DateTimeOffset"/> and a quoted formattable value
/// held so are marked with their type name: <c>(Ns.Status)Active</c>); <see cref="DateTime"/> and
/// <see cref="DateTimeOffset"/> and <see cref="TimeOnly"/> the round-trip format <c>O</c>; floating point the shortest round-trippable text.</item>
/// <item>Sequences (arrays, lists, sets...) are <c>[a,b]</c>, tuples <c>(a,b)</c> and dictionaries <c>{k:v}</c>, their
/// elements rendered by these rules.</item>
/// <item>Any other value is its <see cref="object.ToString"/>, run under the invariant culture, quoted and escaped like a
/// string (the generator warns when a type does not override <c>ToString</c>: such keys would collide).</item>
/// </list>
/// <para>Limits, in docs/decorators.md: through <see cref="object"/> (and a type parameter), a value written by its text
/// reads as the string of that text, a collection, tuple or dictionary of one number type as one of another, and a
/// record's text escapes nothing.</para>
/// <para>Everything is culture-invariant and uses no reflection.</para>
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public ref partial struct CacheKeyWriter
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
    [UnscopedRef]
    public ref CacheKeyWriter Argument(string? value)
    {
        Separate();
        AppendString(value);

        return ref this;
    }

    /// <summary>Appends an <see cref="int"/> argument.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(int value)
    {
        Separate();
        AppendFormattable(value, default);

        return ref this;
    }

    /// <summary>Appends a <see cref="long"/> argument.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(long value)
    {
        Separate();
        AppendFormattable(value, default);

        return ref this;
    }

    /// <summary>Appends a <see cref="double"/> argument, round-trippable.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(double value)
    {
        Separate();
        AppendFormattable(value, "R");

        return ref this;
    }

    /// <summary>Appends a <see cref="bool"/> argument as <c>true</c> or <c>false</c>.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(bool value)
    {
        Separate();
        AppendRaw(value ? "true" : "false");

        return ref this;
    }

    /// <summary>Appends a <see cref="Guid"/> argument.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(Guid value)
    {
        Separate();
        AppendFormattable(value, "D");

        return ref this;
    }

    /// <summary>Appends a <see cref="DateTime"/> argument in the round-trip format.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(DateTime value)
    {
        Separate();
        AppendFormattable(value, "O");

        return ref this;
    }

    /// <summary>Appends a <see cref="DateTimeOffset"/> argument in the round-trip format.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument(DateTimeOffset value)
    {
        Separate();
        AppendFormattable(value, "O");

        return ref this;
    }

    /// <summary>Appends a formattable value-type argument (decimal, TimeSpan, a user's ISpanFormattable struct) without boxing it.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Formattable<T>(T value)
        where T : struct, ISpanFormattable
    {
        Separate();
        AppendDeclaredFormattable(value);

        return ref this;
    }

    /// <summary>Appends a nullable formattable argument (<c>int?</c>, <c>DateTime?</c>...) without boxing it.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter NullableFormattable<T>(T? value)
        where T : struct, ISpanFormattable
    {
        Separate();
        if (value is { } present)
        {
            AppendDeclaredFormattable(present);
        }
        else
        {
            AppendRaw("null");
        }

        return ref this;
    }

    /// <summary>Appends an enum argument by name (its number when it has no name) without boxing it.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Enum<T>(T value)
        where T : struct, Enum
    {
        Separate();
        AppendEnum(value);

        return ref this;
    }

    /// <summary>Appends a nullable enum argument without boxing it.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter NullableEnum<T>(T? value)
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

        return ref this;
    }

    /// <summary>Appends an array argument as <c>[a,b]</c> without allocating an enumerator.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(T[]? values)
    {
        Separate();
        if (values is null)
        {
            AppendRaw("null");
            return ref this;
        }

        AppendElements<T>(values);

        return ref this;
    }

    /// <summary>
    /// Appends a dictionary argument (any sequence of pairs) as <c>{k:v,k:v}</c>, each key and value by the rules in the
    /// remarks: a pair's own text does not escape them, so <c>{"1, a": "b"}</c> and <c>{"1": "a, b"}</c> would meet.
    /// </summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<TKey, TValue>(IEnumerable<KeyValuePair<TKey, TValue>>? values)
    {
        Separate();
        if (values is null)
        {
            AppendRaw("null");
            return ref this;
        }

        AppendEntries(values);
        return ref this;
    }

    /// <summary>Appends a memory argument as <c>[a,b]</c>, as an array of the same elements.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(ReadOnlyMemory<T> values)
    {
        Separate();
        AppendElements(values.Span);

        return ref this;
    }

    /// <inheritdoc cref="Sequence{T}(ReadOnlyMemory{T})"/>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(Memory<T> values) => ref Sequence((ReadOnlyMemory<T>)values);

    /// <summary>Appends a nullable memory argument as <c>[a,b]</c>, or <c>null</c>.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(ReadOnlyMemory<T>? values)
        => ref values is { } memory ? ref Sequence(memory) : ref Null();

    /// <inheritdoc cref="Sequence{T}(ReadOnlyMemory{T}?)"/>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(Memory<T>? values) => ref Sequence((ReadOnlyMemory<T>?)values);

    /// <summary>Appends a sequence of segments as <c>[a,b]</c>, as an array of the same elements, whatever its segments.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(ReadOnlySequence<T> values)
    {
        Separate();
        AppendRaw('[');
        var first = true;
        foreach (var segment in values)
        {
            foreach (var value in segment.Span)
            {
                AppendSeparatorUnless(first);
                first = false;
                AppendDeclared(value);
            }
        }

        AppendRaw(']');
        return ref this;
    }

    /// <summary>Appends a nullable sequence of segments as <c>[a,b]</c>, or <c>null</c>.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(ReadOnlySequence<T>? values)
        => ref values is { } sequence ? ref Sequence(sequence) : ref Null();

    /// <summary>Appends a null argument.</summary>
    [UnscopedRef]
    private ref CacheKeyWriter Null()
    {
        Separate();
        AppendRaw("null");
        return ref this;
    }

    private void AppendElements<T>(ReadOnlySpan<T> values)
    {
        AppendRaw('[');
        for (var i = 0; i < values.Length; i++)
        {
            AppendSeparatorUnless(i == 0);
            AppendDeclared(values[i]);
        }

        AppendRaw(']');
    }

    /// <summary>Appends a list argument as <c>[a,b]</c> without allocating an enumerator.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(List<T>? values)
    {
        Separate();
        if (values is null)
        {
            AppendRaw("null");
            return ref this;
        }

        AppendElements<T>(CollectionsMarshal.AsSpan(values));

        return ref this;
    }

    /// <summary>Appends an argument of any other type, by the rules in the remarks.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Argument<T>(T value)
    {
        Separate();
        AppendDeclared(value);

        return ref this;
    }

    /// <summary>Appends the instance when <c>IncludeInstance</c> is set.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Instance(object instance)
    {
        Separate();
        AppendValue(instance);

        return ref this;
    }

    /// <summary>Appends a sequence argument as <c>[a,b]</c>.</summary>
    [UnscopedRef]
    public ref CacheKeyWriter Sequence<T>(IEnumerable<T>? values)
    {
        Separate();
        AppendSequence(values);

        return ref this;
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

        if (PlainValueType<T>.Is)
        {
            // The runtime's handler formats a value type through its own TryFormat without boxing it (a batch of 100
            // int keys boxed 100 times through IFormattable); the text is the same as IFormattable.ToString's.
            var handler = new DefaultInterpolatedStringHandler(0, 1, CultureInfo.InvariantCulture, stackalloc char[64]);
            handler.AppendFormatted(value, PlainValueType<T>.Format);
            return handler.ToStringAndClear();
        }

        if (value is IFormattable formattable)
        {
            var formatted = formattable.ToString(FormatOf(value), CultureInfo.InvariantCulture);
            // Keys of type object: 1, 1L and 1D are three keys, marked as in a default key (AppendDeclared).
            return typeof(T) == typeof(object) && TryNumberMark(value, out var prefix, out var suffix) ? prefix + formatted + suffix : formatted;
        }

        if (value is ITuple or IEnumerable)
        {
            // A tuple, a collection or a dictionary element by element, as in a default key: ("a, b", "c") and
            // ("a", "b, c") are two keys, and so are two arrays, whose own text is only their type's name.
            var writer = new CacheKeyWriter(stackalloc char[64], string.Empty);
            writer.Argument(value);
            return writer.Finish()[1..^1]; // without the parentheses of the argument list
        }

        return value is null ? "null" : InvariantText(value) ?? "null";
    }

    private void Separate()
    {
        if (_hasArgument)
        {
            AppendRaw(',');
        }

        _hasArgument = true;
    }

    /// <summary>Whether <typeparamref name="T"/> is a value type other than <see cref="Nullable{T}"/>, read as a constant once compiled.</summary>
    private static class PlainValueType<T>
    {
        /// <remarks>
        /// Only formattable ones: the handler writes any other struct (a record struct, a tuple) by its ToString under the
        /// current culture, where <see cref="Format{T}"/> must write it as <see cref="AppendValue{T}"/> would.
        /// </remarks>
        public static readonly bool Is = typeof(T).IsValueType && Nullable.GetUnderlyingType(typeof(T)) is null && typeof(IFormattable).IsAssignableFrom(typeof(T));

        /// <summary>The format <see cref="FormatOf"/> picks for a value of this type, found without boxing one.</summary>
        public static readonly string? Format = Is ? FormatOf(default(T)) : null;
    }
}
