namespace Cached;

/// <summary>
/// Skips the cache read or write of generated cached methods for the calls made inside a scope, on this thread and
/// the async flow it starts (pycached's <c>cache_read=False</c> / <c>cache_write=False</c> keyword arguments):
/// <code>
/// using (CacheScope.SkipRead()) { service.GetUser(42); }   // runs the body, stores the fresh result
/// </code>
/// </summary>
/// <remarks>
/// Dispose every scope. A scope applies while it is open (disposing an outer scope first leaves an inner one open): a call started inside it and still running when it is
/// disposed reads and writes as usual from then on, so await the calls inside the scope. While any scope is open
/// anywhere in the process, hits of generated methods take the ordinary read (which checks this flow's scopes) instead
/// of the allocation-free one: still correct, but slower.
/// </remarks>
public static class CacheScope
{
    private static readonly AsyncLocal<Scope?> s_current = new();

    // How many scopes are open anywhere. While none is, the flags are not read: an AsyncLocal read costs more than
    // the rest of a cache hit, and scopes are rare.
    private static int s_open;

    [Flags]
    private enum Flags
    {
        None = 0,
        SkipRead = 1,
        SkipWrite = 2,
    }

    /// <summary>True while no scope is open anywhere: the calls of every flow read and write as usual.</summary>
    internal static bool NoneOpen => Volatile.Read(ref s_open) == 0;

    /// <summary>True inside an open <see cref="SkipRead"/> or <see cref="Bypass"/> scope.</summary>
    public static bool IsReadSkipped => Volatile.Read(ref s_open) != 0 && (Current & Flags.SkipRead) != 0;

    /// <summary>True inside an open <see cref="SkipWrite"/> or <see cref="Bypass"/> scope.</summary>
    public static bool IsWriteSkipped => Volatile.Read(ref s_open) != 0 && (Current & Flags.SkipWrite) != 0;

    /// <summary>Calls inside the scope do not read the cache: the body runs and its result is stored.</summary>
    public static IDisposable SkipRead() => Enter(Flags.SkipRead);

    /// <summary>Calls inside the scope read the cache but never store a result.</summary>
    public static IDisposable SkipWrite() => Enter(Flags.SkipWrite);

    /// <summary>Calls inside the scope neither read nor write the cache.</summary>
    public static IDisposable Bypass() => Enter(Flags.SkipRead | Flags.SkipWrite);

    /// <summary>
    /// The flags of this flow's scopes that are still open. A flow started inside a scope keeps it after the scope's
    /// own flow disposed it; a disposed scope counts for nobody, so what a call does never depends on whether some
    /// unrelated scope happens to be open elsewhere (which the count <see cref="s_open"/> would otherwise decide).
    /// </summary>
    private static Flags Current
    {
        get
        {
            var flags = Flags.None;
            for (var scope = s_current.Value; scope is not null; scope = scope.Outer)
            {
                if (!scope.IsDisposed)
                {
                    flags |= scope.Flags;
                }
            }

            return flags;
        }
    }

    private static Scope Enter(Flags flags)
    {
        Interlocked.Increment(ref s_open);
        var scope = new Scope(flags, s_current.Value);
        s_current.Value = scope;
        return scope;
    }

    private sealed class Scope(Flags flags, Scope? outer) : IDisposable
    {
        private volatile bool _disposed;

        public Flags Flags { get; } = flags;

        public Scope? Outer { get; } = outer;

        public bool IsDisposed => _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                // Off the top of this flow's scopes, down to the nearest one still open. Disposed out of order (an outer
                // scope before an inner one still open), it only stops counting (Current skips it): the inner one
                // applies until it is disposed in turn.
                if (ReferenceEquals(s_current.Value, this))
                {
                    var open = Outer;
                    while (open is { IsDisposed: true })
                    {
                        open = open.Outer;
                    }

                    s_current.Value = open;
                }

                Interlocked.Decrement(ref s_open);
            }
        }
    }
}
