namespace Cached.Diagnostics;

/// <summary>
/// The names under which Cached publishes metrics and traces, for OpenTelemetry
/// (<c>.WithMetrics(m => m.AddMeter(CachedDiagnostics.MeterName))</c>, <c>.WithTracing(t => t.AddSource(CachedDiagnostics.ActivitySourceName))</c>)
/// and <c>dotnet-counters monitor --counters Cached</c>.
/// </summary>
/// <remarks>
/// Instruments of the meter: <c>cached.hits</c>, <c>cached.misses</c>, <c>cached.sets</c> and <c>cached.errors</c>
/// (counters) and <c>cached.command.duration</c> (a histogram, in seconds), tagged with <c>cache.alias</c> (when the
/// cache has one), <c>cache.backend</c> and, for durations and errors, <c>cache.command</c>; errors add
/// <c>error.type</c>. Nothing is measured, and no activity is started, while nobody listens.
/// </remarks>
public static class CachedDiagnostics
{
    /// <summary>The name of Cached's <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = "Cached";

    /// <summary>The name of Cached's <see cref="System.Diagnostics.ActivitySource"/>: one activity per cache command.</summary>
    public const string ActivitySourceName = "Cached";
}
