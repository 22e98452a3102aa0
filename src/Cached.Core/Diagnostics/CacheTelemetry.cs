using System.Diagnostics;
using System.Diagnostics.Metrics;
using Cached.Plugins;

namespace Cached.Diagnostics;

/// <summary>
/// Cached's meter and activity source, fed by <see cref="BaseCache"/> around every command. The instruments are
/// checked before anything is measured, so an application nobody observes pays a few field reads per command.
/// </summary>
internal static class CacheTelemetry
{
    private static readonly string s_version = typeof(CacheTelemetry).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private static readonly Meter s_meter = new(CachedDiagnostics.MeterName, s_version);
    private static readonly ActivitySource s_source = new(CachedDiagnostics.ActivitySourceName, s_version);

    private static readonly Counter<long> s_hits = s_meter.CreateCounter<long>("cached.hits", "{hit}", "Keys found by reads.");
    private static readonly Counter<long> s_misses = s_meter.CreateCounter<long>("cached.misses", "{miss}", "Keys not found by reads.");
    private static readonly Counter<long> s_sets = s_meter.CreateCounter<long>("cached.sets", "{entry}", "Entries written by Add, Set and MultiSet.");
    private static readonly Counter<long> s_errors = s_meter.CreateCounter<long>("cached.errors", "{error}", "Commands that failed: backend faults, timeouts, serialization errors.");
    private static readonly Histogram<double> s_duration = CreateDurationHistogram();

    // One name per command, so that starting an activity never concatenates strings.
    private static readonly string[] s_activityNames = Enum.GetNames<CacheCommand>().Select(static name => "cache " + name.ToLowerInvariant()).ToArray();
    private static readonly string[] s_commandNames = Enum.GetNames<CacheCommand>().Select(static name => name.ToLowerInvariant()).ToArray();

    /// <summary>True when some listener wants a measurement or an activity.</summary>
    public static bool IsObserved
        => s_duration.Enabled || s_hits.Enabled || s_misses.Enabled || s_sets.Enabled || s_errors.Enabled || s_source.HasListeners();

    /// <summary>
    /// True when some listener wants what a read that hits records: the hit count, the duration or an activity. A
    /// hit that nobody observes this way may skip the command's bookkeeping.
    /// </summary>
    public static bool IsHitObserved => s_hits.Enabled || s_duration.Enabled || s_source.HasListeners();

    /// <summary>Starts the command's activity when someone listens; <c>null</c> otherwise.</summary>
    public static Activity? StartActivity(BaseCache cache, CacheCommand command, string? key)
    {
        if (!s_source.HasListeners())
        {
            return null;
        }

        var activity = s_source.StartActivity(s_activityNames[(int)command], ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("cache.command", s_commandNames[(int)command]);
            activity.SetTag("cache.backend", cache.BackendName);
            if (cache.Alias is { } alias)
            {
                activity.SetTag("cache.alias", alias);
            }

            if (key is not null)
            {
                activity.SetTag("cache.key", key);
            }
        }

        return activity;
    }

    /// <summary>Records a command that completed.</summary>
    public static void Completed(BaseCache cache, CacheCommandContext context)
    {
        var tags = Tags(cache);
        switch (context.Command)
        {
            case CacheCommand.Get or CacheCommand.MultiGet:
                var requested = context.Keys?.Count ?? 1;
                if (context.Hits > 0 && s_hits.Enabled)
                {
                    s_hits.Add(context.Hits, tags);
                }

                if (requested > context.Hits && s_misses.Enabled)
                {
                    s_misses.Add(requested - context.Hits, tags);
                }

                context.Activity?.SetTag("cache.hits", context.Hits);
                break;
            case CacheCommand.Add or CacheCommand.Set when context.Result is true && s_sets.Enabled:
                s_sets.Add(1, tags);
                break;
            case CacheCommand.MultiSet when context.Result is true && context.Keys is { Count: > 0 } keys && s_sets.Enabled:
                // A fill stores only the entries no invalidation overtook: those are what it wrote.
                s_sets.Add(context.Stored >= 0 ? context.Stored : keys.Count, tags);
                break;
        }

        if (s_duration.Enabled)
        {
            tags.Add("cache.command", s_commandNames[(int)context.Command]);
            s_duration.Record(context.Elapsed.TotalSeconds, tags);
        }

        context.Activity?.Dispose();
    }

    /// <summary>
    /// Records a command that threw. A cancelled command and <see cref="KeyExistsException"/> (Add's documented answer
    /// on an existing key) are outcomes, not faults: they end the activity but are not counted as errors.
    /// </summary>
    public static void Failed(BaseCache cache, CacheCommandContext context, Exception exception)
    {
        var isFault = exception is not OperationCanceledException and not KeyExistsException;
        if (context.Activity is { } activity)
        {
            if (isFault)
            {
                activity.SetStatus(ActivityStatusCode.Error, exception.Message);
                activity.SetTag("error.type", exception.GetType().FullName);
            }

            activity.Dispose();
        }

        if (isFault && s_errors.Enabled)
        {
            var tags = Tags(cache);
            tags.Add("cache.command", s_commandNames[(int)context.Command]);
            tags.Add("error.type", exception.GetType().FullName);
            s_errors.Add(1, tags);
        }
    }

    private static TagList Tags(BaseCache cache)
    {
        var tags = new TagList { { "cache.backend", cache.BackendName } };
        if (cache.Alias is { } alias)
        {
            tags.Add("cache.alias", alias);
        }

        if (cache.Level is { } level)
        {
            tags.Add("cache.level", level);
        }

        return tags;
    }

    private static Histogram<double> CreateDurationHistogram()
    {
        const string Name = "cached.command.duration";
        const string Description = "How long cache commands take, between the plugins' pre and post hooks.";
#if NET9_0_OR_GREATER
        // Cache commands take micro- to milliseconds: the default buckets (from 5 ms up) would put them all in one.
        return s_meter.CreateHistogram<double>(Name, "s", Description, tags: null, new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        });
#else
        return s_meter.CreateHistogram<double>(Name, "s", Description);
#endif
    }
}
