using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>One resilient call, or one background refresh, as its factory run and its waits see it.</summary>
public sealed partial class CachedMethod<TResult>
{
    private class ResilientCall(ICache cache, ReadThroughs host, string key, EntryPolicy policy)
    {
        public ICache Cache { get; } = cache;

        public ReadThroughs Host { get; } = host;

        public string Key { get; } = key;

        public EntryPolicy Policy { get; } = policy;

        /// <summary>The entry read past its time to live and still kept by the backend: fail-safe's last value.</summary>
        public Stamped<TResult>? Last { get; set; }

        /// <summary>
        /// <see cref="Last"/> while fail-safe's window for it lasts; <c>null</c> once it has ended, which may be while
        /// the factory runs: a fallback is decided when it is needed, not when the entry was read.
        /// </summary>
        public Stamped<TResult>? KeptLast => Last is { } last && Stamping.IsKept(last) ? last : null;

        /// <summary>Whether the last fresh hit this call read was a throttled last value (fail-safe's, kept fresh for the throttle).</summary>
        public bool HitThrottled { get; set; }

        /// <summary>The flight this call leads; set when it leads one.</summary>
        public Flight? Flight { get; set; }

        /// <summary>The completion count noted before a clean miss (<see cref="FillCompletions.Note"/>); null after a fault.</summary>
        public long? Seen { get; set; }

        /// <summary>True for an eager refresh, which runs for nobody's call.</summary>
        public bool Refreshing { get; init; }

        /// <summary>The fresh value an eager refresh started from.</summary>
        public TResult Current { get; init; } = default!;

        /// <summary>The token the factory runs with: the cache's stop, and the leading caller's own while it waits.</summary>
        public CancellationToken FactoryToken { get; set; } = host.Background.Stopping;

        /// <summary>Whether <paramref name="exception"/> is the factory's own cancellation (its token's), not a failure.</summary>
        public bool Cancelled(Exception exception) => exception is OperationCanceledException && FactoryToken.IsCancellationRequested;

        /// <summary>The versions of the call's tags read beside the entry, for the observation before the factory.</summary>
        public long[]? Prefetched { get; set; }

        /// <summary>The tag versions observed before the factory ran, which the stored entry carries.</summary>
        public Tags.TagStamp? Observed { get; set; }

        /// <summary>The cache's count of tag invalidations when the flight's run began, before anything it returns was read or computed.</summary>
        public long ObservedEpoch { get; set; }

        /// <summary>
        /// A tag invalidation in this process came after the run began: the value is returned to this call, but a
        /// caller that joined the flight may have begun after the invalidation, so it computes anew.
        /// </summary>
        public bool TagsOvertaken => Policy.Tagged && Tags.TagStore.Of(Cache).Epoch != ObservedEpoch;

        /// <summary>Notes the count of tag invalidations as the run begins.</summary>
        public void NoteEpoch()
        {
            if (Policy.Tagged)
            {
                ObservedEpoch = Tags.TagStore.Of(Cache).Epoch;
            }
        }

        /// <summary>The call's tags: the options', or those the generated method builds from the call's arguments; <c>null</c> for none.</summary>
        public string[]? TagNames => Policy.Tagged ? _tagNames ??= BuildTags() : null;

        private string[]? _tagNames;

        protected virtual string[]? BuildTags() => Policy.Tags;
    }

    private sealed class ResilientCall<TState>(ICache cache, ReadThroughs host, string key, TState state, EntryPolicy policy)
        : ResilientCall(cache, host, key, policy)
    {
        public TState State { get; } = state;

        public Func<TState, TResult>? SyncBody { get; init; }

        public Func<TState, CancellationToken, ValueTask<TResult>>? AsyncBody { get; init; }

        public Func<TState, TResult, bool>? SkipWhen { get; init; }

        // A template that formats to nothing adds no tag: the call must not fail on its cache's account.
        protected override string[]? BuildTags()
            => Policy.TagSource is Func<TState, string[]> build ? Tags.TagNames.Lenient(build(State)) : Policy.Tags;
    }
}
