using Cached.DependencyInjection;
using Cached.Tests.Configuration;
using Cached.Tests.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Cached.Tests.MultiLevel;

/// <summary>A two-level alias from DI, and its metrics: each level's tagged by level, the backplane's by action.</summary>
[NonParallelizable]
public sealed class MultiLevelObservabilityTests
{
    private const string Alias = "two_levels_observed";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    [Test]
    public void AddCached_serves_a_two_level_alias_from_appsettings()
    {
        var services = new ServiceCollection();
        services.AddCached(ConfigurationBindingTests.Section("""
            {
              "Cached": {
                "default": {
                  "Cache": "Cached.MultiLevelCache",
                  "L1": { "Cache": "Cached.SimpleMemoryCache" },
                  "L2": { "Cache": "Cached.SimpleMemoryCache" },
                  "Backplane": { "Class": "Cached.MemoryBackplane" }
                }
              }
            }
            """));
        using var provider = services.BuildServiceProvider();

        var cache = provider.GetRequiredService<ICache>();

        Assert.That(cache, Is.InstanceOf<MultiLevelCache>().And.SameAs(Caches.Get()));
    }

    [Test]
    public void Each_level_s_metrics_carry_its_level_and_the_backplane_s_carry_the_action()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        Caches.AddInstance(Alias, new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), new MemoryBackplane()));
        var cache = (MultiLevelCache)Caches.Get(Alias);
        cache.L2.Set("k", "v");

        cache.Get<string>("k");
        cache.Get<string>("k");
        cache.Set("other", "w");

        var hits = recorder.Of("cached.hits").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(hits.Where(static m => Equals(m["cache.level"], "L2")).Sum(static m => m.Value), Is.EqualTo(1), "the first read, from L2");
            Assert.That(hits.Where(static m => Equals(m["cache.level"], "L1")).Sum(static m => m.Value), Is.EqualTo(1), "the second, from L1");
            Assert.That(recorder.Of("cached.backplane.published").Single()["cache.action"], Is.EqualTo("Set"));
        });
    }

    [Test]
    public void A_message_of_no_keys_from_another_node_is_not_counted_as_received_and_a_change_of_keys_is()
    {
        using var recorder = new CachedMeterRecorder(Alias);
        var backplane = new MemoryBackplane();
        Caches.AddInstance(Alias, new MultiLevelCache(new SimpleMemoryCache(), new SimpleMemoryCache(), backplane));
        var cache = (MultiLevelCache)Caches.Get(Alias);
        cache.Set("k", "v");
        var now = DateTimeOffset.UtcNow;

        // What RedisBackplane publishes after a reconnect until it hears it: a Set of no keys, from a sender of its own.
        backplane.Publish(cache.Channel, new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Set, null, [], now));
        backplane.Publish(cache.Channel, new BackplaneMessage(Guid.NewGuid(), BackplaneAction.Delete, null, ["k"], now));

        Assert.That(recorder.Of("cached.backplane.received").Select(static m => m["cache.action"]), Is.EqualTo(new[] { "Delete" }));
        Assert.That(cache.IsInL1("k"), Is.False, "the change of keys was applied");
    }
}
