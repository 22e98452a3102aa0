using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>
/// Values whose own text is ambiguous, wherever they sit in a default key: a key-value pair (its text is
/// "[key, value]", unescaped) and a record inside a sequence, a dictionary, a tuple or another record (its text writes
/// null and "" alike). Each is reshaped into tuples, which the key writer writes element by element.
/// </summary>
public sealed class NestedKeyBehaviourTests : ScenarioTests<NestedKeyService>
{
    private const string Prefix = "Cached.Generators.Tests.Scenarios.NestedKeyService.";

    protected override NestedKeyService Create(CallCounter calls) => new(calls);

    [Test]
    public void Key_value_pairs_whose_texts_read_alike_keep_apart()
    {
        // Regression: both were "[a, b, c]", and the second call got the first one's result.
        Assert.That(Service.ByEntry(new("a, b", "c")), Is.EqualTo("a, b=c"));
        Assert.That(Service.ByEntry(new("a", "b, c")), Is.EqualTo("a=b, c"));
        Assert.That(Service.ByEntry(new("a", null)), Is.EqualTo("a=<null>"));
        Assert.That(Service.ByEntry(new("a", "")), Is.EqualTo("a="));
        Assert.That(Calls[nameof(NestedKeyService.ByEntry)], Is.EqualTo(4));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[]
        {
            Prefix + "ByEntry((\"a, b\",\"c\"))", Prefix + "ByEntry((\"a\",\"b, c\"))", Prefix + "ByEntry((\"a\",null))", Prefix + "ByEntry((\"a\",\"\"))",
        }));
    }

    [Test]
    public void Equal_key_value_pairs_share_an_entry_that_an_invalidation_drops()
    {
        Service.ByEntry(new("a", "b"));
        Assert.That(Service.ByEntry(new("a", "b")), Is.EqualTo("a=b"));
        Assert.That(Calls[nameof(NestedKeyService.ByEntry)], Is.EqualTo(1));

        Service.ForgetEntry(new("a", "b"));

        Assert.That(Cache.Raw("keys"), Is.Empty);
        Service.ByEntry(new("a", "b"));
        Assert.That(Calls[nameof(NestedKeyService.ByEntry)], Is.EqualTo(2));
    }

    [Test]
    public void Lists_of_key_value_pairs_keep_apart()
    {
        Assert.That(Service.ByEntries([new("a, b", "c")]), Is.EqualTo("a, b=c"));
        Assert.That(Service.ByEntries([new("a", "b, c")]), Is.EqualTo("a=b, c"));
        Assert.That(Calls[nameof(NestedKeyService.ByEntries)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Has.Member(Prefix + "ByEntries([(\"a, b\",\"c\")])"));
    }

    [Test]
    public void Records_in_an_array_keep_apart()
    {
        Assert.That(Service.ByPairs([new(null, "x")]), Is.EqualTo("<null>|x"));
        Assert.That(Service.ByPairs([new("", "x")]), Is.EqualTo("|x"));
        Assert.That(Service.ByPairs([new("", "x")]), Is.EqualTo("|x"));
        Assert.That(Calls[nameof(NestedKeyService.ByPairs)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByPairs([(null,\"x\")])", Prefix + "ByPairs([(\"\",\"x\")])" }));
    }

    [Test]
    public void Records_as_dictionary_values_keep_apart_and_the_dictionary_reads_as_one()
    {
        Assert.That(Service.ByLookup(new() { ["k"] = new(null, "x") }), Is.EqualTo("k:<null>|x"));
        Assert.That(Service.ByLookup(new() { ["k"] = new("", "x") }), Is.EqualTo("k:|x"));
        Assert.That(Calls[nameof(NestedKeyService.ByLookup)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Has.Member(Prefix + "ByLookup({\"k\":(null,\"x\")})"));
    }

    [Test]
    public void A_dictionary_of_plain_values_keeps_the_key_it_had()
    {
        // Nothing in it needs a shape: the writer's own dictionary overload writes it, as before.
        Service.ByMap(new Dictionary<string, string> { ["a, b"] = "c" });
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByMap({\"a, b\":\"c\"})" }));
    }

    [Test]
    public void A_record_in_a_tuple_keeps_apart()
    {
        Assert.That(Service.ByTuple((new(null, "x"), 1)), Is.EqualTo("<null>|x#1"));
        Assert.That(Service.ByTuple((new("", "x"), 1)), Is.EqualTo("|x#1"));
        Assert.That(Calls[nameof(NestedKeyService.ByTuple)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Has.Member(Prefix + "ByTuple(((null,\"x\"),1))"));
    }

    [Test]
    public void A_record_in_a_record_keeps_apart()
    {
        Assert.That(Service.ByWrapper(new(new(null, "x"), "t")), Is.EqualTo("<null>|x/t"));
        Assert.That(Service.ByWrapper(new(new("", "x"), "t")), Is.EqualTo("|x/t"));
        Assert.That(Calls[nameof(NestedKeyService.ByWrapper)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Has.Member(Prefix + "ByWrapper(((null,\"x\"),\"t\"))"));
    }

    [Test]
    public void Pairs_of_a_sequence_inside_a_record_keep_apart()
    {
        // Inside a record, the writer meets the sequence as an object: it is reshaped into entries it writes as {k:v}.
        Assert.That(Service.ByHolder(new([new("a, b", "c")])), Is.EqualTo("a, b=c"));
        Assert.That(Service.ByHolder(new([new("a", "b, c")])), Is.EqualTo("a=b, c"));
        Assert.That(Calls[nameof(NestedKeyService.ByHolder)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Has.Member(Prefix + "ByHolder(({\"a, b\":\"c\"}))"));
    }

    [Test]
    public void A_record_that_holds_itself_is_reshaped_where_it_is_a_parameter()
    {
        Assert.That(Service.ByNode(new(null, null)), Is.EqualTo("<null>"));
        Assert.That(Service.ByNode(new("", null)), Is.EqualTo(""));
        Assert.That(Calls[nameof(NestedKeyService.ByNode)], Is.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByNode((null,null))", Prefix + "ByNode((\"\",null))" }));
    }

    [Test]
    public void MultiCached_key_value_pair_keys_keep_apart()
    {
        var result = Service.ManyEntries([new("a, b", "c"), new("a", "b, c")]);

        Assert.That(result, Has.Count.EqualTo(2));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { "entries:(\"a, b\",\"c\")", "entries:(\"a\",\"b, c\")" }));
        Service.ManyEntries([new("a", "b, c")]);
        Assert.That(Calls[nameof(NestedKeyService.ManyEntries)], Is.EqualTo(1), "the second batch is a hit");
    }

    [Test]
    public void Numbers_of_several_types_given_as_object_keep_apart()
    {
        // Regression: 1, 1L and 1.0 were all written "1", and the long and the double got the int's answer.
        Assert.That(Service.ByObject(1), Is.EqualTo("Int32"));
        Assert.That(Service.ByObject(1L), Is.EqualTo("Int64"));
        Assert.That(Service.ByObject(1.0), Is.EqualTo("Double"));
        Assert.That(Service.ByObject(1), Is.EqualTo("Int32"));
        Assert.That(Calls[nameof(NestedKeyService.ByObject)], Is.EqualTo(3));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { Prefix + "ByObject(1)", Prefix + "ByObject(1L)", Prefix + "ByObject(1D)" }));
    }
}
