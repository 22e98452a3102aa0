using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>Generic [Cached] and [InvalidateCache] methods, compiled by the generator and run: one entry per instantiation.</summary>
public sealed class GenericBehaviourTests
{
    private const string Prefix = "Cached.Generators.Tests.Scenarios.GenericService.";

    private SimpleMemoryCache _cache = null!;
    private CallCounter _calls = null!;
    private GenericService _service = null!;

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        _cache = new SimpleMemoryCache();
        Caches.AddInstance(UserService.Alias, _cache);
        _calls = new CallCounter();
        _service = new GenericService(_calls);
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    [Test]
    public void Two_instantiations_with_arguments_of_the_same_text_keep_two_entries_under_keys_naming_their_type_arguments()
    {
        var asInt = _service.Echo(1);
        var asString = _service.Echo("1");
        _service.Echo(1);
        _service.Echo("1");

        Assert.That((asInt, asString), Is.EqualTo((1, "1")));
        Assert.That((_calls["Echo<Int32>"], _calls["Echo<String>"]), Is.EqualTo((1, 1)));
        Assert.That(_cache.Get<int>(Prefix + "Echo<System.Int32>(1)"), Is.EqualTo(1));
        Assert.That(_cache.Get<string>(Prefix + "Echo<System.String>(\"1\")"), Is.EqualTo("1"));
    }

    [Test]
    public void A_type_argument_that_appears_in_no_parameter_still_separates_the_entries()
    {
        var first = _service.Describe<int>(7);
        var second = _service.Describe<Guid>(7);

        Assert.That((first, second), Is.EqualTo(("Int32 7", "Guid 7")));
        Assert.That((_service.Describe<int>(7), _service.Describe<Guid>(7)), Is.EqualTo(("Int32 7", "Guid 7")));
        Assert.That((_calls["Describe<Int32>"], _calls["Describe<Guid>"]), Is.EqualTo((1, 1)));
        Assert.That(_cache.Exists(Prefix + "Describe<System.Guid>(7)"), Is.True);
    }

    [Test]
    public async Task A_template_key_writes_the_type_argument_where_it_names_the_type_parameter()
    {
        var square = await _service.AreaAsync<Square>(2);
        var circle = await _service.AreaAsync<Circle>(2);
        await _service.AreaAsync<Square>(2);

        Assert.That((square, circle), Is.EqualTo((8d, 6d)));
        Assert.That((_calls["AreaAsync<Square>"], _calls["AreaAsync<Circle>"]), Is.EqualTo((1, 1)));
        Assert.That(_cache.Get<double>("area:Cached.Generators.Tests.Scenarios.Square:2"), Is.EqualTo(8d));
    }

    [Test]
    public async Task A_generic_key_builder_and_skip_rule_are_called_with_the_type_arguments()
    {
        var number = await _service.Parse<int>("42");
        var missing = await _service.Parse<int>("x");
        await _service.Parse<int>("42");
        await _service.Parse<int>("x");
        var asDouble = await _service.Parse<double>("42");

        Assert.That((number, missing, asDouble), Is.EqualTo(((int?)42, (int?)null, (double?)42d)));
        Assert.That(_cache.Get<int?>("parse:Int32:42"), Is.EqualTo(42));
        Assert.That(_cache.Exists("parse:Int32:x"), Is.False, "the skip rule kept the miss out");
        Assert.That((_calls["Parse<Int32>"], _calls["Parse<Double>"]), Is.EqualTo((3, 1)));
    }

    [Test]
    public async Task A_generic_invalidation_drops_the_entries_of_its_own_instantiation_only()
    {
        _service.Echo(5);
        _service.Echo("5");
        await _service.AreaAsync<Square>(5);
        await _service.AreaAsync<Circle>(5);

        _service.Forget<int, Square>(5, 5);
        _service.Echo(5);
        _service.Echo("5");
        await _service.AreaAsync<Square>(5);
        await _service.AreaAsync<Circle>(5);

        Assert.That((_calls["Echo<Int32>"], _calls["Echo<String>"]), Is.EqualTo((2, 1)));
        Assert.That((_calls["AreaAsync<Square>"], _calls["AreaAsync<Circle>"]), Is.EqualTo((2, 1)));
    }

    [Test]
    public void A_generic_method_of_a_generic_type_keys_both_type_arguments()
    {
        var users = new GenericRepository<User>(_calls);
        var regions = new GenericRepository<string>(_calls);

        users.Find(1);
        users.Find(1L);
        regions.Find(1);
        users.Find(1);

        Assert.That((_calls["Find<User,Int32>"], _calls["Find<User,Int64>"], _calls["Find<String,Int32>"]), Is.EqualTo((1, 1, 1)));
        Assert.That(
            _cache.Get<string>("Cached.Generators.Tests.Scenarios.GenericRepository<Cached.Generators.Tests.Scenarios.User>.Find<System.Int64>(1)"),
            Is.EqualTo("User#1"));
    }
}
