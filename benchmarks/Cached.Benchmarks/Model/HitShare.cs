namespace Cached.Benchmarks.Model;

/// <summary>How many of a call's keys are already cached.</summary>
public enum HitShare
{
    /// <summary>Every key hits.</summary>
    All,

    /// <summary>The first half of the keys hit, the rest miss.</summary>
    Half,

    /// <summary>No key hits.</summary>
    None,
}
