using System.Net.Sockets;
using Cached.Plugins;

namespace Cached.Distributed;

/// <summary>
/// Turns an <see cref="Microsoft.Extensions.Caching.Distributed.IDistributedCache"/> provider's exceptions into Cached's,
/// without knowing the provider: its own exception types are not ours to reference.
/// </summary>
internal static class DistributedErrors
{
    /// <summary>The exception to throw instead of <paramref name="exception"/>, or null to let it through unchanged.</summary>
    public static Exception? Translate(Exception exception, string key, CacheCommand command) => exception switch
    {
        // Cancellations, timeouts, our own errors and refusals, and argument errors keep their meaning.
        OperationCanceledException or TimeoutException or CacheException or NotSupportedException or ArgumentException or ObjectDisposedException => null,
        _ => new CacheBackendException(
            $"The distributed cache failed {command} on '{key}': {exception.Message}", exception, unreachable: IsConnectionFailure(exception)),
    };

    // A provider reports a lost server in its own words; a socket or I/O error below it, or an exception its client
    // names a connection failure (StackExchange.Redis's RedisConnectionException, for one), is what the name says.
    private static bool IsConnectionFailure(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is SocketException or IOException || current.GetType().Name.EndsWith("ConnectionException", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
