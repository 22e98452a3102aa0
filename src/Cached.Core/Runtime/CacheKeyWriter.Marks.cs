using System.Globalization;
using System.Numerics;

namespace Cached.Runtime;

// Which values are written bare and which quoted, and the type marks of values held as object (see the remarks of
// CacheKeyWriter): what keeps two values whose texts read alike in two keys.
public ref partial struct CacheKeyWriter
{
    /// <summary>
    /// An element met through a non-generic collection: marked as a value held as <see cref="object"/> is when the
    /// collection's elements are of a reference type (<paramref name="held"/>, told by <c>IEnumerable&lt;object&gt;</c>,
    /// which no collection of a value type is), so that <c>[1L]</c> and <c>[1]</c> of an <c>object[]</c> keep apart.
    /// </summary>
    private void AppendHeld(object? value, bool held)
    {
        if (held)
        {
            AppendDeclared(value);
        }
        else
        {
            AppendValue(value);
        }
    }

    /// <summary>
    /// A value as its declared type <typeparamref name="T"/> holds it: one declared as <see cref="object"/> (a
    /// parameter, or an element of a sequence of objects) that holds a number other than an
    /// <see cref="int"/> carries its type, as a C# literal of it would (<c>1L</c>, <c>1D</c>, <c>1M</c>,
    /// <c>(short)1</c>), so that <c>M(1)</c>, <c>M(1L)</c> and <c>M(1.0)</c> keep apart; so do the values whose text
    /// another type shares: an enum (<c>(Ns.Status)Active</c>: two enums may name a member alike, and an undefined
    /// member's text is its number), a <see cref="BigInteger"/>, a <see cref="TimeOnly"/> (a <see cref="TimeSpan"/>'s
    /// text) and a <see cref="DateTimeOffset"/> (a local <see cref="DateTime"/>'s). A declared type needs no mark: it
    /// holds one type only.
    /// </summary>
    private void AppendDeclared<T>(T value)
    {
        if (typeof(T) != typeof(object) || value is null || !TryNumberMark(value, out var prefix, out var suffix))
        {
            AppendValue(value);
            return;
        }

        AppendRaw(prefix);
        AppendValue(value);
        AppendRaw(suffix);
    }

    /// <summary>How C# marks a literal of a boxed value's type: a suffix, or a cast for the types without one; false for an int, a string and the rest.</summary>
    private static bool TryNumberMark(object value, out string prefix, out string suffix)
    {
        (prefix, suffix) = value switch
        {
            long => (string.Empty, "L"),
            uint => (string.Empty, "U"),
            ulong => (string.Empty, "UL"),
            float => (string.Empty, "F"),
            double => (string.Empty, "D"),
            decimal => (string.Empty, "M"),
            short => ("(short)", string.Empty),
            ushort => ("(ushort)", string.Empty),
            byte => ("(byte)", string.Empty),
            sbyte => ("(sbyte)", string.Empty),
            nint => ("(nint)", string.Empty),
            nuint => ("(nuint)", string.Empty),
            Half => ("(Half)", string.Empty),
            Int128 => ("(Int128)", string.Empty),
            UInt128 => ("(UInt128)", string.Empty),
            BigInteger => ("(BigInteger)", string.Empty),
            TimeOnly => ("(TimeOnly)", string.Empty),
            DateTimeOffset => ("(DateTimeOffset)", string.Empty),
            // Type.ToString names a generic type's arguments without their assemblies' versions, which FullName would
            // carry: a key must not change with a runtime's or an application's version.
            System.Enum => ("(" + value.GetType() + ")", string.Empty),
            // A quoted formattable (a Uri, a Rune) would read as the string of its text.
            ISpanFormattable formattable when formattable is not char && !IsBareText(formattable) => ("(" + value.GetType() + ")", string.Empty),
            _ => (string.Empty, string.Empty),
        };
        return prefix.Length + suffix.Length > 0;
    }

    /// <summary>
    /// A parameter of a formattable struct type: bare when the type is one of <see cref="IsBareText"/>'s (the JIT folds
    /// the test per type), else quoted like any other formattable value, so that a comma in its text splits nothing.
    /// </summary>
    private void AppendDeclaredFormattable<T>(T value)
        where T : struct, ISpanFormattable
    {
        if (IsBareType<T>())
        {
            AppendFormattable(value, FormatFor<T>());
        }
        else
        {
            AppendString(value.ToString(null, CultureInfo.InvariantCulture));
        }
    }

    /// <summary><see cref="IsBareText"/> for a declared type, without boxing a value: the JIT folds it per type.</summary>
    private static bool IsBareType<T>()
        => typeof(T) == typeof(int) || typeof(T) == typeof(long) || typeof(T) == typeof(double) || typeof(T) == typeof(decimal)
            || typeof(T) == typeof(float) || typeof(T) == typeof(Half) || typeof(T) == typeof(short) || typeof(T) == typeof(ushort)
            || typeof(T) == typeof(byte) || typeof(T) == typeof(sbyte) || typeof(T) == typeof(uint) || typeof(T) == typeof(ulong)
            || typeof(T) == typeof(nint) || typeof(T) == typeof(nuint) || typeof(T) == typeof(Int128) || typeof(T) == typeof(UInt128)
            || typeof(T) == typeof(BigInteger) || typeof(T) == typeof(Guid) || typeof(T) == typeof(DateTime)
            || typeof(T) == typeof(DateTimeOffset) || typeof(T) == typeof(DateOnly) || typeof(T) == typeof(TimeOnly)
            || typeof(T) == typeof(TimeSpan) || typeof(T) == typeof(char) || typeof(T).IsEnum;

    /// <summary>
    /// Whether a formattable value is written bare: the numbers, dates, times, <see cref="Guid"/> and enums, whose text
    /// holds no comma, bracket or quote. Any other is quoted.
    /// </summary>
    private static bool IsBareText(ISpanFormattable value)
        => value is System.Enum or int or long or double or decimal or float or Half or short or ushort or byte or sbyte or uint or ulong
            or nint or nuint or Int128 or UInt128 or BigInteger or Guid or DateTime or DateTimeOffset or DateOnly or TimeOnly or TimeSpan;
}
