using System.Diagnostics;
using System.Globalization;
using System.Text;
using Cached.Benchmarks.Infrastructure;

namespace Cached.Benchmarks;

/// <summary>
/// Propagation on a real Redis, one write at a time: the time from <c>SetAsync</c> on node A until node B reads the
/// new value, for Cached (<see cref="MultiLevelCache"/> with its Redis backplane) and FusionCache (Redis L2 and
/// backplane), sampled alternately so that both see the same machine. BenchmarkDotNet reports means; the target
/// is a percentile (p99 under 5 ms), so this measures each write on its own.
/// </summary>
public static class PropagationProbe
{
    public const int DefaultSamples = 2_000;

    public sealed record Row(string Library, int Samples, double P50, double P90, double P99, double Max);

    public static async Task<IReadOnlyList<Row>> MeasureAsync(int samples, TextWriter log)
    {
        await using var nodes = new TwoLevelNodes();
        var key = nodes.Key("propagation");
        var cached = new List<double>(samples);
        var fusion = new List<double>(samples);
        var value = 0;
        for (var i = -100; i < samples; i++)
        {
            var cachedTime = await TimeAsync(() => TwoLevelNodes.CachedPropagationAsync(nodes, key, ++value)).ConfigureAwait(false);
            var fusionTime = await TimeAsync(() => TwoLevelNodes.FusionPropagationAsync(nodes, key, ++value)).ConfigureAwait(false);
            if (i >= 0)
            {
                cached.Add(cachedTime);
                fusion.Add(fusionTime);
            }
        }

        log.WriteLine($"Propagation: {samples:N0} writes each, alternating.");
        return [RowOf("Cached (MultiLevelCache, RedisBackplane)", cached), RowOf("FusionCache 2.9 (Redis L2 and backplane)", fusion)];
    }

    public static string ToMarkdown(IReadOnlyList<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| From `SetAsync` on node A to node B reading it | Writes | p50 (ms) | p90 (ms) | p99 (ms) | Max (ms) |");
        text.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Library} | {row.Samples:N0} | {row.P50:F3} | {row.P90:F3} | {row.P99:F3} | {row.Max:F3} |"));
        }

        return text.ToString();
    }

    private static async Task<double> TimeAsync(Func<Task> propagate)
    {
        var watch = Stopwatch.StartNew();
        await propagate().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return watch.Elapsed.TotalMilliseconds;
    }

    private static Row RowOf(string library, List<double> samples)
    {
        samples.Sort();
        double At(double share) => samples[Math.Min(samples.Count - 1, (int)(samples.Count * share))];
        return new Row(library, samples.Count, At(0.50), At(0.90), At(0.99), samples[^1]);
    }
}
