using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>Overloaded [Cached] methods with default keys: each overload keeps entries of its own.</summary>
public sealed class OverloadBehaviourTests : ScenarioTests<OverloadService>
{
    private const string Prefix = "Cached.Generators.Tests.Scenarios.OverloadService.";

    protected override OverloadService Create(CallCounter calls) => new(calls);

    [Test]
    public void The_long_overload_runs_its_own_body_after_the_int_overload_stored_the_same_argument()
    {
        var asInt = Service.Ov(1);
        var asLong = Service.Ov(1L);

        Assert.That((asInt, asLong), Is.EqualTo(("int 1", "long 1")));
        Assert.That((Calls["Ov(int)"], Calls["Ov(long)"]), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task The_double_and_int_overloads_do_not_overwrite_each_other()
    {
        var asDouble = await Service.Ov(1.0);
        var asInt = Service.Ov(1);

        Assert.That((asDouble, asInt), Is.EqualTo(("double 1", "int 1")));
        Assert.That(await Service.Ov(1.0), Is.EqualTo("double 1"), "the double entry survives the int call");
        Assert.That(Service.Ov(1), Is.EqualTo("int 1"));
        Assert.That((Calls["Ov(double)"], Calls["Ov(int)"]), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task The_string_overload_and_one_whose_argument_prints_the_same_text_keep_apart()
    {
        var asString = await Service.Ov("1");
        var asSku = Service.Ov(new Sku("1"));

        Assert.That((asString, asSku), Is.EqualTo(("string 1", "sku 1")));
        Assert.That(await Service.Ov("1"), Is.EqualTo("string 1"));
        Assert.That((Calls["Ov(string)"], Calls["Ov(Sku)"]), Is.EqualTo((1, 1)));
    }

    [Test]
    public async Task Each_overload_hits_its_own_entry_under_a_key_marked_with_its_parameter_types()
    {
        Service.Ov(1);
        Service.Ov(1L);
        await Service.Ov("1");
        await Service.Ov(1.0);
        Service.Ov(1);
        Service.Ov(1L);
        await Service.Ov("1");
        await Service.Ov(1.0);

        Assert.Multiple(() =>
        {
            Assert.That(new[] { Calls["Ov(int)"], Calls["Ov(long)"], Calls["Ov(string)"], Calls["Ov(double)"] }, Is.All.EqualTo(1));
            Assert.That(Cache.Get<string>(Prefix + "Ov[int](1)"), Is.EqualTo("int 1"));
            Assert.That(Cache.Get<string>(Prefix + "Ov[long](1)"), Is.EqualTo("long 1"));
            Assert.That(Cache.Get<string>(Prefix + "Ov[string,System.Threading.CancellationToken](\"1\")"), Is.EqualTo("string 1"));
            Assert.That(Cache.Get<string>(Prefix + "Ov[double](1)"), Is.EqualTo("double 1"), "declared in the other part");
            Assert.That(Cache.Exists(Prefix + "Ov(1)"), Is.False, "no overload keeps the unmarked key");
        });
    }

    [Test]
    public void A_cached_method_beside_an_uncached_or_generic_overload_is_marked()
    {
        Service.Single(1);
        Service.Generic(2);

        Assert.That(Cache.Get<string>(Prefix + "Single[int](1)"), Is.EqualTo("single 1"));
        Assert.That(Cache.Get<string>(Prefix + "Generic[int](2)"), Is.EqualTo("generic 2"));
    }

    [Test]
    public void A_name_that_is_not_overloaded_keeps_its_unmarked_key()
    {
        Service.Alone(1);

        Assert.That(Cache.Get<string>(Prefix + "Alone(1)"), Is.EqualTo("alone 1"));
    }

    [Test]
    public void InvalidateCache_naming_an_overloaded_method_drops_the_entries_of_every_overload_whose_key_it_can_build()
    {
        // Found by an outsider review: only the first overload declared whose key could be built was invalidated, so
        // ForgetFind(1, "eu") dropped Find(1) and left Find(1, "eu") to be served stale.
        Service.Find(1);
        Service.Find(1, "eu");

        Service.ForgetFind(1, "eu");
        Service.Find(1);
        Service.Find(1, "eu");

        Assert.That((Calls["Find(int)"], Calls["Find(int, string)"]), Is.EqualTo((2, 2)), "both overloads computed anew");
    }

    [Test]
    public async Task InvalidateCache_naming_an_overloaded_method_leaves_the_overloads_whose_key_it_cannot_build()
    {
        Service.Find(1);
        Service.Find(1, "eu");

        await Service.ForgetFindAsync(1);
        Service.Find(1);
        Service.Find(1, "eu");

        Assert.That((Calls["Find(int)"], Calls["Find(int, string)"]), Is.EqualTo((2, 1)), "Find(1) computed anew, Find(1, \"eu\") hit");
    }
}
