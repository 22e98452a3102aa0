using System.Diagnostics;
using Cached.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Cached.Tests.Diagnostics;

/// <summary>Cached's meter and activity source through the real OpenTelemetry SDK, as an application wires them.</summary>
[NonParallelizable]
public class OpenTelemetryTests
{
    private const string Alias = "otel_test";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    [Test]
    public async Task AddMeter_and_AddSource_export_Cached_metrics_and_traces()
    {
        var metrics = new List<Metric>();
        var activities = new List<Activity>();
        using var host = new HostBuilder()
            .ConfigureServices(services => services
                .AddCached(cached => cached.AddCache(Alias, new SimpleMemoryCache()))
                .AddOpenTelemetry()
                .WithMetrics(m => m.AddMeter(CachedDiagnostics.MeterName).AddInMemoryExporter(metrics))
                .WithTracing(t => t.AddSource(CachedDiagnostics.ActivitySourceName).SetSampler(new AlwaysOnSampler()).AddInMemoryExporter(activities)))
            .Build();
        await host.StartAsync();
        var cache = host.Services.GetRequiredKeyedService<ICache>(Alias);

        cache.Set("user:1", "ada");
        cache.Get<string>("user:1");
        cache.Get<string>("user:2");
        host.Services.GetRequiredService<MeterProvider>().ForceFlush();
        await host.StopAsync();

        long Sum(string name) => metrics.Where(m => m.Name == name).Sum(static m =>
        {
            var total = 0L;
            foreach (ref readonly var point in m.GetMetricPoints())
            {
                foreach (var tag in point.Tags)
                {
                    if (tag.Key == "cache.alias" && Equals(tag.Value, Alias))
                    {
                        total += point.GetSumLong();
                    }
                }
            }

            return total;
        });

        var mine = activities.Where(static a => Equals(a.GetTagItem("cache.alias"), Alias)).Select(static a => a.DisplayName).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(Sum("cached.hits"), Is.EqualTo(1));
            Assert.That(Sum("cached.misses"), Is.EqualTo(1));
            Assert.That(Sum("cached.sets"), Is.EqualTo(1));
            Assert.That(metrics.Select(static m => m.Name), Does.Contain("cached.command.duration"));
            Assert.That(mine, Is.EqualTo(new[] { "cache set", "cache get", "cache get" }));
        });
    }
}
