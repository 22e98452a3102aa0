using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>Generic [Cached] and [InvalidateCache] methods, compiled by the generator and run: one entry per instantiation.</summary>
public sealed class GenericBehaviourTests : ScenarioTests<GenericService>
{
    private const string Prefix = "Cached.Generators.Tests.Scenarios.GenericService.";

    protected override GenericService Create(CallCounter calls) => new(calls);

    [Test]
    public void Two_instantiations_with_arguments_of_the_same_text_keep_two_entries_under_keys_naming_their_type_arguments()
    {
        var asInt = Service.Echo(1);
        var asString = Service.Echo("1");
        Service.Echo(1);
        Service.Echo("1");

        Assert.That((asInt, asString), Is.EqualTo((1, "1")));
        Assert.That((Calls["Echo<Int32>"], Calls["Echo<String>"]), Is.EqualTo((1, 1)));
        Assert.That(Cache.Get<int>(Prefix + "Echo<System.Int32>(1)"), Is.EqualTo(1));
        Assert.That(Cache.Get<string>(Prefix + "Echo<System.String>(\"1\")"), Is.EqualTo("1"));
    }

    [Test]
    public void A_type_argument_that_appears_in_no_parameter_still_separates_the_entries()
    {
        var first = Service.Describe<int>(7);
        var second = Service.Describe<Guid>(7);

        Assert.That((first, second), Is.EqualTo(("Int32 7", "Guid 7")));
        Assert.That((Service.Describe<int>(7), Service.Describe<Guid>(7)), Is.EqualTo(("Int32 7", "Guid 7")));
        Assert.That((Calls["Describe<Int32>"], Calls["Describe<Guid>"]), Is.EqualTo((1, 1)));
        Assert.That(Cache.Exists(Prefix + "Describe<System.Guid>(7)"), Is.True);
    }

    [Test]
    public async Task A_template_key_writes_the_type_argument_where_it_names_the_type_parameter()
    {
        var square = await Service.AreaAsync<Square>(2);
        var circle = await Service.AreaAsync<Circle>(2);
        await Service.AreaAsync<Square>(2);

        Assert.That((square, circle), Is.EqualTo((8d, 6d)));
        Assert.That((Calls["AreaAsync<Square>"], Calls["AreaAsync<Circle>"]), Is.EqualTo((1, 1)));
        Assert.That(Cache.Get<double>("area:Cached.Generators.Tests.Scenarios.Square:2"), Is.EqualTo(8d));
    }

    [Test]
    public async Task A_generic_key_builder_and_skip_rule_are_called_with_the_type_arguments()
    {
        var number = await Service.Parse<int>("42");
        var missing = await Service.Parse<int>("x");
        await Service.Parse<int>("42");
        await Service.Parse<int>("x");
        var asDouble = await Service.Parse<double>("42");

        Assert.That((number, missing, asDouble), Is.EqualTo(((int?)42, (int?)null, (double?)42d)));
        Assert.That(Cache.Get<int?>("parse:Int32:42"), Is.EqualTo(42));
        Assert.That(Cache.Exists("parse:Int32:x"), Is.False, "the skip rule kept the miss out");
        Assert.That((Calls["Parse<Int32>"], Calls["Parse<Double>"]), Is.EqualTo((3, 1)));
    }

    [Test]
    public async Task A_generic_invalidation_drops_the_entries_of_its_own_instantiation_only()
    {
        Service.Echo(5);
        Service.Echo("5");
        await Service.AreaAsync<Square>(5);
        await Service.AreaAsync<Circle>(5);

        Service.Forget<int, Square>(5, 5);
        Service.Echo(5);
        Service.Echo("5");
        await Service.AreaAsync<Square>(5);
        await Service.AreaAsync<Circle>(5);

        Assert.That((Calls["Echo<Int32>"], Calls["Echo<String>"]), Is.EqualTo((2, 1)));
        Assert.That((Calls["AreaAsync<Square>"], Calls["AreaAsync<Circle>"]), Is.EqualTo((2, 1)));
    }

    [Test]
    public void A_generic_method_of_a_generic_type_keys_both_type_arguments()
    {
        var users = new GenericRepository<User>(Calls);
        var regions = new GenericRepository<string>(Calls);

        users.Find(1);
        users.Find(1L);
        regions.Find(1);
        users.Find(1);

        Assert.That((Calls["Find<User,Int32>"], Calls["Find<User,Int64>"], Calls["Find<String,Int32>"]), Is.EqualTo((1, 1, 1)));
        Assert.That(
            Cache.Get<string>("Cached.Generators.Tests.Scenarios.GenericRepository<Cached.Generators.Tests.Scenarios.User>.Find<System.Int64>(1)"),
            Is.EqualTo("User#1"));
    }
}
