using System.Globalization;
using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>A record argument: keys use its (overridden) ToString, quoted.</summary>
public sealed record Point(int X, int Y);

/// <summary>Two enums that name a member alike.</summary>
public enum StatusFilter { Active, Closed }

/// <inheritdoc cref="StatusFilter"/>
public enum RoleFilter { Active, Admin }

/// <summary>The default keys of generated cached methods: exact text per argument type, culture invariance, no collisions.</summary>
public sealed class CacheKeyWriterTests
{
    private const string Prefix = "N.T.M";

    [Test]
    public void Without_arguments_the_key_is_the_prefix_and_empty_parentheses()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M()"));
    }

    [Test]
    public void Integers_are_written_in_invariant_text_and_separated_by_commas()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(1);
        w.Argument(-42);
        w.Argument(long.MaxValue);
        w.Argument(long.MinValue);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(1,-42,9223372036854775807,-9223372036854775808)"));
    }

    [Test]
    public void Doubles_are_written_round_trippable()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(0.1);
        w.Argument(1.0 / 3);
        w.Argument(1e21);
        w.Argument(-0.5);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(0.1,0.3333333333333333,1E+21,-0.5)"));
    }

    [Test]
    public void Booleans_are_true_and_false()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(true);
        w.Argument(false);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(true,false)"));
    }

    [Test]
    public void A_Guid_uses_the_D_format()
    {
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(id);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(0f8fad5b-d9cb-469f-a165-70867728950e)"));
    }

    [Test]
    public void DateTime_and_DateTimeOffset_use_the_round_trip_format()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(new DateTime(2024, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc));
        w.Argument(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)));
        w.Argument(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Unspecified));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(2024-01-02T03:04:05.6780000Z,2024-01-02T03:04:05.0000000+02:00,2024-01-02T03:04:05.0000000)"));
    }

    [Test]
    public void A_TimeOnly_keeps_its_seconds_and_ticks_so_that_times_a_second_apart_are_two_keys()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(new TimeOnly(10, 0, 0));
        w.Argument(new TimeOnly(10, 0, 30).Add(TimeSpan.FromTicks(5)));
        w.Argument<TimeOnly?>(new TimeOnly(9, 0, 45));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(10:00:00.0000000,10:00:30.0000005,09:00:45.0000000)"));
        Assert.That(CacheKeyWriter.Format(new TimeOnly(9, 0, 45)), Is.EqualTo("09:00:45.0000000"), "a [MultiCached] key");
        Assert.That(CacheKeyWriter.Format<object>(new TimeOnly(9, 0, 45)), Is.EqualTo("(TimeOnly)09:00:45.0000000"), "a boxed one carries its type: a TimeSpan of the same ticks reads alike");
    }

    [Test]
    public void A_value_written_by_its_ToString_reads_the_same_in_every_culture()
    {
        string KeyIn(string culture)
        {
            var before = CultureInfo.CurrentCulture;
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            try
            {
                var w = new CacheKeyWriter(stackalloc char[8], Prefix);
                w.Argument(new Reading(1.5, new DateTime(2024, 1, 2)));
                var key = w.Finish() + "|" + CacheKeyWriter.Format(new Reading(1.5, new DateTime(2024, 1, 2)));
                Assert.That(CultureInfo.CurrentCulture.Name, Is.EqualTo(culture), "the caller's culture is put back");
                return key;
            }
            finally
            {
                CultureInfo.CurrentCulture = before;
            }
        }

        Assert.That(KeyIn("de-DE"), Is.EqualTo(KeyIn("en-US")));
        Assert.That(KeyIn("de-DE"), Does.Contain("X = 1.5"));
    }

    [Test]
    public void Tuples_and_dictionaries_are_written_element_by_element_so_their_strings_cannot_run_together()
    {
        string Key<T>(T value)
        {
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            w.Argument(value);
            return w.Finish();
        }

        Assert.That(Key(("a, b", "c")), Is.Not.EqualTo(Key(("a", "b, c"))));
        Assert.That(Key(("a, b", "c")), Is.EqualTo("N.T.M((\"a, b\",\"c\"))"));
        Assert.That(Key(Tuple.Create(1, "x")), Is.EqualTo("N.T.M((1,\"x\"))"));
        Assert.That(Key(new Dictionary<string, string> { ["1, a"] = "b" }), Is.Not.EqualTo(Key(new Dictionary<string, string> { ["1"] = "a, b" })));
        Assert.That(Key(new Dictionary<string, int> { ["k"] = 1 }), Is.EqualTo("N.T.M({\"k\":1})"));
    }

    [Test]
    public void Numbers_held_as_objects_carry_their_type_so_that_one_of_each_keeps_apart()
    {
        // Regression: M(object) with 1, 1L and 1.0 wrote "1" each time, and three calls shared one entry.
        string Key(object? value)
        {
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            w.Argument(value);
            return w.Finish();
        }

        object?[] values = [1, 1L, 1U, 1UL, 1F, 1D, 1M, (short)1, (ushort)1, (byte)1, (sbyte)1, (nint)1, (nuint)1, (Half)1, (Int128)1, (UInt128)1, "1", '1', null];
        Assert.That(values.Select(Key).Distinct().Count(), Is.EqualTo(values.Length));
        Assert.That(Key(1), Is.EqualTo("N.T.M(1)"));
        Assert.That(Key(1L), Is.EqualTo("N.T.M(1L)"));
        Assert.That(Key(1.5D), Is.EqualTo("N.T.M(1.5D)"));
        Assert.That(Key((short)-2), Is.EqualTo("N.T.M((short)-2)"));

        var sequence = new CacheKeyWriter(stackalloc char[8], Prefix);
        sequence.Sequence(new object[] { 1, 1L }).Sequence(new List<object> { 2D }).Sequence((IEnumerable<object>)[3M]);
        Assert.That(sequence.Finish(), Is.EqualTo("N.T.M([1,1L],[2D],[3M])"));
        Assert.That(CacheKeyWriter.Format<object>(1L), Is.Not.EqualTo(CacheKeyWriter.Format<object>(1)));
    }

    [Test]
    public void Values_held_as_objects_whose_text_another_type_shares_carry_their_type()
    {
        // Regression (review of modern method shapes): an object parameter wrote Status.Active and Role.Active both
        // "Active", an undefined (DayOfWeek)8 and the int 8 both "8", BigInteger 5 and 5 both "5", a TimeOnly and a
        // TimeSpan of the same ticks one text, a DateTimeOffset a local DateTime's: each pair shared one entry.
        string Key(object? value)
        {
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            w.Argument(value);
            return w.Finish();
        }

        var local = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Local);
        object?[] values =
        [
            StatusFilter.Active, RoleFilter.Active, (DayOfWeek)8, 8, new System.Numerics.BigInteger(5), 5,
            TimeSpan.FromTicks(10_000_001), TimeOnly.FromTimeSpan(TimeSpan.FromTicks(10_000_001)), local, new DateTimeOffset(local),
        ];
        Assert.That(values.Select(Key).Distinct().Count(), Is.EqualTo(values.Length), string.Join(" ", values.Select(Key)));
        Assert.That(Key(StatusFilter.Active), Is.EqualTo("N.T.M((Cached.Tests.Runtime.StatusFilter)Active)"));
        Assert.That(Key((DayOfWeek)8), Is.EqualTo("N.T.M((System.DayOfWeek)8)"));
        Assert.That(Key(new System.Numerics.BigInteger(5)), Is.EqualTo("N.T.M((BigInteger)5)"));

        // A declared enum needs no mark: it holds one type only.
        var declared = new CacheKeyWriter(stackalloc char[8], Prefix);
        declared.Enum(StatusFilter.Active).Sequence(new List<object> { RoleFilter.Active });
        Assert.That(declared.Finish(), Is.EqualTo("N.T.M(Active,[(Cached.Tests.Runtime.RoleFilter)Active])"));
    }

    [Test]
    public void A_multi_cached_key_that_is_a_collection_is_written_element_by_element_not_by_its_type_name()
    {
        // Regression (review of keys): [MultiCached] keys of type int[] or List<string> all wrote their type name
        // ("System.Int32[]"), so every key of a batch shared one entry and callers got another key's value.
        Assert.That(CacheKeyWriter.Format(new[] { 1, 2 }), Is.EqualTo("[1,2]"));
        Assert.That(CacheKeyWriter.Format(new[] { 2 }), Is.Not.EqualTo(CacheKeyWriter.Format(new[] { 1 })));
        Assert.That(CacheKeyWriter.Format(new List<string> { "a, b", "c" }), Is.EqualTo("[\"a, b\",\"c\"]"));
        Assert.That(CacheKeyWriter.Format(new List<string> { "a, b", "c" }), Is.Not.EqualTo(CacheKeyWriter.Format(new List<string> { "a", "b, c" })));
        Assert.That(CacheKeyWriter.Format(new Dictionary<string, int> { ["k"] = 1 }), Is.EqualTo("{\"k\":1}"));
        Assert.That(CacheKeyWriter.Format<object>(new[] { 1, 2 }), Is.EqualTo("[1,2]"), "a key of type object holding one too");
    }

    [Test]
    public void A_formattable_value_that_is_no_number_date_or_enum_is_quoted_so_a_comma_in_it_splits_nothing()
    {
        // Regression (review of modern method shapes): a Uri, being ISpanFormattable, was written bare, and a comma is
        // legal in it: Fetch("http://x/a,http://y/b", "http://z/") and Fetch("http://x/a", "http://y/b,http://z/")
        // shared one entry, as did a list of one such Uri and a list of two.
        string Key(params Uri[] uris)
        {
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            foreach (var uri in uris)
            {
                w.Argument(uri);
            }

            return w.Finish();
        }

        Assert.That(Key(new Uri("http://x/a,http://y/b"), new Uri("http://z/")), Is.Not.EqualTo(Key(new Uri("http://x/a"), new Uri("http://y/b,http://z/"))));
        Assert.That(Key(new Uri("http://x/a")), Is.EqualTo("N.T.M(\"http://x/a\")"));

        var one = new CacheKeyWriter(stackalloc char[8], Prefix);
        one.Sequence(new List<Uri> { new("http://a/x,http://b/") });
        var two = new CacheKeyWriter(stackalloc char[8], Prefix);
        two.Sequence(new List<Uri> { new("http://a/x"), new("http://b/") });
        Assert.That(one.Finish(), Is.Not.EqualTo(two.Finish()));
    }

    [Test]
    public void Numbers_of_a_declared_numeric_type_keep_their_plain_text()
    {
        // Only a value held as object can be of several types; a long parameter, a tuple's or a list's long cannot.
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(1L).Argument(1.5D).Argument((1L, 2D)).Sequence(new[] { 3L }).Sequence(new List<decimal> { 4M });
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(1,1.5,(1,2),[3],[4])"));
        Assert.That(CacheKeyWriter.Format(1L), Is.EqualTo("1"));
    }

    [Test]
    public void A_default_immutable_array_is_written_as_null_instead_of_throwing()
    {
        // Regression: its enumerator refuses a default instance, and the key threw InvalidOperationException.
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Sequence((IEnumerable<int>)default(System.Collections.Immutable.ImmutableArray<int>))
            .Argument((object)default(System.Collections.Immutable.ImmutableArray<int>))
            .Argument((object)System.Collections.Immutable.ImmutableArray.Create(1, 2));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(null,null,[1,2])"));
    }

    [Test]
    public void Entries_of_objects_are_written_as_a_dictionary_wherever_they_sit()
    {
        // Generated code reshapes a dictionary whose keys or values need it (records, pairs) into such entries; met
        // as an object inside a tuple they must still be written key by key, not by a pair's text "[1, a]".
        IEnumerable<KeyValuePair<object?, object?>> Entries(string key, string value) => [new(key, value)];
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(((object?)Entries("1, a", "b"), 2));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(({\"1, a\":\"b\"},2))"));

        var other = new CacheKeyWriter(stackalloc char[8], Prefix);
        other.Argument(((object?)Entries("1", "a, b"), 2));
        Assert.That(other.Finish(), Is.EqualTo("N.T.M(({\"1\":\"a, b\"},2))"));
    }

    [Test]
    public void Nullable_memories_and_sequences_of_segments_are_written_by_their_elements_or_as_null()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Sequence((ReadOnlyMemory<int>?)new[] { 1, 2 });
        w.Sequence((ReadOnlyMemory<int>?)null);
        w.Sequence((System.Buffers.ReadOnlySequence<int>?)new System.Buffers.ReadOnlySequence<int>([3, 4]));
        w.Sequence((System.Buffers.ReadOnlySequence<int>?)null);
        w.Sequence(new System.Buffers.ReadOnlySequence<int>([]));
        var first = new Chunk([5, 6], previous: null);
        var last = new Chunk([7], first);
        w.Sequence(new System.Buffers.ReadOnlySequence<int>(first, 0, last, 1));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M([1,2],null,[3,4],null,[],[5,6,7])"), "segments read as one run of elements");
    }

    private sealed class Chunk : System.Buffers.ReadOnlySequenceSegment<int>
    {
        public Chunk(int[] items, Chunk? previous)
        {
            Memory = items;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }

    [Test]
    public void A_memory_inside_another_value_is_refused_rather_than_keyed_by_its_type_and_length()
    {
        static string Key<T>(T value)
        {
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            w.Argument(value);
            return w.Finish();
        }

        // Its ToString is "System.ReadOnlyMemory<Int32>[2]" whatever it holds: [1,2] and [3,4] would share an entry.
        var inTuple = Assert.Throws<ArgumentException>(() => Key((new ReadOnlyMemory<int>([1, 2]), 7)));
        Assert.That(inTuple!.Message, Does.Contain("System.ReadOnlyMemory<Int32>").And.Contain("Key or KeyBuilder"));
        Assert.Throws<ArgumentException>(() => Key<object>(new Memory<byte>([1, 2])));
        Assert.Throws<ArgumentException>(() => CacheKeyWriter.Format<object>(new ReadOnlyMemory<long>([1])), "a [MultiCached] key as well");
        Assert.Throws<ArgumentException>(() => Key((new System.Buffers.ReadOnlySequence<byte>([1, 2]), 7)), "a sequence of segments too");
        Assert.That(Key(("ab".AsMemory(), 7)), Is.EqualTo("N.T.M((\"ab\",7))"), "a memory of chars is its text");
        Assert.That(Key((new System.Buffers.ReadOnlySequence<char>("ab".ToCharArray()), 7)), Is.EqualTo("N.T.M((\"ab\",7))"), "and so is a sequence of chars");
    }

    [Test]
    public void A_MultiCached_key_of_a_struct_or_a_tuple_reads_the_same_in_every_culture_and_keeps_its_parts_apart()
    {
        var before = CultureInfo.CurrentCulture;
        string german;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            german = CacheKeyWriter.Format(new Spot(1.5));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }

        Assert.That(german, Is.EqualTo("Spot { X = 1.5 }"));
        Assert.That(CacheKeyWriter.Format(("a, b", "c")), Is.Not.EqualTo(CacheKeyWriter.Format(("a", "b, c"))));
        Assert.That(CacheKeyWriter.Format((1, "x")), Is.EqualTo("(1,\"x\")"));
    }

    private readonly record struct Spot(double X);

    private sealed record Reading(double X, DateTime At);

    [Test]
    public void Strings_are_quoted_with_quotes_and_backslashes_escaped()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument("plain");
        w.Argument("a\"b\\c");
        w.Argument("");
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(\"plain\",\"a\\\"b\\\\c\",\"\")"));
    }

    [Test]
    public void A_null_string_is_null_and_differs_from_the_string_null()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument((string?)null);
        w.Argument("null");
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(null,\"null\")"));
    }

    [Test]
    public void A_char_is_single_quoted_and_escaped()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument('x');
        w.Argument('\'');
        w.Argument('\\');
        Assert.That(w.Finish(), Is.EqualTo("N.T.M('x','\\'','\\\\')"));
    }

    [Test]
    public void An_enum_is_written_by_name()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(DayOfWeek.Monday);
        w.Argument(StringComparison.OrdinalIgnoreCase);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(Monday,OrdinalIgnoreCase)"));
    }

    [Test]
    public void A_nullable_int_is_null_or_its_value()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument<int?>(null);
        w.Argument<int?>(5);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(null,5)"));
    }

    [Test]
    public void Nullable_dates_and_doubles_keep_their_formats()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument<DateTime?>(new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        w.Argument<double?>(0.1);
        w.Argument<float>(0.1f);
        w.Argument(TimeSpan.FromMinutes(90));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(2024-01-02T00:00:00.0000000Z,0.1,0.1,01:30:00)"));
    }

    [Test]
    public void A_sequence_is_bracketed_with_its_elements_by_the_same_rules()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Sequence(new[] { 1, 2 });
        w.Sequence(new List<string> { "a", "b,c" });
        w.Sequence(Array.Empty<int>());
        w.Sequence((IEnumerable<string>?)null);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M([1,2],[\"a\",\"b,c\"],[],null)"));
    }

    [Test]
    public void A_sequence_passed_as_a_generic_argument_is_bracketed_too()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument<IEnumerable<int>>(new List<int> { 3, 4 });
        w.Argument<string?[]>(["x", null]);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M([3,4],[\"x\",null])"));
    }

    [Test]
    public void A_record_is_its_ToString_quoted()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(new Point(1, 2));
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(\"Point { X = 1, Y = 2 }\")"));
    }

    [Test]
    public void The_instance_is_written_like_an_argument()
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Instance(new Point(3, 4));
        w.Argument(1);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(\"Point { X = 3, Y = 4 }\",1)"));
    }

    [Test]
    public void The_key_grows_past_the_initial_stack_buffer()
    {
        var text = new string('x', 1000);
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(text);
        w.Argument(123456789);
        w.Argument(new DateTime(2024, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        Assert.That(w.Finish(), Is.EqualTo($"N.T.M(\"{text}\",123456789,2024-01-02T00:00:00.0000000Z)"));
    }

    [Test]
    public void A_formatted_value_that_does_not_fit_grows_the_buffer()
    {
        // The prefix fills the buffer exactly, so every formatted argument has to grow it.
        var w = new CacheKeyWriter(stackalloc char[6], Prefix);
        w.Argument(Guid.Empty);
        w.Argument(1.5);
        Assert.That(w.Finish(), Is.EqualTo("N.T.M(00000000-0000-0000-0000-000000000000,1.5)"));
    }

    [Test]
    public void Keys_do_not_depend_on_the_current_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            w.Argument(1.5);
            w.Argument<decimal>(2.5m);
            w.Argument<float>(-3.25f);
            w.Argument(1234567);
            w.Argument(new DateTime(2024, 3, 4, 5, 6, 7, DateTimeKind.Utc));
            Assert.That(w.Finish(), Is.EqualTo("N.T.M(1.5,2.5,-3.25,1234567,2024-03-04T05:06:07.0000000Z)"));
            Assert.That(CacheKeyWriter.Format(1.5), Is.EqualTo("1.5"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Test]
    public void Strings_containing_separators_and_quotes_give_distinct_keys()
    {
        var twoArguments = Key("a", "b");
        var oneWithComma = Key("a,b");
        var oneWithQuotes = Key("a\",\"b");

        Assert.That(new[] { twoArguments, oneWithComma, oneWithQuotes }, Is.Unique);
        Assert.That(twoArguments, Is.EqualTo("N.T.M(\"a\",\"b\")"));
        Assert.That(oneWithComma, Is.EqualTo("N.T.M(\"a,b\")"));
        Assert.That(oneWithQuotes, Is.EqualTo("N.T.M(\"a\\\",\\\"b\")"));

        static string Key(params string[] arguments)
        {
            var w = new CacheKeyWriter(stackalloc char[8], Prefix);
            foreach (var argument in arguments)
            {
                w.Argument(argument);
            }

            return w.Finish();
        }
    }

    [Test]
    public void Distinct_random_argument_lists_always_give_distinct_keys()
    {
        const string alphabet = ",()[]\"\\' a";
        var random = new Random(20240601);
        var seen = new Dictionary<string, (string? Text, int? Number, bool Flag)>(StringComparer.Ordinal);

        for (var i = 0; i < 5000; i++)
        {
            string? text = null;
            if (random.Next(10) != 0)
            {
                var chars = new char[random.Next(0, 7)];
                for (var c = 0; c < chars.Length; c++)
                {
                    chars[c] = alphabet[random.Next(alphabet.Length)];
                }

                text = new string(chars);
            }

            int? number = random.Next(5) == 0 ? null : random.Next(-3, 4);
            var flag = random.Next(2) == 0;
            var tuple = (text, number, flag);
            var key = KeyOf(text, number, flag);

            if (seen.TryGetValue(key, out var earlier))
            {
                Assert.That(earlier, Is.EqualTo(tuple), $"key {key} is shared by two argument lists");
            }
            else
            {
                seen.Add(key, tuple);
            }
        }

        Assert.That(seen.Values.Distinct().Count(), Is.EqualTo(seen.Count));
        Assert.That(seen.Count, Is.GreaterThan(1000), "the generator produced enough distinct argument lists");
    }

    [Test]
    public void Distinct_random_lists_of_several_strings_and_sequences_always_give_distinct_keys()
    {
        // With more than one string per key, a quote inside a string must be escaped or keys collide.
        const string alphabet = "\",\\[]a";
        var random = new Random(7);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);

        string? Text()
        {
            if (random.Next(8) == 0)
            {
                return null;
            }

            var chars = new char[random.Next(0, 5)];
            for (var c = 0; c < chars.Length; c++)
            {
                chars[c] = alphabet[random.Next(alphabet.Length)];
            }

            return new string(chars);
        }

        for (var i = 0; i < 5000; i++)
        {
            var first = Text();
            var second = Text();
            List<string?>? list = random.Next(4) == 0 ? null : Enumerable.Range(0, random.Next(0, 3)).Select(_ => Text()).ToList();
            var identity = string.Join("|", new[] { Show(first), Show(second), list is null ? "<no list>" : "[" + string.Join(";", list.Select(Show)) + "]" });
            var key = KeyOf(first, second, list);

            if (seen.TryGetValue(key, out var earlier))
            {
                Assert.That(earlier, Is.EqualTo(identity), $"key {key} is shared by two argument lists");
            }
            else
            {
                seen.Add(key, identity);
            }
        }

        Assert.That(seen.Values.Distinct().Count(), Is.EqualTo(seen.Count));
        Assert.That(seen.Count, Is.GreaterThan(1000));

        static string Show(string? text) => text is null ? "<null>" : "<" + text.Replace("\\", "\\\\").Replace(">", "\\>").Replace(";", "\\;") + ">";
    }

    private static string KeyOf(string? first, string? second, List<string?>? list)
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(first);
        w.Argument(second);
        w.Sequence(list);
        return w.Finish();
    }

    private static string KeyOf(string? text, int? number, bool flag)
    {
        var w = new CacheKeyWriter(stackalloc char[8], Prefix);
        w.Argument(text);
        w.Argument(number);
        w.Argument(flag);
        return w.Finish();
    }

    // ---- Format (keys of multi-cached methods) ----

    [Test]
    public void Format_leaves_a_string_as_it_is()
    {
        Assert.That(CacheKeyWriter.Format("a \"b\", c"), Is.EqualTo("a \"b\", c"));
    }

    [Test]
    public void Format_writes_numbers_in_invariant_text()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.That(CacheKeyWriter.Format(1234567), Is.EqualTo("1234567"));
            Assert.That(CacheKeyWriter.Format(-2.5), Is.EqualTo("-2.5"));
            Assert.That(CacheKeyWriter.Format(0.1), Is.EqualTo("0.1"));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Test]
    public void Format_writes_dates_in_the_round_trip_format_and_guids_in_D()
    {
        Assert.That(CacheKeyWriter.Format(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc)), Is.EqualTo("2024-01-02T03:04:05.0000000Z"));
        Assert.That(CacheKeyWriter.Format(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero)), Is.EqualTo("2024-01-02T03:04:05.0000000+00:00"));
        Assert.That(CacheKeyWriter.Format(Guid.Empty), Is.EqualTo("00000000-0000-0000-0000-000000000000"));
    }

    [Test]
    public void Format_writes_a_nullable_value_as_its_value_or_null()
    {
        Assert.That(CacheKeyWriter.Format<int?>(5), Is.EqualTo("5"));
        Assert.That(CacheKeyWriter.Format<int?>(null), Is.EqualTo("null"));
        Assert.That(CacheKeyWriter.Format<double?>(0.1), Is.EqualTo("0.1"));
        Assert.That(CacheKeyWriter.Format(true), Is.EqualTo("True"));
        Assert.That(CacheKeyWriter.Format('c'), Is.EqualTo("c"));
    }

    [Test]
    public void Format_of_a_value_type_allocates_only_its_text()
    {
        // A multi-cached batch formats every key: 100 int keys boxed 100 times through IFormattable before.
        _ = CacheKeyWriter.Format(123456);
        var text = Allocations.Fewest(() => _ = new string('1', 6));
        var bytes = Allocations.Fewest(() => CacheKeyWriter.Format(123456));
        Assert.That(bytes, Is.EqualTo(text), "one string of six characters, nothing else");
    }

    [Test]
    public void Format_writes_other_values_with_ToString()
    {
        Assert.That(CacheKeyWriter.Format(new Point(1, 2)), Is.EqualTo("Point { X = 1, Y = 2 }"));
        Assert.That(CacheKeyWriter.Format(DayOfWeek.Friday), Is.EqualTo("Friday"));
    }
}
