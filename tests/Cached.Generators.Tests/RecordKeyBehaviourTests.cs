using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>
/// Records in default keys: member by member, as tuples, so that values the record's own text cannot tell apart (null
/// and "", a member holding the text's separators) keep entries of their own; a record that writes its own text keeps it.
/// </summary>
public sealed class RecordKeyBehaviourTests : ScenarioTests<RecordKeyService>
{
    private const string Prefix = "Cached.Generators.Tests.Scenarios.RecordKeyService.";

    protected override RecordKeyService Create(CallCounter calls) => new(calls);

    [Test]
    public void Null_and_empty_members_keep_apart()
    {
        // Regression: both were "Pair { A = , B = x }", and the second call got the first one's result.
        Assert.That(Service.ByPair(new Pair(null, "x")), Is.EqualTo("<null>|x"));
        Assert.That(Service.ByPair(new Pair("", "x")), Is.EqualTo("|x"));
        Assert.That(Calls[nameof(RecordKeyService.ByPair)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByPair((null,\"x\"))", Prefix + "ByPair((\"\",\"x\"))" }));
    }

    [Test]
    public void Members_holding_the_text_s_separators_keep_apart()
    {
        // Regression: both were "Pair { A = 1, B = 2, B = 3 }".
        Assert.That(Service.ByPair(new Pair("1, B = 2", "3")), Is.EqualTo("1, B = 2|3"));
        Assert.That(Service.ByPair(new Pair("1", "2, B = 3")), Is.EqualTo("1|2, B = 3"));
        Assert.That(Calls[nameof(RecordKeyService.ByPair)], Is.EqualTo(2));
    }

    [Test]
    public void Equal_records_share_an_entry()
    {
        Service.ByPair(new Pair("a", "b"));
        Assert.That(Service.ByPair(new Pair("a", "b")), Is.EqualTo("a|b"));
        Assert.That(Calls[nameof(RecordKeyService.ByPair)], Is.EqualTo(1));
    }

    [Test]
    public void No_record_and_a_record_of_null_keep_apart()
    {
        Assert.That(Service.ByBoxed(null), Is.EqualTo("no box"));
        Assert.That(Service.ByBoxed(new Boxed(null)), Is.EqualTo("box of null"));
        Assert.That(Service.ByBoxed(new Boxed("null")), Is.EqualTo("null"));
        Assert.That(Calls[nameof(RecordKeyService.ByBoxed)], Is.EqualTo(3));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByBoxed(null)", Prefix + "ByBoxed((null))", Prefix + "ByBoxed((\"null\"))" }));
    }

    [Test]
    public void A_nullable_record_struct_is_written_member_by_member()
    {
        Assert.That(Service.ByPoint(new Point(1, 2)), Is.EqualTo(12));
        Assert.That(Service.ByPoint(null), Is.EqualTo(-1));
        Assert.That(Service.ByPoint(new Point(1, 2)), Is.EqualTo(12));
        Assert.That(Calls[nameof(RecordKeyService.ByPoint)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByPoint((1,2))", Prefix + "ByPoint(null)" }));
    }

    [Test]
    public void A_record_that_writes_its_own_text_keeps_it()
    {
        Service.ByLabel(new Labelled("x"));
        Assert.That(Cache.Raw("keys"), Is.EqualTo(new[] { Prefix + "ByLabel(\"label:x\")" }));
    }

    [Test]
    public void Derived_records_of_one_base_keep_apart()
    {
        // Written by the base's members alone, a disc and a tile of one name would share an entry.
        Assert.That(Service.ByShape(new Disc("a", 1)), Is.EqualTo("Disc { Name = a, Radius = 1 }"));
        Assert.That(Service.ByShape(new Tile("a", 1)), Is.EqualTo("Tile { Name = a, Side = 1 }"));
        Assert.That(Calls[nameof(RecordKeyService.ByShape)], Is.EqualTo(2));
    }

    [Test]
    public void A_record_that_is_not_sealed_is_written_member_by_member_only_when_it_is_of_exactly_that_type()
    {
        Service.ByLoose(new Loose(null, "x"));
        Service.ByLoose(new Loose("", "x"));
        Service.ByLoose(new Tighter(null, "x", 1));
        Service.ByLoose(new Tighter(null, "x", 2));
        Service.ByLoose(null);

        Assert.That(Calls[nameof(RecordKeyService.ByLoose)], Is.EqualTo(5));
        Assert.That(Cache.Raw("keys"), Has.Member(Prefix + "ByLoose((null,\"x\"))").And.Member(Prefix + "ByLoose(\"Tighter { A = , B = x, C = 1 }\")").And.Member(Prefix + "ByLoose(null)"));
    }

    [Test]
    public void MultiCached_record_keys_keep_apart_and_are_invalidated_one_by_one()
    {
        // Regression: the keys were the records' text, and Pair(null, "x") and Pair("", "x") shared an entry.
        var none = new Pair(null, "x");
        var empty = new Pair("", "x");
        Assert.That(Service.ManyPairs([none, empty]), Is.EqualTo(new Dictionary<Pair, string> { [none] = "<null>|x", [empty] = "|x" }));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { "pairs:(null,\"x\")", "pairs:(\"\",\"x\")" }));

        Service.DropPair(new Pair(null, "x"));
        Assert.That(Service.ManyPairs([none, empty]), Has.Count.EqualTo(2));
        Assert.That(Service.Batches, Has.Count.EqualTo(2));
        Assert.That(Service.Batches[1], Is.EqualTo(new[] { none }), "only the dropped key was computed again");
    }
}
