namespace Cached;

/// <summary>
/// Skips the cache read or write of generated cached methods for the calls made inside a scope, on this thread and
/// the async flow it starts (pycached's <c>cache_read=False</c> / <c>cache_write=False</c> keyword arguments):
/// <code>
/// using (CacheScope.SkipRead()) { service.GetUser(42); }   // runs the body, stores the fresh result
/// </code>
/// </summary>
/// <remarks>
/// Dispose every scope. While any scope is open anywhere in the process, hits of generated methods take the ordinary
/// read (which checks this flow's scope) instead of the allocation-free one: still correct, but slower.
/// </remarks>
public static class CacheScope
{
    private static readonly AsyncLocal<Flags> s_flags = new();

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

    /// <summary>True inside a <see cref="SkipRead"/> or <see cref="Bypass"/> scope.</summary>
    public static bool IsReadSkipped => Volatile.Read(ref s_open) != 0 && (s_flags.Value & Flags.SkipRead) != 0;

    /// <summary>True inside a <see cref="SkipWrite"/> or <see cref="Bypass"/> scope.</summary>
    public static bool IsWriteSkipped => Volatile.Read(ref s_open) != 0 && (s_flags.Value & Flags.SkipWrite) != 0;

    /// <summary>Calls inside the scope do not read the cache: the body runs and its result is stored.</summary>
    public static IDisposable SkipRead() => Enter(Flags.SkipRead);

    /// <summary>Calls inside the scope read the cache but never store a result.</summary>
    public static IDisposable SkipWrite() => Enter(Flags.SkipWrite);

    /// <summary>Calls inside the scope neither read nor write the cache.</summary>
    public static IDisposable Bypass() => Enter(Flags.SkipRead | Flags.SkipWrite);

    private static Scope Enter(Flags flags)
    {
        Interlocked.Increment(ref s_open);
        var previous = s_flags.Value;
        s_flags.Value = previous | flags;
        return new Scope(previous);
    }

    private sealed class Scope(Flags previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                s_flags.Value = previous;
                Interlocked.Decrement(ref s_open);
            }
        }
    }
}
