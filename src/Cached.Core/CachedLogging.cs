using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached;

/// <summary>Where Cached writes its logs (cache faults that generated methods survive). Nothing is logged on a hit.</summary>
public static class CachedLogging
{
    private static ILogger s_logger = NullLogger.Instance;
    private static ILoggerFactory s_factory = NullLoggerFactory.Instance;
    private static volatile bool s_configured;

    /// <summary>The factory Cached's loggers come from; <see cref="NullLoggerFactory"/> until set.</summary>
    public static ILoggerFactory LoggerFactory
    {
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            s_logger = value.CreateLogger("Cached");
            s_factory = value;
            s_configured = value is not NullLoggerFactory;
        }
    }

    /// <summary>The factory last set (<see cref="NullLoggerFactory"/> until then), for a container that sets it back.</summary>
    internal static ILoggerFactory CurrentFactory => s_factory;

    /// <summary>
    /// The logger Cached writes to (category <c>Cached</c>); a no-op until <see cref="LoggerFactory"/> is set or
    /// <c>AddCached</c> runs. Backends and backplanes in other packages log through it too.
    /// </summary>
    public static ILogger Logger => s_logger;

    /// <summary>Whether a logger factory other than <see cref="NullLoggerFactory"/> was set.</summary>
    internal static bool IsConfigured => s_configured;

    /// <summary>
    /// While no <see cref="LoggerFactory"/> is set, the first fault of each cache that a cached method survives is also
    /// written as one line to standard error (true unless set), so that a misconfigured cache, which cached methods
    /// survive by running uncached, is seen. Set it to false to keep standard error silent.
    /// </summary>
    public static bool FirstFaultToStandardError { get; set; } = true;
}
