using System.Globalization;
using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// Template keys (<c>Key = "user:{id}"</c>) are written by <see cref="CacheKeyTemplate"/> in one call; their text must
/// stay exactly what <see cref="MemoryExtensions.TryWrite(Span{char}, IFormatProvider?, ref MemoryExtensions.TryWriteInterpolatedStringHandler, out int)"/>
/// with the invariant culture wrote before, so that entries stored by an earlier version are still found; but for a
/// date and time or a time of day written without a format, which is written in the round-trip format (the invariant
/// default dropped the fraction of a second, or the seconds, and calls a moment apart shared an entry).
/// </summary>
public sealed class CacheKeyTemplateTests
{
    private enum Region
    {
        North,
        South,
    }

    [Test]
    public void Values_of_every_kind_are_written_as_the_invariant_interpolation_writes_them()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            var day = new DateTime(2026, 12, 2, 9, 30, 0, DateTimeKind.Utc);
            var id = Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff");
            string? missing = null;
            int? none = null;
            var expected = Invariant($"{1.5}|{day:O}|{day:d}|{id}|{Region.South}|{missing}|{none}|{7:D3}|{true}|{'c'}|{new Point(1, 2)}|{"text"}");

            var key = CacheKeyTemplate.Write(stackalloc char[256], $"{1.5}|{day:O}|{day:d}|{id}|{Region.South}|{missing}|{none}|{7:D3}|{true}|{'c'}|{new Point(1, 2)}|{"text"}");

            Assert.That(key.Finish(), Is.EqualTo(expected));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Test]
    public void Alignments_pad_on_the_left_when_positive_and_on_the_right_when_negative()
    {
        var name = "ab";
        var key = CacheKeyTemplate.Write(stackalloc char[256], $"[{42,5}][{42,-5}][{name,4}][{name,-4}][{3.5,6:F2}][{12345,2}]");

        Assert.That(key.Finish(), Is.EqualTo(Invariant($"[{42,5}][{42,-5}][{name,4}][{name,-4}][{3.5,6:F2}][{12345,2}]")));
    }

    [Test]
    public void A_key_longer_than_the_buffer_moves_to_a_larger_array_and_keeps_every_character()
    {
        var text = new string('x', 300);
        var number = 123456789;

        var key = CacheKeyTemplate.Write(stackalloc char[8], $"long:{text}:{number}:{number,20}");

        Assert.That(key.Close().ToString(), Is.EqualTo(Invariant($"long:{text}:{number}:{number,20}")));
    }

    [Test]
    public void A_hole_naming_a_collection_writes_its_elements_as_a_default_key_does()
    {
        // Regression (review of modern method shapes): "sum:{ids}" wrote "sum:System.Int32[]" for every array, so
        // Sum(1, 2) and Sum(5) shared one entry, and [InvalidateTags("user:{ids}")] dropped no tag of its elements.
        int[] ids = [1, 2];
        var names = new List<string> { "a,b", "c" };
        var byId = new Dictionary<string, int> { ["k"] = 1 };

        var key = CacheKeyTemplate.Write(stackalloc char[64], $"sum:{ids}:{names}:{byId}:{(int[])[]}").Finish();

        Assert.That(key, Is.EqualTo("sum:[1,2]:[\"a,b\",\"c\"]:{\"k\":1}:[]"));
    }

    [Test]
    public void A_key_that_fits_is_returned_where_it_was_written()
    {
        Span<char> buffer = stackalloc char[64];
        var key = CacheKeyTemplate.Write(buffer, $"user:{42}").Close();

        Assert.That(key.ToString(), Is.EqualTo("user:42"));
        Assert.That(key.Overlaps(buffer), Is.True, "a key that fits the stack buffer must not be copied");
    }

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    [Test]
    public void A_date_and_time_or_a_time_of_day_without_a_format_is_written_to_the_tick()
    {
        // Regression: "{at}" was written with DateTime's "G" (to the second) and TimeOnly's "t" (to the minute), so
        // Report(12:00:00.100) answered Report(12:00:00.900)'s entry.
        var at = new DateTime(2026, 12, 2, 9, 30, 15, 123, DateTimeKind.Utc);
        var later = at.AddMilliseconds(1);
        var offset = new DateTimeOffset(at.Ticks, TimeSpan.FromHours(2));
        var time = TimeOnly.FromDateTime(at);
        DateTime? maybe = at;
        object boxed = at;

        Assert.Multiple(() =>
        {
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{at}").Finish(), Is.EqualTo("r:2026-12-02T09:30:15.1230000Z"));
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{later}").Finish(), Is.Not.EqualTo(CacheKeyTemplate.Write(stackalloc char[64], $"r:{at}").Finish()));
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{offset}").Finish(), Is.EqualTo("r:2026-12-02T09:30:15.1230000+02:00"));
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{time}").Finish(), Is.EqualTo("r:09:30:15.1230000"));
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{maybe}").Finish(), Is.EqualTo("r:2026-12-02T09:30:15.1230000Z"), "nullable");
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{boxed}").Finish(), Is.EqualTo("r:2026-12-02T09:30:15.1230000Z"), "as object");
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{at,30}").Finish(), Is.EqualTo("r:  2026-12-02T09:30:15.1230000Z"), "aligned");
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"r:{at:yyyy-MM-dd}").Finish(), Is.EqualTo("r:2026-12-02"), "a format of the template's own stays");
        });
    }
}
