using System.ComponentModel;
using System.Runtime.ExceptionServices;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>
/// The deletes of an async [InvalidateCache] method that names several methods, all started before any is awaited.
/// During an outage each delete waits out the cache's timeout: side by side they cost one timeout, not one per method.
/// Used by generated code.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class Invalidations
{
    /// <summary>
    /// Awaits each of <paramref name="invalidations"/>, which the caller started (by calling them) before this call, so
    /// they are in flight together. Each is awaited, whatever the others did; the first exception is rethrown after.
    /// </summary>
    /// <param name="invalidations">The started invalidations (<see cref="CachedMethod{TResult}.InvalidateAsync"/>,
    /// <see cref="MultiCachedMethod{TKey, TValue}.InvalidateAsync{TState}"/>), which log and survive cache faults themselves.</param>
    public static async ValueTask WhenAll(params ValueTask[] invalidations)
    {
        ArgumentNullException.ThrowIfNull(invalidations);
        ExceptionDispatchInfo? first = null;
        foreach (var invalidation in invalidations)
        {
            try
            {
                await invalidation.ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Not thrown at once: the later invalidations are still awaited, so none is left unobserved.
                first ??= ExceptionDispatchInfo.Capture(ex);
            }
        }

        first?.Throw();
    }

    /// <summary>
    /// The caller's wait for an invalidation that its token does not stop (the invalidating method's body has made its
    /// change by then): a caller whose token cancels leaves at once with its cancellation, and the invalidation goes on
    /// and lands. The invalidation logs its own faults, so what is left behind never throws unobserved.
    /// </summary>
    internal static ValueTask Awaited(ValueTask invalidation, CancellationToken cancellationToken)
        => invalidation.IsCompleted || !cancellationToken.CanBeCanceled
            ? invalidation
            : new ValueTask(TokenWait.WaitAsync(invalidation.AsTask(), cancellationToken));
}
