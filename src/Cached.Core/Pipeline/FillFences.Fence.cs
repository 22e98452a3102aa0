namespace Cached.Pipeline;

internal sealed partial class FillFences
{
    /// <summary>
    /// One fence: how often it moved, how many fills hold it (keyed fences only: -1 once retired), and the gate under
    /// which a fill stores and an invalidation moves it. A striped fence (<see cref="Stripe"/> 0 or more) is shared by
    /// the keys whose hash picks it and lives as long as its cache; a keyed one (<see cref="Stripe"/> -1) serves one
    /// key while fills of it are open.
    /// </summary>
    /// <remarks>
    /// Holding and letting go are lock-free, and the gate costs nothing until two parties want it at once: it counts
    /// its holder and its waiters in one integer, and only a party that finds it taken creates the semaphore it waits
    /// on (a benaphore).
    /// </remarks>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "A SemaphoreSlim whose wait handle is never asked for holds nothing to dispose.")]
    internal sealed class Fence(int stripe)
    {
        public long Moves;

        // Striped only: the hashes of the keys of the last RecentMoves moves, move n in slot n % RecentMoves.
        private readonly uint[]? _recentKeys = stripe >= 0 ? new uint[RecentMoves] : null;
        private int _holders;
        private int _gate;
        private SemaphoreSlim? _waiters;

        /// <summary>The fence's place among its cache's striped fences (batches take gates in this order); -1 for a keyed fence.</summary>
        public int Stripe { get; } = stripe;

        /// <summary>Moves the fence for a write of the key with hash <paramref name="keyHash"/>; under the gate.</summary>
        public void NoteMove(uint keyHash)
        {
            if (_recentKeys is { } recent)
            {
                // Written before the count that makes it visible (a full fence).
                Volatile.Write(ref recent[(int)(Moves % RecentMoves)], keyHash);
            }

            Interlocked.Increment(ref Moves);
        }

        /// <summary>Moves the fence for a clear: every fill pending on it is refused, whatever its key; under the gate.</summary>
        public void NoteMoveOfEveryKey() => Interlocked.Add(ref Moves, RecentMoves);

        /// <summary>The hash of the key of move <paramref name="move"/>, one of the last <see cref="RecentMoves"/>.</summary>
        public uint KeyHashOfMove(long move) => Volatile.Read(ref _recentKeys![(int)(move % RecentMoves)]);

        /// <summary>Holds a keyed fence for a fill; false when it is retired, and a new fence must take its place.</summary>
        public bool TryHold()
        {
            while (true)
            {
                var holders = Volatile.Read(ref _holders);
                if (holders < 0)
                {
                    return false;
                }

                if (Interlocked.CompareExchange(ref _holders, holders + 1, holders) == holders)
                {
                    return true;
                }
            }
        }

        /// <summary>Lets go of a fill's hold on a keyed fence; true when it was the last and the fence is now retired.</summary>
        public bool LetGo()
        {
            // The one holder, as after most misses, retires the fence in one step.
            if (Interlocked.CompareExchange(ref _holders, -1, 1) == 1)
            {
                return true;
            }

            return Interlocked.Decrement(ref _holders) == 0 && Interlocked.CompareExchange(ref _holders, -1, 0) == 0;
        }

        /// <summary>Takes the gate, waiting for its holder to leave.</summary>
        public void Enter()
        {
            if (Interlocked.Increment(ref _gate) != 1)
            {
                Waiters.Wait();
            }
        }

        /// <summary>
        /// Takes the gate, waiting without a thread for its holder to leave. A caller cancelled while it waits leaves
        /// without the gate; the turn it queued for is passed on when it comes.
        /// </summary>
        public ValueTask EnterAsync(CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled(cancellationToken);
            }

            return Interlocked.Increment(ref _gate) == 1 ? default : WaitTurnAsync(cancellationToken);
        }

        /// <summary>Leaves the gate, handing it to the next waiter if any.</summary>
        public void Exit()
        {
            if (Interlocked.Decrement(ref _gate) != 0)
            {
                Waiters.Release();
            }
        }

        private SemaphoreSlim Waiters
        {
            get
            {
                var waiters = Volatile.Read(ref _waiters);
                if (waiters is null)
                {
                    var created = new SemaphoreSlim(0);
                    waiters = Interlocked.CompareExchange(ref _waiters, created, null) ?? created;
                }

                return waiters;
            }
        }

        private async ValueTask WaitTurnAsync(CancellationToken cancellationToken)
        {
            // The turn itself is not cancellable: the count already includes this caller, so its turn will come.
            var turn = Waiters.WaitAsync(CancellationToken.None);
            try
            {
                await TokenWait.WaitAsync(turn, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _ = turn.ContinueWith(static (_, fence) => ((Fence)fence!).Exit(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }
        }
    }
}
