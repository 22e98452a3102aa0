using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>[Cached] and [InvalidateCache] extension methods: generated with their <c>this</c>, called as extensions.</summary>
public sealed class ExtensionMethodBehaviourTests
{
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        _cache = new SimpleMemoryCache();
        Caches.AddInstance(UserService.Alias, _cache);
        NumberExtensions.Calls = new CallCounter();
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    [Test]
    public void A_sync_extension_method_is_cached_under_its_default_key()
    {
        var first = 21.Twice();
        var second = 21.Twice();

        Assert.That((first, second), Is.EqualTo((42, 42)));
        Assert.That(NumberExtensions.Calls[nameof(NumberExtensions.Twice)], Is.EqualTo(1));
        Assert.That(_cache.Get<int>("Cached.Generators.Tests.Scenarios.NumberExtensions.Twice(21)"), Is.EqualTo(42));
    }

    [Test]
    public async Task Task_and_ValueTask_extension_methods_are_cached()
    {
        var thrice = await 5.ThriceAsync();
        var thriceAgain = await 5.ThriceAsync();
        var shout = await "ab".ShoutAsync(2);
        var shoutAgain = await "ab".ShoutAsync(2);

        Assert.That((thrice, thriceAgain, shout, shoutAgain), Is.EqualTo((15, 15, "ABAB", "ABAB")));
        Assert.That(NumberExtensions.Calls[nameof(NumberExtensions.ThriceAsync)], Is.EqualTo(1));
        Assert.That(NumberExtensions.Calls[nameof(NumberExtensions.ShoutAsync)], Is.EqualTo(1));
        Assert.That(_cache.Get<int>("thrice:5"), Is.EqualTo(15));
    }

    [Test]
    public void An_extension_method_invalidates_an_extension_method_entry()
    {
        3.Twice();

        3.ForgetTwice();
        3.Twice();

        Assert.That(NumberExtensions.Calls[nameof(NumberExtensions.Twice)], Is.EqualTo(2));
    }
}
