using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace Cached.Runtime;

/// <summary>
/// Writes a <c>Key = "user:{id}"</c> template into a stack buffer, culture-invariant, allocating only when the key
/// outgrows it: the text <see cref="MemoryExtensions.TryWrite(Span{char}, IFormatProvider?, ref MemoryExtensions.TryWriteInterpolatedStringHandler, out int)"/>
/// writes with <see cref="CultureInfo.InvariantCulture"/>, in one call. Used by generated code:
/// <c>CacheKeyTemplate.Write(stackalloc char[256], $"user:{id}").Close()</c>.
/// </summary>
/// <remarks>
/// The formatting is the runtime's own: every part goes to a <see cref="DefaultInterpolatedStringHandler"/> with the
/// invariant culture, which formats an <see cref="ISpanFormattable"/> value in place without boxing it and grows from
/// the stack buffer into a pooled array. Only reading its text back without a copy is ours.
/// </remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
[InterpolatedStringHandler]
public ref struct CacheKeyTemplate
{
    private readonly Span<char> _buffer;
    private DefaultInterpolatedStringHandler _text;

    /// <summary>Starts a key in <paramref name="buffer"/>; the compiler calls this for <see cref="Write"/>.</summary>
    public CacheKeyTemplate(int literalLength, int formattedCount, Span<char> buffer)
    {
        _buffer = buffer;
        _text = new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture, buffer);
    }

    /// <summary>Writes the interpolated <paramref name="template"/> into <paramref name="buffer"/> and returns it to be closed.</summary>
    public static CacheKeyTemplate Write(Span<char> buffer, [InterpolatedStringHandlerArgument(nameof(buffer))] ref CacheKeyTemplate template)
        => template;

    /// <summary>Appends the template's literal text.</summary>
    public void AppendLiteral(string value) => _text.AppendLiteral(value);

    /// <summary>Appends a value (a date and time or a time of day in the round-trip format, see <see cref="DefaultFormat"/>).</summary>
    public void AppendFormatted<T>(T value)
    {
        if (DefaultFormat(value) is { } roundTrip)
        {
            _text.AppendFormatted(value, roundTrip);
        }
        else if (FormatsItself(value))
        {
            _text.AppendFormatted(value);
        }
        else
        {
            _text.AppendFormatted(HoleText(value!));
        }
    }

    /// <summary>Appends a value with a format: <c>{day:D2}</c>.</summary>
    public void AppendFormatted<T>(T value, string? format)
    {
        if (FormatsItself(value))
        {
            _text.AppendFormatted(value, format);
        }
        else
        {
            _text.AppendFormatted(HoleText(value!));
        }
    }

    /// <summary>Appends a value padded to an alignment: <c>{id,5}</c>.</summary>
    public void AppendFormatted<T>(T value, int alignment)
    {
        if (DefaultFormat(value) is { } roundTrip)
        {
            _text.AppendFormatted(value, alignment, roundTrip);
        }
        else if (FormatsItself(value))
        {
            _text.AppendFormatted(value, alignment);
        }
        else
        {
            _text.AppendFormatted(HoleText(value!), alignment);
        }
    }

    /// <summary>Appends a value with an alignment and a format: <c>{id,5:D2}</c>.</summary>
    public void AppendFormatted<T>(T value, int alignment, string? format)
    {
        if (FormatsItself(value))
        {
            _text.AppendFormatted(value, alignment, format);
        }
        else
        {
            _text.AppendFormatted(HoleText(value!), alignment);
        }
    }

    /// <summary>Appends a string.</summary>
    public void AppendFormatted(string? value) => _text.AppendFormatted(value);

    /// <summary>Appends a string padded to an alignment.</summary>
    public void AppendFormatted(string? value, int alignment) => _text.AppendFormatted(value, alignment);

    /// <summary>Appends characters.</summary>
    public void AppendFormatted(ReadOnlySpan<char> value) => _text.AppendFormatted(value);

    /// <summary>Appends characters padded to an alignment.</summary>
    public void AppendFormatted(ReadOnlySpan<char> value, int alignment) => _text.AppendFormatted(value, alignment);

    /// <summary>
    /// Whether the handler writes <paramref name="value"/> culture-invariant by itself: an <see cref="IFormattable"/>
    /// is given the invariant culture, a string and a bool have one text. Anything else it writes with
    /// <see cref="object.ToString"/> under the caller's culture, so that a tuple's or a record's numbers would differ
    /// by culture: <see cref="CacheKeyWriter.InvariantText"/> writes those.
    /// </summary>
    internal static bool FormatsItself<T>(T value) => value is null or IFormattable or string or bool;

    /// <summary>
    /// The format of a hole written without one: <c>O</c>, the round-trip format, for a <see cref="DateTime"/>, a
    /// <see cref="DateTimeOffset"/> and a <see cref="TimeOnly"/> (held as themselves, nullable or as <c>object</c>), whose
    /// default texts drop the fraction of a second (<c>G</c>) or the seconds (<c>t</c>), so that two calls a moment
    /// apart would share an entry; a default key writes them so too. Null for any other value, whose default text is
    /// exact. The type tests fold away for a value type.
    /// </summary>
    internal static string? DefaultFormat<T>(T value) => value is DateTime or DateTimeOffset or TimeOnly ? "O" : null;

    /// <summary>
    /// The text of a value the handler does not format itself: a collection by its elements, as a default key writes it
    /// (<c>[1,2]</c>; its own <see cref="object.ToString"/> names only its type, so <c>sum:{ids}</c> would be one key for
    /// every list), anything else its <see cref="object.ToString"/> under the invariant culture.
    /// </summary>
    internal static string? HoleText(object value)
        => value is IEnumerable sequence ? CacheKeyWriter.SequenceText(sequence) : CacheKeyWriter.InvariantText(value);

    /// <summary>
    /// Returns the key where it was written: in the caller's buffer when it fit, so nothing is allocated (a key that
    /// outgrew the buffer is copied to a string and the pooled array given back).
    /// </summary>
    public ReadOnlySpan<char> Close()
    {
        var text = TextOf(ref _text);
        if (text.IsEmpty || text.Overlaps(_buffer))
        {
            return text;
        }

        var key = text.ToString();
        ClearOf(ref _text);
        return key.AsSpan();
    }

    /// <summary>Returns the key as a string.</summary>
    public string Finish() => _text.ToStringAndClear();

    // The handler's text and its release of the pooled array: public since .NET 9, internal in .NET 8; an accessor
    // reaches both without reflection, so trimming and NativeAOT keep them.
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Text")]
    private static extern ReadOnlySpan<char> TextOf(scoped ref DefaultInterpolatedStringHandler handler);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "Clear")]
    private static extern void ClearOf(ref DefaultInterpolatedStringHandler handler);
}
