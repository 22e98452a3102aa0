using Cached.Plugins;
using Cached.Runtime;

namespace Cached.Resilience;

/// <summary>
/// One cache's circuit breaker (<see cref="BaseCache.CircuitBreakerDuration"/>): a command that fails because the
/// backend did not answer (a <see cref="TimeoutException"/>, or a <see cref="CacheBackendException"/> that says it is
/// unreachable) opens it, and for the duration every command of the cache fails at once, without reaching the backend,
/// with a <see cref="CacheBackendException"/> whose <see cref="CacheBackendException.CircuitOpen"/> is true. A backend
/// that hangs then costs one timeout per duration instead of one per command.
/// </summary>
/// <remarks>
/// Once the duration has passed, one command goes through as a probe while the others are still refused: FusionCache
/// closes its breaker for everyone instead, and every command that starts before the first of them fails again pays
/// the whole timeout. Once open, only the probe's own outcome changes the state: an answer (a success, or a refusal
/// such as out of memory) closes the breaker, a fault that says the backend did not answer opens it for another
/// duration. Other outcomes are of commands sent before it opened, which say nothing new: a late success would close
/// it on a backend that still hangs, a late timeout would keep it open longer or take the probe's place. A probe that
/// never ends (its caller gave up) lets another one through after the duration.
/// <para>
/// A backend made of parts that fail apart (a cluster's nodes: <see cref="BaseCache.FaultDomainOf"/>) has the probe
/// chosen on the part whose command opened the breaker: a command on a part that answers would close it while that
/// part still hangs, and every command on it would pay the timeout again. A command on another part becomes the probe
/// (or on no known part, or on several) only once a second duration has passed with none on that part.
/// </para>
/// </remarks>
internal sealed class CircuitBreaker(TimeSpan duration)
{
    // The timestamp (on the cache's TimeProvider) until which commands are refused; 0 while closed. Timestamps of a
    // real clock are never 0, and a test clock's that would be are moved to 1.
    private long _openUntil;
    private int _probing; // 1 from a probe's claim until its outcome closes or opens the breaker again
    private Exception? _cause;
    private object? _domain; // the part of the backend whose command opened the breaker (or failed its probe); null for any

    // The probes the current flow runs (a chain: one cache's probe may run another's), each a claim of its own. A
    // flow is a breaker's probe while it carries the breaker's current claim, which its outcome ends: the flows that
    // outlive it (the method's miss after a failed probe read, work started from it) are not the probe any more. The
    // command that claims sets it before its operation starts, so that the operation's continuations carry it, and
    // restores the caller's flow once the operation has started (LeaveProbe). Under ExecutionContext.SuppressFlow an
    // async probe's outcome goes unseen, and another probe goes through after the duration.
    private static readonly AsyncLocal<Claim?> s_probe = new();

    private Claim? _claim; // the probe out now; null when none is

    /// <summary>One probe's claim, and the claims of the flow it was made in.</summary>
    public sealed class Claim(CircuitBreaker breaker, Claim? outer)
    {
        public CircuitBreaker Breaker { get; } = breaker;

        public Claim? Outer { get; } = outer;
    }

    /// <summary>Whether the current flow runs this breaker's probe, while its outcome has not landed.</summary>
    private bool InProbe
    {
        get
        {
            var current = Volatile.Read(ref _claim);
            for (var claim = current is null ? null : s_probe.Value; claim is not null; claim = claim.Outer)
            {
                if (ReferenceEquals(claim, current))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Gives the caller's flow back the claims it had before <paramref name="claim"/>, once its command's operation has started.</summary>
    public static void LeaveProbe(Claim claim) => s_probe.Value = claim.Outer;

    /// <summary>How long the breaker stays open after a fault.</summary>
    public TimeSpan Duration { get; } = duration;

    /// <summary>
    /// Whether the command must fail at once: true, with the exception to throw, while the breaker is open; false while
    /// it is closed, and for the one command that goes through as the probe once the duration has passed.
    /// </summary>
    /// <param name="clock">The cache's clock.</param>
    /// <param name="backend">The backend's name, for the message.</param>
    /// <param name="alias">The cache's alias, for the message.</param>
    /// <param name="command">The command, for the message.</param>
    /// <param name="subject">What the command is about, for the message.</param>
    /// <param name="refusal">What to throw when refused.</param>
    /// <param name="probe">This command's claim when it is the probe: its caller calls <see cref="LeaveProbe"/> with it
    /// once its operation has started.</param>
    /// <param name="besideCommand">
    /// True for backend traffic that may run inside a command, or beside one, where it cannot be told which (tag
    /// records): it is never the probe itself, and goes through inside the probe's flow.
    /// </param>
    /// <param name="domains">The cache, asked which part of its backend the command reaches (<see cref="BaseCache.FaultDomainOf"/>)
    /// while the breaker waits for a probe on the part that failed.</param>
    public bool Refuses(TimeProvider clock, string backend, string? alias, CacheCommand command, string subject, out CacheBackendException refusal, out Claim? probe, bool besideCommand = false, BaseCache? domains = null)
    {
        probe = null;
        var until = Volatile.Read(ref _openUntil);
        if (until == 0 || InProbe)
        {
            // Closed, or inside the probe's own flow (a command or tag records its operation runs).
            refusal = null!;
            return false;
        }

        var now = clock.GetTimestamp();
        var waitsForItsPart = false;
        if (!besideCommand && now - until >= 0)
        {
            // Past the duration: this command probes, unless the breaker waits for a command on the part that failed
            // and this one is not known to reach it (another part, several, every one, or none known), for one more
            // duration at most.
            waitsForItsPart = Volatile.Read(ref _domain) is { } failed && now - until < DurationTicks(clock)
                && !Equals(domains?.FaultDomain(command, subject), failed);
            if (!waitsForItsPart && Interlocked.CompareExchange(ref _openUntil, After(clock, now), until) == until)
            {
                // The probe: the others are refused until it ends, or for another duration if it never does.
                probe = new Claim(this, s_probe.Value);
                Volatile.Write(ref _claim, probe);
                Volatile.Write(ref _probing, 1);
                s_probe.Value = probe;
                refusal = null!;
                return false;
            }
        }

        var cause = Volatile.Read(ref _cause);
        var left = clock.GetElapsedTime(now, Math.Max(Volatile.Read(ref _openUntil), now));
        var how = waitsForItsPart
            ? $"is open until a command on {Volatile.Read(ref _domain)} (which did not answer) tries it, or for {Math.Ceiling((clock.GetElapsedTime(now, until) + Duration).TotalMilliseconds)} ms more"
            : $"is open for {Math.Ceiling(left.TotalMilliseconds)} ms more";
        refusal = new CacheBackendException(
            $"{backend}{(alias is null ? string.Empty : $" '{alias}'")} did not run {command} of '{subject}': its circuit breaker {how} after the backend did not answer{(cause is null ? string.Empty : $" ({cause.GetType().Name}: {cause.Message})")}.",
            cause,
            unreachable: true)
        {
            CircuitOpen = true,
        };
        return true;
    }

    /// <summary>
    /// Notes a command's fault: one that says the backend did not answer opens a closed breaker, or one whose probe is
    /// out, for <see cref="Duration"/>; any other fault is an answer, which closes a breaker whose probe is out. A
    /// cancellation that reaches here unmapped (the pipeline makes one its caller did not ask for a
    /// <see cref="CacheBackendException"/> first) is no answer: it neither opens nor closes the breaker, and a probe its
    /// caller cancelled is one that never ends.
    /// </summary>
    /// <param name="clock">The cache's clock.</param>
    /// <param name="fault">What the command met.</param>
    /// <param name="backend">The backend's name, for the log.</param>
    /// <param name="alias">The cache's alias, for the log.</param>
    /// <param name="domains">The cache, asked which part of its backend the command reached (<see cref="BaseCache.FaultDomainOf"/>)
    /// when the fault opens the breaker or fails its probe.</param>
    /// <param name="command">The command, for <paramref name="domains"/>.</param>
    /// <param name="subject">What the command was about, for <paramref name="domains"/>.</param>
    public void Failed(TimeProvider clock, Exception fault, string backend, string? alias, BaseCache? domains = null, CacheCommand command = default, string subject = "")
    {
        if (fault is CacheBackendException { CircuitOpen: true } or OperationCanceledException)
        {
            return;
        }

        if (fault is not (TimeoutException or CacheBackendException { Unreachable: true }))
        {
            Succeeded(backend, alias);
            return;
        }

        var until = After(clock, clock.GetTimestamp());
        if (Interlocked.CompareExchange(ref _openUntil, until, 0) == 0)
        {
            Volatile.Write(ref _domain, domains?.FaultDomain(command, subject));
            Volatile.Write(ref _cause, fault);
            Log.CircuitOpened(CachedLogging.Logger, fault, backend, alias ?? "(no alias)", Duration);
        }
        else if (Volatile.Read(ref _probing) == 1 && InProbe && Interlocked.CompareExchange(ref _probing, 0, 1) == 1)
        {
            Volatile.Write(ref _claim, null);
            // A probe on no known part (past the wait for one on the failed part) keeps the part it waited for.
            if (domains?.FaultDomain(command, subject) is { } part)
            {
                Volatile.Write(ref _domain, part);
            }

            Volatile.Write(ref _cause, fault);
            Volatile.Write(ref _openUntil, until);
        }
    }

    /// <summary>Notes a command that the backend answered: closes the breaker when it is the probe (or runs inside it).</summary>
    public void Succeeded(string backend, string? alias)
    {
        if (Volatile.Read(ref _probing) == 1 && InProbe && Interlocked.CompareExchange(ref _probing, 0, 1) == 1)
        {
            Volatile.Write(ref _claim, null);
            Volatile.Write(ref _openUntil, 0);
            Log.CircuitClosed(CachedLogging.Logger, backend, alias ?? "(no alias)");
        }
    }

    private double DurationTicks(TimeProvider clock) => Duration.TotalSeconds * clock.TimestampFrequency;

    private long After(TimeProvider clock, long now)
    {
        // Saturated: a duration of years must not wrap around into the past.
        var ticks = Duration.TotalSeconds * clock.TimestampFrequency;
        var until = ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks;
        return until == 0 ? 1 : until;
    }
}
