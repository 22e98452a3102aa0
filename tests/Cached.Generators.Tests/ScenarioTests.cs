using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>
/// Tests of one scenario's generated methods, compiled by the generator and run: the alias they use
/// (<see cref="UserService.Alias"/>) points at a fresh cache for each test, and a fresh counter counts the bodies' calls.
/// </summary>
/// <typeparam name="TService">The scenario, made with the counter.</typeparam>
public abstract class ScenarioTests<TService>
{
    protected SimpleMemoryCache Cache { get; private set; } = null!;

    protected CallCounter Calls { get; private set; } = null!;

    protected TService Service { get; private set; } = default!;

    /// <summary>Makes the scenario for one test.</summary>
    protected abstract TService Create(CallCounter calls);

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        Cache = new SimpleMemoryCache();
        Caches.AddInstance(UserService.Alias, Cache);
        Calls = new CallCounter();
        Service = Create(Calls);
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();
}
