namespace Cached;

/// <summary>
/// Skips the cache read or write of generated cached methods for the calls made inside a scope, on this thread and
/// the async flow it starts (pycached's <c>cache_read=False</c> / <c>cache_write=False</c> keyword arguments):
/// <code>
/// using (CacheScope.SkipRead()) { service.GetUser(42); }   // runs the body, stores the fresh result
/// </code>
/// </summary>
public static class CacheScope
{
    private static readonly AsyncLocal<Flags> s_flags = new();

    [Flags]
    private enum Flags
    {
        None = 0,
        SkipRead = 1,
        SkipWrite = 2,
    }

    /// <summary>True inside a <see cref="SkipRead"/> or <see cref="Bypass"/> scope.</summary>
    public static bool IsReadSkipped => (s_flags.Value & Flags.SkipRead) != 0;

    /// <summary>True inside a <see cref="SkipWrite"/> or <see cref="Bypass"/> scope.</summary>
    public static bool IsWriteSkipped => (s_flags.Value & Flags.SkipWrite) != 0;

    /// <summary>Calls inside the scope do not read the cache: the body runs and its result is stored.</summary>
    public static IDisposable SkipRead() => Enter(Flags.SkipRead);

    /// <summary>Calls inside the scope read the cache but never store a result.</summary>
    public static IDisposable SkipWrite() => Enter(Flags.SkipWrite);

    /// <summary>Calls inside the scope neither read nor write the cache.</summary>
    public static IDisposable Bypass() => Enter(Flags.SkipRead | Flags.SkipWrite);

    private static Scope Enter(Flags flags)
    {
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
            }
        }
    }
}
