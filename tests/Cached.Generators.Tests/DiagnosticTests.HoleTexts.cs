using Microsoft.CodeAnalysis;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED012 for a Key template's hole whose value is written by its own ToString: a record's members and a tuple's
/// items are printed by theirs, where a collection names only its type.
/// </summary>
public sealed partial class DiagnosticTests
{
    private const string HoleTypes = """
        public sealed record Filter(string Q, List<int> Ids);
        public sealed record Page(int Number, Filter Filter);
        public sealed record Flat(int Id, string Name, DateTime At, Guid Tag);
        public sealed class Labels : List<string>
        {
            public override string ToString() => string.Join(",", this);
        }
        public sealed record Labelled(string Q, Labels Tags);
        public sealed record Described(string Q, List<int> Ids)
        {
            public override string ToString() => Q + ":" + string.Join(",", Ids);
        }

        """;

    [TestCase("Filter", "member Ids", "List<int>", TestName = "CACHED012_is_reported_for_a_collection_member_of_a_record_in_a_Key_hole")]
    [TestCase("(int, List<int>)", "item 2", "List<int>", TestName = "CACHED012_is_reported_for_a_collection_item_of_a_tuple_in_a_Key_hole")]
    [TestCase("(int A, string[] Names)", "item 2", "string[]", TestName = "CACHED012_is_reported_for_an_array_item_of_a_named_tuple_in_a_Key_hole")]
    [TestCase("Page", "member Filter's member Ids", "List<int>", TestName = "CACHED012_is_reported_for_a_collection_deep_inside_a_record_in_a_Key_hole")]
    [TestCase("KeyValuePair<string, HashSet<int>>", "value type", "HashSet<int>", TestName = "CACHED012_is_reported_for_a_collection_value_of_a_pair_in_a_Key_hole")]
    [TestCase("List<Filter>", "element type's member Ids", "List<int>", TestName = "CACHED012_is_reported_for_a_collection_member_of_the_records_of_a_list_in_a_Key_hole")]
    [TestCase("Holder", "member P", "Plain", TestName = "CACHED012_is_reported_for_a_member_without_ToString_of_a_record_in_a_Key_hole")]
    [TestCase("List<KeyValuePair<string, List<int>>>", "element type's value type", "List<int>", TestName = "CACHED012_is_reported_for_a_collection_in_the_pairs_of_a_list_in_a_Key_hole")]
    [TestCase("(int, IReadOnlyList<int>)", "item 2", "IReadOnlyList<int>", TestName = "CACHED012_is_reported_for_a_collection_interface_item_of_a_tuple_in_a_Key_hole")]
    public void CACHED012_is_reported_for_a_part_a_hole_value_prints_by_its_type_name(string type, string where, string inner)
    {
        // A member without ToString of its own is one whatever writes it; a collection is one only inside a value's own text.
        var fix = inner == "Plain"
            ? "override ToString, use a record, or set KeyBuilder"
            : "give the value a ToString of your own that writes every part (a record's PrintMembers), or set KeyBuilder";
        // Regression: a hole writes a record or a tuple by its own ToString, which prints a List as
        // "System.Collections.Generic.List`1[System.Int32]": Search(new Filter("a", [1])) and Search(new Filter("a", [2]))
        // shared one entry and the second call answered the first one's result, silently.
        var message = Single(InnerKeyTypes + HoleTypes + $$"""
            public partial class SearchService
            {
                [Cached(Key = "s:[|{query}|]")]
                public partial string Search({{type}} query);
                private string SearchCore({{type}} query) => "x";
            }
            """, "CACHED012", DiagnosticSeverity.Warning);
        Assert.That(message, Is.EqualTo(
            $"Parameter 'query' in the Key template of 'SearchService.Search' has type '{type}', whose {where} is '{inner}', which does not override ToString: "
            + $"different values would share one cache key; {fix}"));
    }

    [Test]
    public void CACHED012_is_not_reported_for_hole_values_whose_text_carries_every_part_or_for_the_same_records_in_a_default_key()
    {
        // A record of value members, a record with its own ToString, a tuple of value items, a collection of those, a
        // collection with a ToString of its own (as StringValues) inside a record or a tuple;
        // and in a default key a record's collection member is written element by element (generated code reshapes it).
        var source = Prelude + InnerKeyTypes + HoleTypes + """
            public partial class SearchService
            {
                [Cached(Key = "a:{flat}:{described}:{pair}:{flats}:{ids}:{numbers}:{labelled}:{labelledPair}")]
                public partial string Search(Flat flat, Described described, (int, string) pair, List<Flat> flats, List<int> ids, Dictionary<string, int> numbers, Labelled labelled, (int, Labels) labelledPair);
                private string SearchCore(Flat flat, Described described, (int, string) pair, List<Flat> flats, List<int> ids, Dictionary<string, int> numbers, Labelled labelled, (int, Labels) labelledPair) => "x";

                [Cached]
                public partial string ByDefaultKey(Filter filter, Page page, (int, List<int>) pair);
                private string ByDefaultKeyCore(Filter filter, Page page, (int, List<int>) pair) => "x";
            }
            """;
        var run = GeneratorRunner.Run(source);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }
}
