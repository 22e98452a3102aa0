using System.Collections.Concurrent;
using Cached.Capabilities;
using Cached.Pipeline;

namespace Cached.Runtime;

/// <summary>One batch's flight on the board of <see cref="MultiCachedMethod{TKey, TValue}"/> (see <c>MultiCachedMethod.Flights.cs</c>).</summary>
public sealed partial class MultiCachedMethod<TKey, TValue>
{
    /// <summary>
    /// The keys one batch computes (some led for other batches too) and the keys it waits for. Only the batch that
    /// made it writes its lists; other batches only join and read the answers.
    /// </summary>
    private sealed class BatchFlight(ICache cache, int capacity)
    {
        private readonly List<string> _registered = new(capacity);
        private TaskCompletionSource<BatchAnswers?>? _answers;
        private bool _landed;
        private bool _left;
        // The batch's own answers from its landing until it leaves: those who join meanwhile get a copy of them.
        private Dictionary<TKey, TValue>? _landedAnswers;
        private bool _fillsOpen;
        private bool _tagsMoved;

        /// <summary>The cache the keys are computed for.</summary>
        public ICache Cache { get; } = cache;

        /// <summary>The keys this batch's body computes, and their cache keys.</summary>
        public List<TKey> Owned { get; } = new(capacity);

        /// <summary>The cache keys of <see cref="Owned"/>, in the same order.</summary>
        public List<string> OwnedCacheKeys { get; } = new(capacity);

        /// <summary>The keys other batches compute for this one, with their answers to come; null when there are none (the usual case).</summary>
        public List<(TKey Key, string CacheKey, Task<BatchAnswers?> Answers)>? Waits { get; private set; }

        /// <summary>The fills the batch opened for its keys, once open: they tell an invalidation that overtook it.</summary>
        public Dictionary<string, FillTicket>? Fills { get; private set; }

        /// <summary>Whether an invalidation in this process came after the fill of <paramref name="cacheKey"/> opened.</summary>
        public bool IsOvertaken(string cacheKey)
            => Volatile.Read(ref _fillsOpen) && Fills is { } fills && fills.TryGetValue(cacheKey, out var fill) && !fill.IsCurrentInProcess;

        /// <summary>
        /// Refuses the store of <paramref name="cacheKey"/>'s fill, once a batch that skips the read has taken the key's
        /// place: a fill not open yet opens after that batch began, and stores as usual.
        /// </summary>
        public void Supersede(string cacheKey)
        {
            if (Volatile.Read(ref _fillsOpen) && Fills is { } fills && fills.TryGetValue(cacheKey, out var fill) && fill.IsCurrentInProcess)
            {
                FillFences.Supersede(fill.Local);
            }
        }

        /// <summary>
        /// Marks every key of the flight as overtaken: an invalidation of one of their tags came while the body ran (the
        /// tags could not be retained), so those waiting compute the keys anew rather than take these answers.
        /// </summary>
        public void Overtake() => _tagsMoved = true;

        /// <summary>Publishes the fills to the batches that look at this flight.</summary>
        public void Opened(Dictionary<string, FillTicket>? fills)
        {
            Fills = fills;
            Volatile.Write(ref _fillsOpen, true);
        }

        public void Own(TKey key, string cacheKey, bool registered)
        {
            Owned.Add(key);
            OwnedCacheKeys.Add(cacheKey);
            if (registered)
            {
                _registered.Add(cacheKey);
            }
        }

        public void Wait(TKey key, string cacheKey, Task<BatchAnswers?> answers) => (Waits ??= []).Add((key, cacheKey, answers));

        /// <summary>
        /// Asks to be answered: the answers to come while the body runs; once it has landed, and until it leaves, a
        /// copy of them made now, so that a key an invalidation overtook by now is marked for computing anew. False
        /// once it has left, or when it failed.
        /// </summary>
        public bool TryJoin(out Task<BatchAnswers?> answers)
        {
            lock (this)
            {
                if (_left || (_landed && _landedAnswers is null))
                {
                    answers = null!;
                    return false;
                }

                if (_landed)
                {
                    answers = Task.FromResult<BatchAnswers?>(Copy(_landedAnswers!));
                    return true;
                }

                _answers ??= new TaskCompletionSource<BatchAnswers?>(TaskCreationOptions.RunContinuationsAsynchronously);
                answers = _answers.Task;
                return true;
            }
        }

        /// <summary>Whether the flight has left the board (<see cref="Leave"/>): nobody can join it any more.</summary>
        public bool HasLeft => Volatile.Read(ref _left);

        /// <summary>
        /// Hands the body's answers to whoever joined (a copy: the caller's own dictionary is theirs to change) and keeps
        /// them for those who join until <see cref="Leave"/>, the keys staying on the board; on a cache without fenced
        /// fills, which could not tell those late joiners of an invalidation, it leaves the board at once. Later calls do
        /// nothing.
        /// </summary>
        public void Land(ConcurrentDictionary<string, BatchFlight> flying, Dictionary<TKey, TValue> answered)
        {
            TaskCompletionSource<BatchAnswers?>? joined;
            BatchAnswers? answers;
            lock (this)
            {
                if (_landed)
                {
                    return;
                }

                _landed = true;
                joined = _answers;
                answers = joined is null ? null : Copy(answered);
                if (Volatile.Read(ref _fillsOpen) && Fills is { Count: > 0 })
                {
                    _landedAnswers = answered;
                }
                else
                {
                    LeaveBoard(flying);
                }
            }

            joined?.TrySetResult(answers);
        }

        /// <summary>
        /// Ends the flight: its keys leave the board, and a flight that never landed (its body failed) answers whoever
        /// joined with null. Later calls do nothing.
        /// </summary>
        public void Leave(ConcurrentDictionary<string, BatchFlight> flying)
        {
            TaskCompletionSource<BatchAnswers?>? failed;
            lock (this)
            {
                if (_left)
                {
                    return;
                }

                failed = _landed ? null : _answers;
                _landed = true;
                LeaveBoard(flying);
            }

            failed?.TrySetResult(null);
        }

        /// <summary>
        /// Takes <paramref name="cacheKey"/>, which a second read found stored, off the board: its fill opened before that
        /// read, so those who joined for it still learn of an invalidation, but a batch that misses it later reads it.
        /// </summary>
        public void Unboard(ConcurrentDictionary<string, BatchFlight> flying, string cacheKey)
        {
            lock (this)
            {
                if (!_left && _registered.Remove(cacheKey))
                {
                    flying.TryRemove(new KeyValuePair<string, BatchFlight>(cacheKey, this));
                }
            }
        }

        private void LeaveBoard(ConcurrentDictionary<string, BatchFlight> flying)
        {
            foreach (var cacheKey in _registered)
            {
                flying.TryRemove(new KeyValuePair<string, BatchFlight>(cacheKey, this));
            }

            Volatile.Write(ref _left, true);
            _landedAnswers = null;
        }

        private BatchAnswers Copy(Dictionary<TKey, TValue> answered)
        {
            var answers = new BatchAnswers(Owned.Count);
            for (var i = 0; i < Owned.Count; i++)
            {
                var cacheKey = OwnedCacheKeys[i];
                if (_tagsMoved || IsOvertaken(cacheKey))
                {
                    // Computed before a change of the key that those waiting may have seen: they compute it anew.
                    (answers.Overtaken ??= new(StringComparer.Ordinal)).Add(cacheKey);
                }
                else if (answered.TryGetValue(Owned[i], out var value))
                {
                    answers.Values[cacheKey] = value;
                }
            }

            return answers;
        }
    }

    /// <summary>What a batch answers those waiting for its keys: the values by cache key, and the keys they must compute anew.</summary>
    private sealed class BatchAnswers(int capacity)
    {
        public Dictionary<string, TValue> Values { get; } = new(capacity, StringComparer.Ordinal);

        public HashSet<string>? Overtaken { get; set; }
    }
}
