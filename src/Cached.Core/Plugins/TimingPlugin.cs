namespace Cached.Plugins;

/// <summary>
/// Measures every command: count, total, average, minimum and maximum duration per <see cref="CacheCommand"/>
/// (aiocache's <c>TimingPlugin</c>, which keeps <c>get_total</c>, <c>get_avg</c>, <c>get_min</c>, <c>get_max</c>). Thread-safe.
/// </summary>
public sealed class TimingPlugin : CachePlugin
{
    private readonly Stats[] _stats = CreateStats();

    /// <summary>What was measured for <paramref name="command"/> so far.</summary>
    public CommandTiming this[CacheCommand command] => StatsOf(command).Snapshot();

    /// <inheritdoc />
    public override void Pre(CacheCommandContext context)
    {
    }

    /// <inheritdoc />
    public override void Post(CacheCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        StatsOf(context.Command).Record(context.Elapsed);
    }

    private Stats StatsOf(CacheCommand command)
    {
        if ((uint)command >= (uint)_stats.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(command), command, "Not a cache command.");
        }

        return _stats[(int)command];
    }

    private static Stats[] CreateStats()
    {
        var stats = new Stats[Enum.GetValues<CacheCommand>().Length];
        for (var i = 0; i < stats.Length; i++)
        {
            stats[i] = new Stats();
        }

        return stats;
    }

    private sealed class Stats
    {
        private readonly object _gate = new();
        private long _count;
        private TimeSpan _total;
        private TimeSpan _min;
        private TimeSpan _max;

        public void Record(TimeSpan elapsed)
        {
            lock (_gate)
            {
                // The first sample sets the minimum: aiocache resets it whenever the old minimum is 0, which loses data.
                _min = _count == 0 || elapsed < _min ? elapsed : _min;
                _max = elapsed > _max ? elapsed : _max;
                _total += elapsed;
                _count++;
            }
        }

        public CommandTiming Snapshot()
        {
            lock (_gate)
            {
                return new CommandTiming(_count, _total, _min, _max);
            }
        }
    }
}
