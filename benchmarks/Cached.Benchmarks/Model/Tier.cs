namespace Cached.Benchmarks.Model;

/// <summary>An enum argument, for the three-argument keys.</summary>
public enum Tier
{
    /// <summary>The default tier.</summary>
    Free,

    /// <summary>The tier the benchmarks ask for.</summary>
    Gold,
}
