using Cached.Plugins;

namespace Cached.Pipeline;

/// <summary>
/// What one command asks, as plugins and telemetry see it: the command, the caller's key or keys (before the
/// namespace is applied), the resolved namespace, the value written and the resolved time to live.
/// </summary>
/// <param name="Command">The command.</param>
/// <param name="Key">The caller's key; <c>null</c> for multi-key commands, Clear and Raw.</param>
/// <param name="Keys">The caller's keys of MultiGet and MultiSet.</param>
/// <param name="Namespace">The namespace the command runs in, after falling back to the cache's own.</param>
/// <param name="Value">The value written, the delta of Increment, the arguments of Raw.</param>
/// <param name="Ttl">The time to live written with; <c>null</c> for none.</param>
/// <param name="Observed">False for the internal lock and version traffic, which plugins and telemetry do not see.</param>
/// <param name="Subject">What an error message names: the backend key (the first of a batch), the raw command.</param>
/// <param name="PastBreaker">True for a command sent even while the circuit breaker is open: the release of a lock, which
/// left undone keeps the lock for its whole lease.</param>
internal readonly record struct CommandRequest(
    CacheCommand Command,
    string? Key,
    IReadOnlyList<string>? Keys = null,
    string? Namespace = null,
    object? Value = null,
    TimeSpan? Ttl = null,
    bool Observed = true,
    string? Subject = null,
    bool PastBreaker = false)
{
    /// <summary>What a mapped error names: the subject, else the caller's key, else the namespace, else <c>*</c>.</summary>
    public string ErrorSubject => Subject ?? Key ?? Namespace ?? "*";
}

/// <summary>
/// What a completed command reports to the post hooks and telemetry: its result; for reads, its hits; for a fill of
/// several entries, how many it stored (-1: every key it was given, as a batch write stores them all).
/// </summary>
internal readonly record struct CommandOutcome(object? Result, int Hits = 0, int Stored = -1);
