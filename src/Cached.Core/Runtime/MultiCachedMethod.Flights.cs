using System.Collections.Concurrent;
using Cached.Capabilities;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>
/// Single flight across overlapping batches: each missing key is computed by one batch of the method at a time in this
/// process. A batch leads the keys no other batch is computing and asks its body for those only; for a key another
/// batch is computing it waits for that batch's answer. Waits cannot form a cycle: a batch lands its flight (hands its
/// answers to those waiting) as soon as its body has answered, before it stores and before it waits for anyone, and
/// the calls a batch body makes of its own method join nobody (they would wait for themselves) and compute instead.
/// (A batch with tags lands only once it has retained them and stored.) A landed batch stays on the board until it has
/// stored: a batch whose read missed while it stored takes its answers at once rather than compute the keys again; one
/// that boards after it left reads the keys again first when a batch stored a key of theirs since its read began
/// (<see cref="FillCompletions"/>).
/// A batch whose body failed answers nobody: each batch waiting for it computes those keys itself, so one caller's
/// failure or cancellation never becomes another's. (With fail-safe, a body that failed for keys that all have a last
/// value answers with them, to those waiting too, as the passengers of a one-key flight get them.) Keys an
/// invalidation overtook (a write or delete of the key, or of a tag, in this process) are computed anew the same way.
/// </summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    private readonly ConcurrentDictionary<string, BatchFlight> _flying = new(StringComparer.Ordinal);
    private int _waiting;

    /// <summary>The calls waiting now for another batch's answers (tests use it to know a wait has begun).</summary>
    internal int WaitingBatches => Volatile.Read(ref _waiting);

    /// <summary>
    /// Leads the flights of the <paramref name="missing"/> keys no other batch is computing, and joins the others'
    /// unless <paramref name="join"/> is false or this is the method's own body calling; null without missing keys.
    /// </summary>
    private BatchFlight? Lead<TState>(ICache cache, List<TKey> missing, TState state, Func<TState, TKey, string> cacheKeyOf, bool join)
    {
        if (missing.Count == 0)
        {
            return null;
        }

        var flight = new BatchFlight(cache, missing.Count);
        // A call that skips reading wants a value computed after it began, not one another batch is computing: it takes
        // that key's place on the board, and the older batch does not store the key over it.
        var forced = CacheScope.IsReadSkipped;
        join = join && !forced && !BatchBodies.Runs(this);
        // A call that skips writing opens no fills, so nothing would tell those waiting for it that a key was invalidated
        // while it computed: it computes for itself alone (calls of one key inside SkipWrite still watch their fill).
        var lead = !CacheScope.IsWriteSkipped;
        try
        {
            foreach (var key in missing)
            {
                Board(flight, key, cacheKeyOf(state, key), cache, join, lead, forced);
            }
        }
        catch
        {
            // A key builder that throws now (it answered for the read): the keys boarded so far must not wait forever.
            flight.Leave(_flying);
            throw;
        }

        return flight;
    }

    /// <summary>
    /// Boards <paramref name="key"/>: led by <paramref name="flight"/> when no other batch computes it, or when the one
    /// that does was overtaken by an invalidation in this process (a call never waits for a computation older than a
    /// change it could see); waited for when joining is allowed; otherwise computed here without taking the board, as
    /// every key is by a batch that may not <paramref name="lead"/>. A <paramref name="forced"/> batch (one that skips the
    /// read) takes the key's place from the batch computing it, whose fill of the key then stores nothing.
    /// </summary>
    private void Board(BatchFlight flight, TKey key, string cacheKey, ICache cache, bool join, bool lead, bool forced)
    {
        while (true)
        {
            BatchFlight? other;
            if (!lead)
            {
                other = _flying.TryGetValue(cacheKey, out var flying) && !flying.IsOvertaken(cacheKey) ? flying : null;
                if (other is null || !join || !ReferenceEquals(other.Cache, cache) || !other.TryJoin(out var joined))
                {
                    flight.Own(key, cacheKey, registered: false);
                    return;
                }

                flight.Wait(key, cacheKey, joined);
                return;
            }

            other = _flying.GetOrAdd(cacheKey, flight);
            if (ReferenceEquals(other, flight))
            {
                flight.Own(key, cacheKey, registered: true);
                return;
            }

            if (other.IsOvertaken(cacheKey) || (forced && ReferenceEquals(other.Cache, cache)))
            {
                if (_flying.TryUpdate(cacheKey, flight, other))
                {
                    if (forced)
                    {
                        // Its body began before this call: what it computed for the key must not overwrite this call's value.
                        other.Supersede(cacheKey);
                    }

                    flight.Own(key, cacheKey, registered: true);
                    return;
                }

                continue;
            }

            if (other.HasLeft)
            {
                // It left the board as this call found it: the key is free to lead (or another batch leads it now).
                continue;
            }

            if (join && ReferenceEquals(other.Cache, cache) && other.TryJoin(out var answers))
            {
                flight.Wait(key, cacheKey, answers);
            }
            else
            {
                // Another cache's flight (the method's cache was replaced), or one that failed: computed here.
                flight.Own(key, cacheKey, registered: false);
            }

            return;
        }
    }

    /// <summary>
    /// Whether the body is called: not when other batches compute every missing key (or a second read found the rest),
    /// but still with no key at all when the caller asked for none (as aiocache calls it).
    /// </summary>
    private static bool AsksBody(BatchFlight? flight, List<TKey> own, UncachedKeys? uncached) => flight is null || own.Count > 0 || uncached is not null;

    /// <summary>Hands this batch's answers to the batches waiting for its keys, and to those that join until it leaves.</summary>
    private void Land(BatchFlight? flight, Dictionary<TKey, TValue> answered) => flight?.Land(_flying, answered);

    /// <summary>
    /// Takes the batch's keys off the board, once it has stored (or failed: the batches waiting for it then compute
    /// its keys themselves). Called before its fills close: until then an invalidation of a key still shows in them.
    /// </summary>
    private void Leave(BatchFlight? flight) => flight?.Leave(_flying);

    /// <summary>
    /// Lands at once a batch whose entries carry no tags; one with tags lands after it has retained them, which tells
    /// whether an invalidation of a tag overtook the computation (<see cref="BatchFlight.Overtake"/>).
    /// </summary>
    private void LandBeforeTags(BatchFlight? flight, object? tags, Dictionary<TKey, TValue> answered)
    {
        if (tags is null)
        {
            Land(flight, answered);
        }
    }

    /// <summary>
    /// Takes the answers of the batches this one waits for; the keys of one whose body failed are computed here, in a
    /// call of their own that waits for nobody.
    /// </summary>
    private Dictionary<TKey, TValue> TakeOthers<TState>(BatchFlight flight, Dictionary<TKey, TValue> result, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, IEnumerable<KeyValuePair<TKey, TValue>>?> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]>? tagsOf)
    {
        List<TKey>? left = null;
        Interlocked.Increment(ref _waiting);
        try
        {
            foreach (var (key, cacheKey, answers) in flight.Waits!)
            {
                // The other batch lands before it waits for anyone, so this wait ends with its body.
                Take(key, cacheKey, answers.GetAwaiter().GetResult(), result, ref left);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return left is null ? result : Merge(result, Run(CurrentCache, left, CacheKeys(left, state, cacheKeyOf), uncached: null, state, cacheKeyOf, body, skipWhen, tagsOf, join: false));
    }

    /// <inheritdoc cref="TakeOthers"/>
    private async ValueTask<Dictionary<TKey, TValue>> TakeOthersAsync<TState>(BatchFlight flight, Dictionary<TKey, TValue> result, TState state, Func<TState, TKey, string> cacheKeyOf, Func<TState, List<TKey>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?>> body, Func<TState, TKey, TValue, bool>? skipWhen, Func<TState, TKey, string[]>? tagsOf, CancellationToken cancellationToken)
    {
        List<TKey>? left = null;
        Interlocked.Increment(ref _waiting);
        try
        {
            foreach (var (key, cacheKey, answers) in flight.Waits!)
            {
                Take(key, cacheKey, await TokenWait.WaitAsync(answers, cancellationToken).ConfigureAwait(false), result, ref left);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return left is null ? result : Merge(result, await RunAsync(CurrentCache, left, CacheKeys(left, state, cacheKeyOf), uncached: null, state, cacheKeyOf, body, skipWhen, tagsOf, join: false, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Calls a sync body, noted in this flow while it runs (see <see cref="BatchBodies"/>), with a list of its own: the
    /// body may sort, shrink or clear what it is given (a work queue), and the runtime reads its own list again after
    /// the body returns (to answer the batches waiting on this one, fail-safe's cover, which keys were asked).
    /// </summary>
    private IEnumerable<KeyValuePair<TKey, TValue>>? CallBody<TState>(Func<TState, List<TKey>, IEnumerable<KeyValuePair<TKey, TValue>>?> body, TState state, List<TKey> keys)
    {
        var outer = BatchBodies.Enter(this);
        try
        {
            return body(state, [.. keys]);
        }
        finally
        {
            BatchBodies.Exit(outer);
        }
    }

    /// <summary>Starts an async body, noted in its own flow (its awaits carry the note; the caller's flow does not), with a list of its own as <see cref="CallBody"/>.</summary>
    private ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?> StartBody<TState>(Func<TState, List<TKey>, CancellationToken, ValueTask<IEnumerable<KeyValuePair<TKey, TValue>>?>> body, TState state, List<TKey> keys, CancellationToken cancellationToken)
    {
        var entered = BatchBodies.EnterFlow(this);
        try
        {
            return body(state, [.. keys], cancellationToken);
        }
        finally
        {
            BatchBodies.ExitFlow(entered);
        }
    }

    private static void Take(TKey key, string cacheKey, BatchAnswers? answers, Dictionary<TKey, TValue> result, ref List<TKey>? left)
    {
        if (answers is null || answers.Overtaken?.Contains(cacheKey) == true)
        {
            (left ??= []).Add(key);
        }
        else if (answers.Values.TryGetValue(cacheKey, out var value))
        {
            // A key the other body did not return is not answered, as one this batch's body left out.
            result[key] = value;
        }
    }

    private static Dictionary<TKey, TValue> Merge(Dictionary<TKey, TValue> result, Dictionary<TKey, TValue> more)
    {
        foreach (var (key, value) in more)
        {
            result[key] = value;
        }

        return result;
    }
}
