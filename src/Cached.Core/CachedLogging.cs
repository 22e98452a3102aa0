using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached;

/// <summary>Where Cached writes its logs (cache faults that generated methods survive). Nothing is logged on a hit.</summary>
public static class CachedLogging
{
    private static ILogger s_logger = NullLogger.Instance;

    /// <summary>The factory Cached's loggers come from; <see cref="NullLoggerFactory"/> until set.</summary>
    public static ILoggerFactory LoggerFactory
    {
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            s_logger = value.CreateLogger("Cached");
        }
    }

    /// <summary>
    /// The logger Cached writes to (category <c>Cached</c>); a no-op until <see cref="LoggerFactory"/> is set or
    /// <c>AddCached</c> runs. Backends and backplanes in other packages log through it too.
    /// </summary>
    public static ILogger Logger => s_logger;
}
