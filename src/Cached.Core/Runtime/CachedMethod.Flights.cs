using Cached.Capabilities;
using Cached.Pipeline;
using Cached.Resilience;

namespace Cached.Runtime;

/// <summary>
/// The flights of a cached method: one call of the body per key that the callers of that key share, and the rules
/// for boarding one after an invalidation.
/// </summary>
public sealed partial class CachedMethod<TResult>
{
    /// <summary>
    /// Whether <paramref name="cache"/> is being disposed: the flights it cancelled may stay on the board while bodies
    /// that ignore their token run on, so a caller that met one cancelled leaves instead of joining it again.
    /// </summary>
    private static bool IsStopping(ICache cache) => ReadThroughs.Of(cache).Background.IsStopping;

    /// <summary>
    /// Boards the flight of its key: the one already under way, or <paramref name="flight"/> as its leader. A flight
    /// that an invalidation in this process has overtaken takes no new passengers, nor does one that every caller left
    /// (<see cref="Flight.IsAbandoned"/>), nor any flight for a call that skips the read (<see cref="CacheScope.SkipRead"/>): a call never joins a computation
    /// older than itself that it cannot trust. The flight it replaces stores nothing afterwards (<see cref="Flight.Supersede"/>),
    /// so that a body that began earlier, with older data, never overwrites the newer flight's value; a fill its caller
    /// opened before boarding is then refused too, and is opened anew (<see cref="FillAfterBoarding"/>). A call that
    /// stores nothing (<see cref="CacheScope.SkipWrite"/>, <see cref="CacheScope.Bypass"/>) never boards: nobody waits
    /// for its value, and it replaces nobody's.
    /// </summary>
    private Flight Board(Flight flight)
    {
        if (CacheScope.IsWriteSkipped)
        {
            // A call that stores nothing (SkipWrite, Bypass) leads no flight on the board: a caller that waited for it
            // would get a value nobody stored. It may join one under way, if it reads; otherwise it computes alone.
            return !CacheScope.IsReadSkipped && _flights.Find(flight.Key) is Flight current && !current.IsOvertaken && !current.IsAbandoned
                ? current
                : flight;
        }

        while (true)
        {
            var current = (Flight)_flights.GetOrAdd(flight);
            if (current == flight)
            {
                return flight;
            }

            if (!CacheScope.IsReadSkipped && !current.IsOvertaken && !current.IsAbandoned)
            {
                return current;
            }

            if (_flights.TryReplace(current, flight))
            {
                // Its body may run on (nobody waits for it, or a call that skips the read would not wait for it): it
                // must not store over this newer flight's value, so its key's fence moves. An invalidation overtook an
                // overtaken one's fill already, and moving the fence again would refuse fills opened since, as
                // the one a two-level read opened for this very caller.
                if (!current.IsOvertaken)
                {
                    current.Supersede();
                    flight.MovedFence = true;
                }

                return flight;
            }
        }
    }

    /// <summary>
    /// The fill a leader's read opened before it boarded (a two-level cache's), unless boarding moved the key's fence
    /// (<see cref="Flight.MovedFence"/>), which refused it: then it is given up, and the leader opens its fill anew.
    /// </summary>
    private static FillTicket? FillAfterBoarding(Flight flight, FillTicket? opened)
    {
        if (opened is null || !flight.MovedFence)
        {
            return opened;
        }

        opened.Forgo();
        return null;
    }

    /// <summary>
    /// Ends a flight's stay on the board, unless a newer flight of its key has taken its place. Its leader may call
    /// this twice (before the last look at the fence, and again on the way out); the board is searched once.
    /// </summary>
    private void Land(Flight flight)
    {
        if (!flight.Landed)
        {
            flight.Landed = true;
            _flights.TryRemove(flight);
        }
    }

    /// <summary>
    /// What a flight whose leader could not store its result answers with: its fill was refused because a write,
    /// another fill (another process's, say) or an invalidation of the key came after the fill opened. When the cache
    /// now holds a value, that value stands, so every caller of the flight, its leader included, gets it and nobody
    /// computes again: one flight never answers its callers with two values. When it holds none (an invalidation), the
    /// flight is stale: the leader keeps its own result and each waiter computes anew. A call that skips reads keeps
    /// its own result (a forced refresh never answers with what the cache held).
    /// </summary>
    /// <returns>Whether <paramref name="value"/> is the value that stands.</returns>
    private bool TryTakeStandingValue(ICache cache, string key, out TResult value)
    {
        if (!CacheScope.IsReadSkipped && TryRead(cache, key, out var stored, out _))
        {
            value = stored!;
            return true;
        }

        value = default!;
        return false;
    }

    /// <inheritdoc cref="TryTakeStandingValue"/>
    /// <remarks>Without the callers' token, as the write before it: the flight's outcome must not depend on who left.</remarks>
    private ValueTask<CacheResult<TResult>> ReadStandingValueAsync(ICache cache, string key)
        => CacheScope.IsReadSkipped ? new ValueTask<CacheResult<TResult>>(CacheResult<TResult>.Miss) : ReadAsync(cache, key, CancellationToken.None);

    /// <summary>
    /// One call of the body that the callers of a key share. Its fill (once open) tells whether an invalidation in
    /// this process overtook it; <see cref="Stale"/> says, once it lands, that its result must not be handed to waiters.
    /// </summary>
    /// <remarks>
    /// Most flights have no passenger but their leader, so the task the passengers wait on is made only when one asks
    /// for it (<see cref="Task"/>): a value lands in a field, and the task, if any, is completed with it. The leader
    /// writes its outcome and then looks for a task; a passenger makes the task and then looks for an outcome; each
    /// step is a full fence, so at least one of the two sees the other and the task always completes.
    /// </remarks>
    internal sealed class Flight(string key) : BoardedFlight(key), RunningBodies.ILedFlight
    {
        // _state: the outcome in its two low bits, then the flight's five marks. The marks share the word so that a
        // flight (one per miss) fits in 88 bytes, its key and its link on the board included; as fields of their own
        // they padded it to 96.
        private const int Pending = 0;
        private const int Settling = 1;
        private const int Succeeded = 2;
        private const int Ended = 3;
        private const int OutcomeBits = 3;
        private const int StaleMark = 4;
        private const int LandedMark = 8;
        private const int DetachedMark = 16;
        private const int RefreshMark = 32;
        private const int MovedFenceMark = 64;

        // The leader's fill: a FillTicket, or the fence of a fill in this process with the moves it saw (written first).
        private volatile object? _fill;
        private long _fillMoves;
        private string? _fillKey; // the fence's key: the backend's, with the namespace, which a striped fence tells apart
        private TaskCompletionSource<TResult>? _source;
        private TResult? _value;
        private int _state;
        private int _waiting = 1; // the callers that wait for it and have not cancelled: its leader, then each that joins
        private CancellationTokenSource? _factory;

        /// <summary>
        /// Gives the body this token source (its leader's, before the body starts): cancelled once every caller waiting
        /// for the flight has cancelled its own token, so that one caller leaving never ends a call the others still
        /// wait for (HybridCache's rule). A caller that cannot cancel, or stops waiting at a timeout, keeps it live.
        /// </summary>
        public void UseFactory(CancellationTokenSource factory) => Volatile.Write(ref _factory, factory);

        /// <summary>The leader's wait: until <paramref name="token"/> cancels, it is one of the callers that keep the body's token live.</summary>
        public CancellationTokenRegistration Lead(CancellationToken token)
            => token.CanBeCanceled ? token.UnsafeRegister(static flight => ((Flight)flight!).Leave(), this) : default;

        /// <summary>
        /// Whether every caller that waited for the flight has cancelled, which cancelled its body's token: a body that
        /// ignores it may run on, but the flight takes no new caller (a caller that comes later runs the body anew).
        /// </summary>
        public bool IsAbandoned => Volatile.Read(ref _waiting) == 0;

        /// <summary>
        /// A passenger's wait: counted with the leader's (see <see cref="UseFactory"/>) until its own token cancels.
        /// False, counting nothing, once the flight is abandoned (<see cref="IsAbandoned"/>).
        /// </summary>
        public bool TryJoin(CancellationToken token, out CancellationTokenRegistration wait)
        {
            var waiting = Volatile.Read(ref _waiting);
            while (true)
            {
                if (waiting == 0)
                {
                    wait = default;
                    return false;
                }

                var seen = Interlocked.CompareExchange(ref _waiting, waiting + 1, waiting);
                if (seen == waiting)
                {
                    wait = Lead(token);
                    return true;
                }

                waiting = seen;
            }
        }

        /// <summary>
        /// Ends a wait that <see cref="Lead"/> or <see cref="TryJoin"/> began. A wait that its token ended may be over
        /// before the token's callback has run (both hang on the token): if the callback can still be taken back, the
        /// caller leaves here instead, so it is never lost.
        /// </summary>
        public void EndWait(CancellationTokenRegistration wait, CancellationToken token)
        {
            if (wait.Unregister() && token.IsCancellationRequested)
            {
                Leave();
            }
        }

        private void Leave()
        {
            if (Interlocked.Decrement(ref _waiting) == 0 && Volatile.Read(ref _factory) is { } factory)
            {
                try
                {
                    factory.Cancel();
                }
                catch (ObjectDisposedException)
                {
                    // The body had ended and released its token.
                }
                catch (AggregateException)
                {
                    // A callback the body registered on its token threw: the body's fault, which must not replace the
                    // outcome of the caller that happened to leave last.
                }
            }
        }

        /// <summary>Notes the leader's fenced fill, before the body runs, so that an invalidation overtaking it shows.</summary>
        public void NoteFill(in LeaderFill fill)
        {
            if (fill.Ticket is { } ticket)
            {
                _fill = ticket;
            }
            else if (fill.IsOpen)
            {
                _fillKey = fill.LocalFence.FullKey;
                Volatile.Write(ref _fillMoves, fill.LocalFence.Moves);
                _fill = fill.LocalFence.Fence;
            }
        }

        /// <summary>
        /// Refuses the store of this flight's fill, once a newer flight of its key has taken its place on the board (every
        /// caller left it, an invalidation overtook it, or a call that skips the read would not join it): its body may
        /// still run, and its value is older than the newer flight's.
        /// </summary>
        public void Supersede()
        {
            switch (_fill)
            {
                case FillTicket ticket:
                    FillFences.Supersede(ticket.Local);
                    break;
                case FillFences.Fence fence:
                    FillFences.Supersede(new FillFences.Ticket(_fillKey!, fence, Volatile.Read(ref _fillMoves)));
                    break;
            }
        }

        /// <summary>Set before the flight completes: an invalidation overtook it, in this process or (a refused fill that left no value) any.</summary>
        public bool Stale
        {
            get => Has(StaleMark);
            set => Mark(StaleMark, value);
        }

        /// <summary>Whether its leader took it off the board; only the leader reads and writes it.</summary>
        public bool Landed
        {
            get => Has(LandedMark);
            set => Mark(LandedMark, value);
        }

        /// <summary>An eager refresh's flight (see <see cref="RunningBodies.ILedFlight.IsRefresh"/>); set before its body runs.</summary>
        public bool IsRefresh
        {
            get => Has(RefreshMark);
            set => Mark(RefreshMark, value);
        }

        /// <summary>Whether boarding it moved its key's fence, as it replaced a flight whose fill could still store; set before it leads.</summary>
        public bool MovedFence
        {
            get => Has(MovedFenceMark);
            set => Mark(MovedFenceMark, value);
        }

        /// <summary>Whether the flight has an outcome or is off the board: no caller can join it and wait any more.</summary>
        public bool IsOver => (Volatile.Read(ref _state) & (OutcomeBits | LandedMark)) != Pending;

        /// <summary>A caller stopped waiting at a timeout: nobody may observe the outcome, so a failure is logged as background work's.</summary>
        public bool Detached
        {
            get => Has(DetachedMark);
            set => Mark(DetachedMark, value);
        }

        /// <summary>Whether an invalidation in this process came after the fill opened: no new caller may board.</summary>
        public bool IsOvertaken => _fill switch
        {
            FillTicket ticket => !ticket.IsCurrentInProcess,
            FillFences.Fence fence => !FillFences.IsCurrent(new FillFences.Ticket(_fillKey!, fence, Volatile.Read(ref _fillMoves))),
            _ => false,
        };

        /// <summary>The flight's outcome, for the callers that wait on it; made on first use.</summary>
        public Task<TResult> Task
        {
            get
            {
                var source = Source();
                if ((Volatile.Read(ref _state) & OutcomeBits) == Succeeded)
                {
                    source.TrySetResult(_value!);
                }

                return source.Task;
            }
        }

        /// <summary>Lands the flight with <paramref name="value"/>; false if it had landed already.</summary>
        public bool TrySetResult(TResult value)
        {
            if (!TrySettle())
            {
                return false;
            }

            _value = value;
            // Settling to Succeeded, marks untouched: a full fence, as the passenger's side needs.
            Interlocked.Add(ref _state, Succeeded - Settling);
            Volatile.Read(ref _source)?.TrySetResult(value);
            return true;
        }

        /// <summary>Lands the flight with a failure, which every waiter sees.</summary>
        public bool TrySetException(Exception exception)
            => TryEnd(static (source, exception) => source.TrySetException(exception), exception);

        /// <summary>Cancels the flight: a waiter with a live token leads again.</summary>
        public bool TrySetCanceled(CancellationToken cancellationToken)
            => TryEnd(static (source, token) => source.TrySetCanceled(token), cancellationToken);

        private bool TryEnd<TOutcome>(Func<TaskCompletionSource<TResult>, TOutcome, bool> end, TOutcome outcome)
        {
            if (!TrySettle())
            {
                return false;
            }

            // A failure is rare: it always goes through the task, which every passenger is sure to find.
            end(Source(), outcome);
            Interlocked.Add(ref _state, Ended - Settling);
            return true;
        }

        /// <summary>Moves the outcome from Pending to Settling, whatever the marks; false if another landing came first.</summary>
        private bool TrySettle()
        {
            var state = Volatile.Read(ref _state);
            while ((state & OutcomeBits) == Pending)
            {
                var seen = Interlocked.CompareExchange(ref _state, state | Settling, state);
                if (seen == state)
                {
                    return true;
                }

                state = seen;
            }

            return false;
        }

        private bool Has(int mark) => (Volatile.Read(ref _state) & mark) != 0;

        private void Mark(int mark, bool on)
        {
            if (Has(mark) == on)
            {
                // Most flights are never marked stale: no atomic write for a mark that does not change.
                return;
            }

            if (on)
            {
                Interlocked.Or(ref _state, mark);
            }
            else
            {
                Interlocked.And(ref _state, ~mark);
            }
        }

        private TaskCompletionSource<TResult> Source()
        {
            var source = Volatile.Read(ref _source);
            if (source is null)
            {
                var created = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
                source = Interlocked.CompareExchange(ref _source, created, null) ?? created;
            }

            return source;
        }
    }
}
