namespace Cached.Plugins;

/// <summary>What <see cref="TimingPlugin"/> measured for one command.</summary>
/// <param name="Count">How many times the command ran.</param>
/// <param name="Total">The sum of their durations.</param>
/// <param name="Min">The shortest.</param>
/// <param name="Max">The longest.</param>
public readonly record struct CommandTiming(long Count, TimeSpan Total, TimeSpan Min, TimeSpan Max)
{
    /// <summary>The mean duration, or zero when the command never ran.</summary>
    public TimeSpan Average => Count == 0 ? TimeSpan.Zero : Total / Count;
}
