namespace Cached.Benchmarks.Tests;

/// <summary>The propagation measure of issue 15: it runs against a real redis-server and RESULTS.md reports it.</summary>
public sealed class PropagationProbeTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Both_libraries_are_measured_on_a_real_server()
    {
        BenchmarkEnvironment.RequireRedis();

        var rows = await PropagationProbe.MeasureAsync(20, TextWriter.Null);

        Assert.That(rows.Select(static row => row.Library), Has.Exactly(1).StartsWith("Cached").And.Exactly(1).StartsWith("FusionCache"));
        Assert.That(rows, Has.All.Matches<PropagationProbe.Row>(static row => row.Samples == 20 && row.P50 > 0 && row.P50 <= row.P90 && row.P90 <= row.P99 && row.P99 <= row.Max));
    }

    [Test]
    public void RESULTS_md_shows_the_percentiles_and_judges_the_target()
    {
        var rows = new[]
        {
            new PropagationProbe.Row("Cached (MultiLevelCache, RedisBackplane)", 100, 0.5, 0.9, 4.2, 8.0),
            new PropagationProbe.Row("FusionCache 2.9 (Redis L2 and backplane)", 100, 0.6, 0.9, 5.9, 14.0),
        };

        var text = new Infrastructure.SuiteReport([]) { Propagation = rows }.Render();

        Assert.That(text, Does.Contain("| Cached (MultiLevelCache, RedisBackplane) | 100 | 0.500 | 0.900 | 4.200 | 8.000 |"));
        Assert.That(text, Does.Contain("propagation from a write on node A to node B's read: p99 under 5 ms | p50 0.500 ms, p99 4.200 ms | met"));
        Assert.That(text, Does.Contain("propagation p99: ahead of FusionCache | 4.200 ms vs 5.900 ms | met"));
    }
}
