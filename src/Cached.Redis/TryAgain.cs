using StackExchange.Redis;

namespace Cached.Redis;

/// <summary>
/// Redis Cluster's TRYAGAIN: the answer to a command on several keys of one hash slot while the slot moves between
/// primaries (resharding) and one of its keys is not on the node that answers (moved already, or missing, as it may
/// have moved). The command did nothing, and the server asks the client to send it again in a moment.
/// StackExchange.Redis follows MOVED and ASK by itself, not TRYAGAIN, so the cache sends such a command again, with a
/// growing pause, until the connection's timeout from the first attempt has passed (an async call's own timeout and
/// token end it sooner); then the last TRYAGAIN fails the call, as it would have at once. Reads do not come here: they
/// ask their keys one by one instead (RedisCache.SlotReads.cs).
/// </summary>
/// <remarks>
/// Only commands on several keys can get it, and only on a cluster: a command on one key is redirected, never asked to
/// wait. So callers wrap what they send only then, and a standalone server or a one-key command pays nothing. What is
/// wrapped is sent again whole: a batch write's fence moves with its write, as the first attempt sent them.
/// </remarks>
internal static class TryAgain
{
    private const int FirstPauseMilliseconds = 5;
    private const int LongestPauseMilliseconds = 200;

    /// <summary>Whether <paramref name="exception"/> is Redis asking for the command again.</summary>
    public static bool Is(Exception exception)
        => exception is RedisServerException server && server.Message.StartsWith("TRYAGAIN", StringComparison.Ordinal);

    /// <summary>Sends <paramref name="send"/>, again after each TRYAGAIN, within the connection's timeout.</summary>
    public static T Send<TState, T>(IDatabase db, TState state, Func<IDatabase, TState, T> send)
    {
        var deadline = Environment.TickCount64 + db.Multiplexer.TimeoutMilliseconds;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return send(db, state);
            }
            catch (Exception ex) when (Is(Unwrapped(ex)) && Pause(attempt, deadline) is { } pause)
            {
                Thread.Sleep(pause);
            }
        }
    }

    /// <summary>
    /// Sends <paramref name="send"/>, again after each TRYAGAIN, within the connection's timeout and until
    /// <paramref name="callDeadline"/> (an <see cref="Environment.TickCount64"/> instant: the cache's <c>Timeout</c> from
    /// the start of the call, which may send several commands one after another), and never once
    /// <paramref name="cancellationToken"/> is cancelled: the pipeline stops waiting for an async command at its timeout
    /// or its caller's token, and a write sent again after that would land after whatever its caller did next (a later
    /// write of the same key, say).
    /// </summary>
    public static async Task<T> SendAsync<TState, T>(IDatabase db, TState state, Func<IDatabase, TState, Task<T>> send, long? callDeadline, CancellationToken cancellationToken)
    {
        var deadline = Environment.TickCount64 + db.Multiplexer.TimeoutMilliseconds;
        if (callDeadline < deadline)
        {
            deadline = callDeadline.Value;
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await send(db, state).ConfigureAwait(false);
            }
            catch (Exception ex) when (Is(Unwrapped(ex)) && Pause(attempt, deadline) is { } pause)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>The pause before attempt <paramref name="attempt"/> + 1 (5 ms, doubling to 200 ms), or null once it would end past the deadline.</summary>
    private static TimeSpan? Pause(int attempt, long deadline)
    {
        var milliseconds = Math.Min(FirstPauseMilliseconds << Math.Min(attempt, 6), LongestPauseMilliseconds);
        return Environment.TickCount64 + milliseconds < deadline ? TimeSpan.FromMilliseconds(milliseconds) : null;
    }

    // A sync batch waits for its slots' commands together (RedisSlots.WaitAll), which throws the first one's own
    // exception; Task.WhenAll's await does too. An AggregateException is looked into all the same.
    private static Exception Unwrapped(Exception exception)
        => exception is AggregateException { InnerExceptions.Count: > 0 } aggregate ? aggregate.InnerExceptions[0] : exception;
}
