using Cached.Pipeline;
using Cached.Resilience;

namespace Cached.Runtime;

public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// What a call's read of a <see cref="BaseCache"/> answers, in the read's own frame (<see cref="BaseCache.ReadThenAsync{T, TEnd, TOut}"/>):
    /// the value found, else the miss. A fault of the cache, not the caller's own cancellation, is logged and the call
    /// misses as if the entry were not there (fail-open); the miss then does not trust that no fill completed meanwhile.
    /// </summary>
    private readonly struct MissAfterRead<TState>(
        CachedMethod<TResult> method,
        ICache cache,
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<TResult>> body,
        Func<TState, TResult, bool>? skipWhen,
        long completions,
        FillPolicy policy,
        CancellationToken cancellationToken) : IEntryReadEnd<TResult, TResult>
    {
        public TResult Found(TResult? value)
        {
            method.NoteAnswer(cache);
            return value!;
        }

        public ValueTask<TResult> Otherwise(Exception? fault)
        {
            if (fault is null)
            {
                method.NoteAnswer(cache);
                return method.MissAsync(cache, key, state, body, skipWhen, completions, policy, opened: null, cancellationToken);
            }

            method.ReadFailed(cache, fault, key);
            return method.MissAsync(cache, key, state, body, skipWhen, seen: null, policy, opened: null, cancellationToken);
        }

        public bool Takes(Exception fault) => IsFault(fault, cancellationToken);

        public CommandOutcome Outcome(CacheResult<TResult> result) => BaseCache.ReadOutcome(result);
    }
}
