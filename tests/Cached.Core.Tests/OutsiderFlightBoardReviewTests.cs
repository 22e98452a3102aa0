using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// An outsider's review of the <see cref="FlightBoard"/> (lock-striped tables of flights that grow and never shrink)
/// and of how <see cref="CachedMethod{TResult}"/> boards, replaces and lands its flights on it. Every wait is bounded:
/// a call that hangs fails its test instead of hanging the run. Races are forced by gates inside the bodies.
/// </summary>
[NonParallelizable]
public sealed class OutsiderFlightBoardReviewTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(5);

    private sealed class TestFlight(string key) : BoardedFlight(key);

    /// <summary>A method on <paramref name="cache"/>; <paramref name="resilient"/> gives it fail-safe, which takes the resilient path (stamped entries).</summary>
    private static CachedMethod<T> MethodOn<T>(ICache cache, bool resilient = false, string name = "Tests.Board.Get", double ttl = 60)
        => new(new CachedMethodOptions { Method = name, CacheFactory = () => cache, Ttl = ttl, FailSafe = resilient ? 600 : 0 });

    /// <summary>The method's own board (a private field): how many flights it still holds.</summary>
    private static int FlightsOnBoard<T>(CachedMethod<T> method)
    {
        var field = typeof(CachedMethod<T>).GetField("_flights", BindingFlags.NonPublic | BindingFlags.Instance);
        Assert.That(field, Is.Not.Null, "CachedMethod keeps its flights in _flights");
        return ((FlightBoard)field!.GetValue(method)!).Count;
    }

    /// <summary>What the method's cache answers for <paramref name="key"/> (stamped or not): a hit, or "&lt;miss&gt;".</summary>
    private static string Stored(CachedMethod<string> method, string key) => method.Invoke(key, 0, static _ => "<miss>", static (_, _) => true);

    private static FlightBoard BoardOf<T>(CachedMethod<T> method)
        => (FlightBoard)typeof(CachedMethod<T>).GetField("_flights", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(method)!;

    /// <summary>Keys whose (randomized) hashes share the stripe and the bucket bits up to 2^<paramref name="bucketBits"/> buckets: one chain on the board.</summary>
    private static List<string> CollidingKeys(int count, int bucketBits)
    {
        var mask = (1 << (6 + bucketBits)) - 1;
        var keys = new List<string>(count);
        int? target = null;
        for (var i = 0; keys.Count < count; i++)
        {
            var key = "c:" + i.ToString(CultureInfo.InvariantCulture);
            var bits = key.GetHashCode() & mask;
            target ??= bits;
            if (bits == target)
            {
                keys.Add(key);
            }
        }

        return keys;
    }

    // ---- the board alone ----

    [Test]
    public void Flights_in_one_chain_stay_findable_replaceable_and_removable_in_any_order_as_the_stripe_grows()
    {
        var board = new FlightBoard();
        var keys = CollidingKeys(64, bucketBits: 8);
        var flights = keys.Select(k => new TestFlight(k)).ToArray();
        foreach (var flight in flights)
        {
            Assert.That(board.GetOrAdd(flight), Is.SameAs(flight));
        }

        // Replace every other one, from the middle of the chain outwards.
        var replacements = new TestFlight?[flights.Length];
        for (var i = 1; i < flights.Length; i += 2)
        {
            replacements[i] = new TestFlight(keys[i]);
            Assert.That(board.TryReplace(flights[i], replacements[i]!), Is.True, keys[i]);
        }

        Assert.That(board.Count, Is.EqualTo(flights.Length));
        var random = new Random(7);
        foreach (var i in Enumerable.Range(0, flights.Length).OrderBy(_ => random.Next()))
        {
            var expected = (BoardedFlight?)replacements[i] ?? flights[i];
            Assert.That(board.Find(keys[i]), Is.SameAs(expected), keys[i]);
            if (replacements[i] is { } replacement)
            {
                Assert.That(board.TryRemove(flights[i]), Is.False, "the replaced flight landing late must leave its replacement");
                Assert.That(board.Find(keys[i]), Is.SameAs(replacement));
                Assert.That(board.TryRemove(replacement), Is.True);
            }
            else
            {
                Assert.That(board.TryRemove(flights[i]), Is.True);
            }

            Assert.That(board.Find(keys[i]), Is.Null);
        }

        Assert.That(board.Count, Is.Zero);
    }

    [Test]
    public void A_flight_boarded_again_while_on_the_board_stays_one_flight()
    {
        var board = new FlightBoard();
        var flight = new TestFlight("k");
        var other = new TestFlight("other");
        board.GetOrAdd(other);

        Assert.Multiple(() =>
        {
            Assert.That(board.GetOrAdd(flight), Is.SameAs(flight));
            Assert.That(board.GetOrAdd(flight), Is.SameAs(flight));
            Assert.That(board.TryAdd(flight), Is.False, "a flight already on the board does not board twice");
            Assert.That(board.Count, Is.EqualTo(2));
            Assert.That(board.TryRemove(flight), Is.True);
            Assert.That(board.TryRemove(flight), Is.False, "a flight lands once");
            Assert.That(board.Find("other"), Is.SameAs(other));
            Assert.That(board.Count, Is.EqualTo(1));
        });
    }

    [Test]
    public void Keys_that_are_equal_only_by_culture_or_case_are_different_flights_under_a_turkish_culture()
    {
        var previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("tr-TR");
        try
        {
            var board = new FlightBoard();
            string[] keys = ["i", "I", "\u0131", "\u0130", "\u00e9", "e\u0301", "ss", "\u00df", "", "\0", "k\0", "k", "\ud800", "\udc00"];
            var flights = keys.Select(k => new TestFlight(k)).ToArray();
            foreach (var flight in flights)
            {
                Assert.That(board.GetOrAdd(flight), Is.SameAs(flight), $"'{flight.Key}' took another key's flight");
            }

            Assert.That(board.Count, Is.EqualTo(keys.Length));
            foreach (var flight in flights)
            {
                Assert.That(board.Find(new string(flight.Key.AsSpan())), Is.SameAs(flight), "an equal key made elsewhere finds it");
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Test]
    public void Growing_stripes_never_hide_or_lose_a_flight_from_threads_that_find_replace_and_remove_in_them()
    {
        var board = new FlightBoard();
        const int Threads = 6;
        const int Rounds = 40;
        const int Batch = 300;
        var errors = new ConcurrentQueue<string>();
        using var start = new Barrier(Threads);

        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var round = 0; round < Rounds; round++)
            {
                // Each thread fills the shared stripes with its batch (growing them) while the others do the same.
                var flights = new BoardedFlight[Batch];
                for (var i = 0; i < Batch; i++)
                {
                    flights[i] = new TestFlight($"t{t}:r{round}:{i}");
                    if (!board.TryAdd(flights[i]))
                    {
                        errors.Enqueue($"{flights[i].Key} found a flight that was never boarded");
                    }
                }

                for (var i = 0; i < Batch; i++)
                {
                    var key = flights[i].Key;
                    if (!ReferenceEquals(board.Find(key), flights[i]))
                    {
                        errors.Enqueue($"{key} is hidden");
                    }

                    if (i % 3 == 0)
                    {
                        var newer = new TestFlight(key);
                        if (!board.TryReplace(flights[i], newer))
                        {
                            errors.Enqueue($"{key} could not be replaced");
                        }

                        if (board.TryRemove(flights[i]))
                        {
                            errors.Enqueue($"{key}: the replaced flight was removed again");
                        }

                        flights[i] = newer;
                    }
                }

                for (var i = Batch - 1; i >= 0; i--)
                {
                    if (!board.TryRemove(flights[i]))
                    {
                        errors.Enqueue($"{flights[i].Key} was gone before it landed");
                    }

                    if (board.Find(flights[i].Key) is not null)
                    {
                        errors.Enqueue($"{flights[i].Key} still on the board after it landed");
                    }
                }
            }
        }) { IsBackground = true }).ToArray();

        foreach (var thread in threads)
        {
            thread.Start();
        }

        Assert.That(threads.All(t => t.Join(TimeSpan.FromSeconds(20))), Is.True, "a thread hung on the board");
        Assert.That(errors.Take(10), Is.Empty);
        Assert.That(board.Count, Is.Zero);
    }

    [Test]
    public void Concurrent_landing_and_replacing_of_one_flight_never_takes_off_the_replacement()
    {
        var board = new FlightBoard();
        var keys = CollidingKeys(8, bucketBits: 4);
        var wrong = 0;
        for (var round = 0; round < 3_000; round++)
        {
            var key = keys[round % keys.Count];
            var old = new TestFlight(key);
            var newer = new TestFlight(key);
            board.GetOrAdd(old);
            var replaced = false;
            var removed = false;
            using var go = new Barrier(2);
            var replacer = Task.Run(() => { go.SignalAndWait(); replaced = board.TryReplace(old, newer); });
            var lander = Task.Run(() => { go.SignalAndWait(); removed = board.TryRemove(old); });
            Assert.That(Task.WaitAll([replacer, lander], s_limit), Is.True);

            var onBoard = board.Find(key);
            if (replaced == removed || (replaced && !ReferenceEquals(onBoard, newer)) || (!replaced && onBoard is not null))
            {
                wrong++;
            }

            board.TryRemove(newer);
        }

        Assert.That(wrong, Is.Zero);
        Assert.That(board.Count, Is.Zero);
    }

    // ---- the board under CachedMethod ----

    [Test]
    public async Task Thousands_of_keys_boarding_and_landing_from_many_threads_get_their_own_values_and_leave_the_board_empty([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        const int Keys = 3_000;
        const int Callers = 8;
        var bodies = new int[Keys];
        var wrong = new ConcurrentQueue<string>();
        using var start = new Barrier(Callers);

        var callers = Enumerable.Range(0, Callers).Select(c => Task.Factory.StartNew(async () =>
        {
            var random = new Random(c);
            var order = Enumerable.Range(0, Keys).OrderBy(_ => random.Next()).ToArray();
            start.SignalAndWait();
            foreach (var id in order)
            {
                var key = "user:" + id.ToString(CultureInfo.InvariantCulture);
                string value;
                if (((id + c) & 1) == 0)
                {
                    value = method.Invoke(key, id, static id =>
                    {
                        Thread.SpinWait(50);
                        return "v" + id.ToString(CultureInfo.InvariantCulture);
                    });
                }
                else
                {
                    value = await method.InvokeAsync(key, id, static async (id, _) =>
                    {
                        await Task.Yield();
                        return "v" + id.ToString(CultureInfo.InvariantCulture);
                    }, skipWhen: null, CancellationToken.None);
                }

                if (value != "v" + id.ToString(CultureInfo.InvariantCulture))
                {
                    wrong.Enqueue($"{key} got {value}");
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();

        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.That(wrong.Take(10), Is.Empty);
        Assert.That(FlightsOnBoard(method), Is.Zero, "flights left on the board after every call returned");
    }

    [Test]
    public async Task Only_one_body_per_key_runs_at_a_time_while_sync_callers_of_many_keys_come_and_go([Values] bool resilient)
    {
        // A body never stores (skipWhen), so every round misses: only one body per key may run at a time.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<int>(cache, resilient);
        const int KeysInPlay = 32;
        const int Callers = 8;
        const int Rounds = 1_500;
        var running = new int[KeysInPlay];
        var doubled = 0;
        var wrong = 0;
        s_doubledSink = 0;
        using var start = new Barrier(Callers);

        var callers = Enumerable.Range(0, Callers).Select(c => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (var round = 0; round < Rounds; round++)
            {
                var id = (round * 5 + c) % KeysInPlay;
                var value = method.Invoke("key:" + id.ToString(CultureInfo.InvariantCulture), (id, running), static s =>
                {
                    if (Interlocked.Increment(ref s.running[s.id]) != 1)
                    {
                        Interlocked.Increment(ref s_doubledSink);
                    }

                    Thread.SpinWait(200);
                    Interlocked.Decrement(ref s.running[s.id]);
                    return s.id;
                }, static (_, _) => true);
                if (value != id)
                {
                    Interlocked.Increment(ref wrong);
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));
        doubled = s_doubledSink;
        Assert.Multiple(() =>
        {
            Assert.That(doubled, Is.Zero, "two bodies of one key ran at once");
            Assert.That(wrong, Is.Zero, "a caller got another key's value");
            Assert.That(FlightsOnBoard(method), Is.Zero);
        });
    }

    private static int s_doubledSink;

    [Test]
    public async Task Callers_in_every_kind_of_scope_racing_on_a_few_keys_get_their_own_keys_values_and_leave_no_flight([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient, ttl: 0.05);
        const int Callers = 6;
        const int Rounds = 600;
        var wrong = new ConcurrentQueue<string>();
        using var start = new Barrier(Callers);

        var callers = Enumerable.Range(0, Callers).Select(c => Task.Factory.StartNew(async () =>
        {
            var random = new Random(c * 31);
            start.SignalAndWait();
            for (var round = 0; round < Rounds; round++)
            {
                var id = random.Next(8);
                var key = "key:" + id.ToString(CultureInfo.InvariantCulture);
                var expected = "v" + id.ToString(CultureInfo.InvariantCulture);
                var scope = random.Next(4) switch
                {
                    0 => CacheScope.SkipRead(),
                    1 => CacheScope.SkipWrite(),
                    2 => CacheScope.Bypass(),
                    _ => null,
                };
                try
                {
                    var value = random.Next(2) == 0
                        ? method.Invoke(key, id, static id => { Thread.SpinWait(300); return "v" + id.ToString(CultureInfo.InvariantCulture); })
                        : await method.InvokeAsync(key, id, static async (id, _) => { await Task.Yield(); return "v" + id.ToString(CultureInfo.InvariantCulture); }, null, CancellationToken.None);
                    if (value != expected)
                    {
                        wrong.Enqueue($"{key} got {value}");
                    }
                }
                finally
                {
                    scope?.Dispose();
                }
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap()).ToArray();

        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(wrong.Take(10), Is.Empty);
        Waits.Until(() => FlightsOnBoard(method) == 0, "every flight landed", s_limit);
    }

    [Test]
    public void Waiters_that_join_a_sync_leader_whose_body_throws_all_see_its_exception_and_the_key_computes_anew_after([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<int>(cache, resilient);
        using var gate = new ManualResetEventSlim();
        var calls = new Calls();
        var failure = new InvalidOperationException("the source is down");
        var errors = new Exception?[6];
        var results = new int[6];

        var threads = Enumerable.Range(0, errors.Length).Select(i => new Thread(() =>
        {
            try
            {
                results[i] = method.Invoke("k", (calls, gate, failure), static s =>
                {
                    s.calls.Increment();
                    s.gate.Wait(s_limit);
                    throw s.failure;
                });
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        Waits.Until(() => calls.Count >= 1, "the body started", s_limit);
        Waits.UntilAllBlocked(threads, s_limit);
        gate.Set();
        Assert.That(threads.All(t => t.Join(s_limit)), Is.True, "a waiter hung");

        Assert.Multiple(() =>
        {
            Assert.That(calls.Count, Is.EqualTo(1));
            Assert.That(errors, Has.All.SameAs(failure));
            Assert.That(FlightsOnBoard(method), Is.Zero);
        });
        Assert.That(method.Invoke("k", 0, static _ => 9), Is.EqualTo(9), "the next call leads a new flight");
    }

    [Test]
    public async Task Async_waiters_cancelled_while_the_leader_lands_leave_and_the_others_get_the_value([Values] bool leaderCancellable, [Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new Calls();
        using var leaderToken = new CancellationTokenSource();
        Func<(Calls, TaskCompletionSource), CancellationToken, ValueTask<string>> body = static async (s, _) =>
        {
            s.Item1.Increment();
            await s.Item2.Task;
            return "v";
        };

        var leader = method.InvokeAsync("k", (calls, release), body, null, leaderCancellable ? leaderToken.Token : CancellationToken.None).AsTask();
        Waits.Until(() => calls.Count == 1, "the leader's body started", s_limit);
        var sources = Enumerable.Range(0, 20).Select(_ => new CancellationTokenSource()).ToArray();
        var waiters = sources.Select(s => method.InvokeAsync("k", (calls, release), body, null, s.Token).AsTask()).ToArray();

        // Cancel every other waiter on one thread while the leader lands on another.
        var cancelling = Task.Run(() =>
        {
            for (var i = 0; i < sources.Length; i += 2)
            {
                sources[i].Cancel();
            }
        });
        release.SetResult();
        await cancelling.WaitAsync(s_limit);

        Assert.That(await leader.WaitAsync(s_limit), Is.EqualTo("v"));
        for (var i = 0; i < waiters.Length; i++)
        {
            var waiter = waiters[i];
            await Task.WhenAny(waiter, Task.Delay(s_limit));
            Assert.That(waiter.IsCompleted, Is.True, $"waiter {i} hung");
            if (i % 2 == 1)
            {
                Assert.That(waiter.Result, Is.EqualTo("v"), $"waiter {i} kept its token and must get the value");
            }
            else if (!waiter.IsCompletedSuccessfully)
            {
                Assert.That(waiter.IsCanceled, Is.True, $"waiter {i}: {waiter.Exception}");
            }
        }

        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(FlightsOnBoard(method), Is.Zero);
        foreach (var source in sources)
        {
            source.Dispose();
        }
    }

    [Test]
    public async Task Sync_waiters_of_an_async_leader_whose_caller_cancels_get_the_value_of_the_one_body_call([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new Calls();
        using var leaderToken = new CancellationTokenSource();

        var leader = method.InvokeAsync("k", (calls, release), static async (s, ct) =>
        {
            s.calls.Increment();
            await s.release.Task;
            return "v" + s.calls.Count.ToString(CultureInfo.InvariantCulture);
        }, null, leaderToken.Token).AsTask();
        Waits.Until(() => calls.Count == 1, "the leader's body started", s_limit);

        var results = new string?[4];
        var errors = new Exception?[4];
        var threads = Enumerable.Range(0, results.Length).Select(i => new Thread(() =>
        {
            try
            {
                results[i] = method.Invoke("k", calls, static c => "sync" + c.Increment().ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception ex)
            {
                errors[i] = ex;
            }
        }) { IsBackground = true }).ToArray();
        foreach (var thread in threads)
        {
            thread.Start();
        }

        Waits.UntilAllBlocked(threads, s_limit);
        leaderToken.Cancel();
        Assert.That(async () => await leader.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>());
        release.SetResult();
        Assert.That(threads.All(t => t.Join(s_limit)), Is.True, "a sync waiter hung");

        Assert.Multiple(() =>
        {
            Assert.That(errors, Has.All.Null);
            Assert.That(results, Has.All.EqualTo("v1"));
            Assert.That(calls.Count, Is.EqualTo(1));
            Assert.That(FlightsOnBoard(method), Is.Zero);
        });
    }

    [Test]
    public async Task Callers_joining_while_the_only_caller_of_an_async_leader_cancels_all_get_a_value_and_no_key_keeps_a_flight([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        var failures = new ConcurrentQueue<string>();
        for (var round = 0; round < 60; round++)
        {
            var key = "k" + round.ToString(CultureInfo.InvariantCulture);
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var bodies = new Calls();
            Func<(Calls bodies, TaskCompletionSource gate), CancellationToken, ValueTask<string>> body = static async (s, ct) =>
            {
                var n = s.bodies.Increment();
                await s.gate.Task.WaitAsync(ct);
                return "v" + n.ToString(CultureInfo.InvariantCulture);
            };

            using var leaderToken = new CancellationTokenSource();
            var leader = method.InvokeAsync(key, (bodies, gate), body, null, leaderToken.Token).AsTask();
            Waits.Until(() => bodies.Count >= 1, "the leader's body started", s_limit);

            using var go = new Barrier(5);
            var joiners = Enumerable.Range(0, 4).Select(i => Task.Factory.StartNew(() =>
            {
                go.SignalAndWait();
                return i % 2 == 0
                    ? method.Invoke(key, (bodies, gate), s => body(s, CancellationToken.None).AsTask().GetAwaiter().GetResult())
                    : method.InvokeAsync(key, (bodies, gate), body, null, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
            go.SignalAndWait();
            leaderToken.Cancel();
            gate.SetResult();

            var all = Task.WhenAll(joiners);
            if (await Task.WhenAny(all, Task.Delay(s_limit)) != all)
            {
                failures.Enqueue($"round {round}: a joiner hung");
                break;
            }

            foreach (var joiner in joiners)
            {
                if (!joiner.IsCompletedSuccessfully)
                {
                    failures.Enqueue($"round {round}: a joiner failed: {joiner.Exception!.InnerException!.GetType().Name}");
                }
            }

            await Task.WhenAny(leader, Task.Delay(s_limit));
            if (!leader.IsCompleted)
            {
                failures.Enqueue($"round {round}: the leader hung");
            }
        }

        Assert.That(failures.Take(5), Is.Empty);
        Waits.Until(() => FlightsOnBoard(method) == 0, "every flight landed", s_limit);
    }

    [Test]
    public async Task A_plain_caller_that_joined_a_resilient_flight_which_the_caches_dispose_cancelled_ends_instead_of_rejoining_it([Values] bool async)
    {
        // GetOrSet shares one board for a key between calls with and without fail-safe. The resilient leader's flight
        // ends cancelled when the cache is disposed, but stays on the board until its factory (which ignores its token)
        // returns; a plain caller that waited for it must end (with the cancellation, or by leading), not join that
        // cancelled flight again and again until the factory happens to return.
        var cache = new SimpleMemoryCache();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = cache.GetOrSetAsync("k", async _ =>
        {
            started.TrySetResult();
            await gate.Task;
            return "resilient";
        }, new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(10) }).AsTask();
        await started.Task.WaitAsync(s_limit);

        Exception? failure = null;
        string? value = null;
        var plain = new Thread(() =>
        {
            try
            {
                value = async
                    ? cache.GetOrSetAsync("k", static _ => new ValueTask<string>("plain")).AsTask().GetAwaiter().GetResult()
                    : cache.GetOrSet("k", static _ => "plain");
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        }) { IsBackground = true };
        plain.Start();
        Waits.UntilAllBlocked([plain], s_limit);

        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        cache.Dispose();
        var ended = plain.Join(TimeSpan.FromSeconds(5));
        var busy = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        var spinning = !ended && (plain.ThreadState & System.Threading.ThreadState.WaitSleepJoin) == 0;
        gate.SetResult();
        var endedAfterRelease = plain.Join(s_limit);
        await Task.WhenAny(leader, Task.Delay(s_limit));

        Assert.That(ended, Is.True, $"the plain caller did not end while the cancelled flight's factory ran on (its thread busy, not blocked: {spinning}; CPU used by the process meanwhile: {busy.TotalMilliseconds:F0} ms of 5000; ended once the factory returned: {endedAfterRelease}, with {value ?? failure?.GetType().Name})");
    }

    [Test]
    public async Task A_caller_joins_the_flight_in_the_air_after_writes_of_a_key_that_shares_its_fence_as_long_as_the_fence_tells_them_apart([Values(7, 8)] int writes, [Values] bool resilient, [Values] bool async)
    {
        // A SimpleMemoryCache has 1,024 fences that keys share (docs/reliability.md): a fence remembers the keys of its
        // last 8 writes, so up to 7 writes of another key on the same fence during a fill are told apart from a write of
        // this key, and the flight keeps taking passengers: a caller of the key that comes now waits for the body under
        // way (decorators.md: concurrent misses on one key in one process make one body call). With 8 the fence cannot
        // tell, refuses the fill, and (reliability.md) "a caller of the key that arrives meanwhile starts its computation
        // at once instead of waiting for a value that will not be stored": two bodies, each caller with a value.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        const string Key = "user:42";
        var sharing = Enumerable.Range(0, 100_000).Select(static i => $"other:{i}").First(k => Cached.Pipeline.FillFences.StripeOf(k) == Cached.Pipeline.FillFences.StripeOf(Key));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bodies = new Calls();
        Func<(Calls bodies, TaskCompletionSource gate), CancellationToken, ValueTask<string>> body = static async (s, _) =>
        {
            var n = s.bodies.Increment();
            await s.gate.Task;
            return "v" + n.ToString(CultureInfo.InvariantCulture);
        };

        var first = method.InvokeAsync(Key, (bodies, gate), body, null, CancellationToken.None).AsTask();
        Waits.Until(() => bodies.Count == 1, "the first body started", s_limit);

        // A busy neighbour: another key on the same fence written while the body runs (7 times: the fence remembers
        // each; 8: it no longer can, and refuses the fill, as documented).
        for (var i = 0; i < writes; i++)
        {
            cache.Set(sharing, i);
        }

        var second = async
            ? method.InvokeAsync(Key, (bodies, gate), body, null, CancellationToken.None).AsTask()
            : Task.Factory.StartNew(() => method.Invoke(Key, (bodies, gate), s => body(s, CancellationToken.None).AsTask().GetAwaiter().GetResult()), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var secondBody = await Task.Run(() =>
        {
            // A second body that must run gets the test's limit to start (its thread can start late on a loaded machine);
            // one that must not run is given 300 ms to show.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < (writes < 8 ? TimeSpan.FromMilliseconds(300) : s_limit) && bodies.Count < 2)
            {
                Thread.Sleep(5);
            }

            return bodies.Count;
        });
        gate.SetResult();
        await Task.WhenAll(first, second).WaitAsync(s_limit);

        Assert.That(secondBody, Is.EqualTo(writes < 8 ? 1 : 2), writes < 8 ? "a second body of the key ran beside the first: the caller did not join the flight in the air" : "past what the fence remembers, the caller computes at once");
        // A refused fill answers with the value that stands by then, if any (tags.md, Writes): the second body's.
        Assert.That(await first, writes < 8 ? Is.EqualTo("v1") : Is.EqualTo("v1").Or.EqualTo("v2"));
        Assert.That(await second, Is.EqualTo(writes < 8 ? "v1" : "v2"));
        Assert.That(FlightsOnBoard(method), Is.Zero);
    }

    [Test]
    public async Task A_forced_refresh_racing_the_landing_of_the_flight_it_replaces_leaves_its_own_value_and_an_empty_board([Values] bool async, [Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        var hung = 0;
        for (var round = 0; round < 150; round++)
        {
            var key = "k" + round.ToString(CultureInfo.InvariantCulture);
            using var started = new ManualResetEventSlim();
            using var go = new ManualResetEventSlim();
            var old = Task.Factory.StartNew(() => method.Invoke(key, (started, go), static s =>
            {
                s.started.Set();
                s.go.Wait(s_limit);
                return "old";
            }), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            Assert.That(started.Wait(s_limit), Is.True);

            // A passenger of the old flight.
            var passenger = Task.Run(() => method.Invoke(key, 0, static _ => "passenger's own"));
            using var both = new Barrier(2);
            var forced = Task.Run(async () =>
            {
                both.SignalAndWait();
                using (CacheScope.SkipRead())
                {
                    return async
                        ? await method.InvokeAsync(key, 0, static (_, _) => new ValueTask<string>("new"), null, CancellationToken.None)
                        : method.Invoke(key, 0, static _ => "new");
                }
            });
            both.SignalAndWait();
            go.Set();

            var all = Task.WhenAll(old, passenger, forced);
            if (await Task.WhenAny(all, Task.Delay(s_limit)) != all)
            {
                hung++;
                break;
            }

            // The passenger may compute anew after the forced flight stored (its later, fresh value may then stand);
            // the flight the forced call replaced must never store over the forced call's value.
            Assert.That(forced.Result, Is.EqualTo("new"));
            Assert.That(Stored(method, key), Is.Not.EqualTo("old"), $"round {round}: the forced refresh's value was overwritten by the flight it replaced");
            Assert.That(passenger.Result, Is.AnyOf("old", "new", "passenger's own"));
        }

        Assert.That(hung, Is.Zero, "a call hung");
        Assert.That(FlightsOnBoard(method), Is.Zero);
    }

    [Test]
    public async Task A_forced_refresh_replacing_a_flight_in_the_air_is_the_one_later_callers_join_and_the_old_leader_landing_leaves_it([Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<string>(cache, resilient);
        var oldGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var newGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new Calls();

        var old = method.InvokeAsync("k", (calls, oldGate), static async (s, _) =>
        {
            s.calls.Increment();
            await s.oldGate.Task;
            return "old";
        }, null, CancellationToken.None).AsTask();
        Waits.Until(() => calls.Count == 1, "the old body started", s_limit);

        Task<string> forced;
        using (CacheScope.SkipRead())
        {
            forced = method.InvokeAsync("k", (calls, newGate), static async (s, _) =>
            {
                s.calls.Increment();
                await s.newGate.Task;
                return "new";
            }, null, CancellationToken.None).AsTask();
        }

        Waits.Until(() => calls.Count == 2, "the forced body started", s_limit);

        // The old flight lands first: it must not take the forced one off the board.
        oldGate.SetResult();
        await old.WaitAsync(s_limit);
        Assert.That(FlightsOnBoard(method), Is.EqualTo(1), "the forced flight is still in the air");

        var later = method.InvokeAsync("k", calls, static (c, _) => { c.Increment(); return new ValueTask<string>("later's own"); }, null, CancellationToken.None).AsTask();
        await Task.Delay(20);
        Assert.That(later.IsCompleted, Is.False, "a later caller joins the forced flight in the air");
        newGate.SetResult();

        Assert.Multiple(async () =>
        {
            Assert.That(await forced.WaitAsync(s_limit), Is.EqualTo("new"));
            Assert.That(await later.WaitAsync(s_limit), Is.EqualTo("new"));
            Assert.That(calls.Count, Is.EqualTo(2));
            Assert.That(Stored(method, "k"), Is.EqualTo("new"));
            Assert.That(FlightsOnBoard(method), Is.Zero);
        });
    }

    [Test]
    public async Task A_body_calling_its_own_key_is_refused_while_the_board_grows_around_it_and_leaves_nothing_on_it([Values] bool async, [Values] bool resilient)
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<int>(cache, resilient);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        const int Others = 2_000;
        var started = 0;

        // Thousands of other keys in the air: the stripes double under the body's call.
        var others = Enumerable.Range(0, Others).Select(i => method.InvokeAsync("other:" + i.ToString(CultureInfo.InvariantCulture), i, async (i, _) =>
        {
            Interlocked.Increment(ref started);
            await gate.Task;
            return i;
        }, null, CancellationToken.None).AsTask()).ToArray();
        Waits.Until(() => Volatile.Read(ref started) == Others, "every other body started", s_limit);
        Assert.That(FlightsOnBoard(method), Is.EqualTo(Others));

        Exception? refused = null;
        var reentry = Task.Run(async () =>
        {
            if (async)
            {
                return await method.InvokeAsync("self", 0, async (_, ct) =>
                {
                    await Task.Yield();
                    var more = Enumerable.Range(0, 500).Select(i => method.InvokeAsync("more:" + i.ToString(CultureInfo.InvariantCulture), i, async (i, _) => { await gate.Task; return i; }, null, CancellationToken.None).AsTask()).ToArray();
                    try
                    {
                        await method.InvokeAsync("self", 0, static (_, _) => new ValueTask<int>(-1), null, ct);
                    }
                    catch (InvalidOperationException ex)
                    {
                        refused = ex;
                    }

                    return 1;
                }, null, CancellationToken.None);
            }

            return method.Invoke("self", 0, state =>
            {
                for (var i = 0; i < 500; i++)
                {
                    _ = method.InvokeAsync("more:" + i.ToString(CultureInfo.InvariantCulture), i, async (n, _) => { await gate.Task; return n; }, null, CancellationToken.None);
                }

                try
                {
                    method.Invoke("self", 0, static _ => -1);
                }
                catch (InvalidOperationException ex)
                {
                    refused = ex;
                }

                return 1;
            });
        });

        Assert.That(await reentry.WaitAsync(s_limit), Is.EqualTo(1));
        Assert.That(refused, Is.Not.Null, "the body's call for its own key must be refused");
        Assert.That(refused!.Message, Does.Contain("from within its own body"));
        gate.SetResult();
        await Task.WhenAll(others).WaitAsync(s_limit);
        Waits.Until(() => FlightsOnBoard(method) == 0, "every flight landed", s_limit);
    }

    [Test]
    public async Task A_board_that_grew_to_a_hundred_thousand_keys_keeps_none_of_their_values_after_they_land()
    {
        // Nothing is stored (skipWhen), so only the board (or a flight it keeps) could keep a value alive.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<object>(cache);
        const int Keys = 100_000;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var weak = new WeakReference[Keys];
        var calls = Start(method, gate, weak);
        Assert.That(FlightsOnBoard(method), Is.EqualTo(Keys));
        gate.SetResult();
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(20));
        Array.Clear(calls);
        Assert.That(FlightsOnBoard(method), Is.Zero);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var alive = weak.Count(w => w.IsAlive);
        Assert.That(alive, Is.Zero, $"{alive} values of landed flights are still reachable");
        GC.KeepAlive(method);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static Task[] Start(CachedMethod<object> method, TaskCompletionSource gate, WeakReference[] weak)
        {
            var calls = new Task[weak.Length];
            for (var i = 0; i < weak.Length; i++)
            {
                var value = new byte[16];
                weak[i] = new WeakReference(value);
                calls[i] = method.InvokeAsync("big:" + i.ToString(CultureInfo.InvariantCulture), (value, gate), static async (s, _) =>
                {
                    await s.gate.Task;
                    return s.value;
                }, static (_, _) => true, CancellationToken.None).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            return calls;
        }
    }

    [Test]
    public void A_sync_board_of_many_keys_keeps_no_flight_alive_after_it_lands()
    {
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<object>(cache);
        var weak = Run(method);
        Assert.That(FlightsOnBoard(method), Is.Zero);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var alive = weak.Count(w => w.IsAlive);
        Assert.That(alive, Is.Zero, $"{alive} landed flights are still reachable");
        GC.KeepAlive(method);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static WeakReference[] Run(CachedMethod<object> method)
        {
            var board = BoardOf(method);
            var weak = new List<WeakReference>();
            for (var i = 0; i < 20_000; i++)
            {
                var key = "s:" + i.ToString(CultureInfo.InvariantCulture);
                method.Invoke(key, (board, key, weak), static s =>
                {
                    // The flight this body leads, as the board holds it now.
                    s.weak.Add(new WeakReference(s.board.Find(s.key)));
                    return new object();
                }, static (_, _) => true);
            }

            return [.. weak];
        }
    }

    [Test]
    public async Task An_eager_refresh_flight_lands_and_leaves_the_board_empty()
    {
        using var cache = new SimpleMemoryCache();
        var method = new CachedMethod<int>(new CachedMethodOptions { Method = "Tests.Board.Refresh", CacheFactory = () => cache, Ttl = 60, EagerRefresh = 0.0001 });
        Assert.That(method.Invoke("k", 1, static v => v), Is.EqualTo(1));
        await Task.Delay(50);
        var refreshed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        Assert.That(method.Invoke("k", refreshed, static r => { r.TrySetResult(2); return 2; }), Is.EqualTo(1), "the hit answers at once");
        Assert.That(await refreshed.Task.WaitAsync(s_limit), Is.EqualTo(2));
        Waits.Until(() => FlightsOnBoard(method) == 0, "the refresh flight landed", s_limit);
    }

    public enum LeftBehind
    {
        /// <summary>The control: the body leaves nothing behind.</summary>
        Nothing,

        /// <summary>A callback registered without the flow (<c>UnsafeRegister</c>): a control too.</summary>
        UnsafeRegistration,

        /// <summary>A callback registered (with the flow, as <c>Register</c> does) on a token that lives as long as the app.</summary>
        Registration,

        /// <summary>A fire-and-forget task (<c>Task.Run</c>) that waits on after the body returned.</summary>
        BackgroundTask,
    }

    [Test]
    public async Task A_landed_flight_and_its_value_are_not_kept_alive_by_work_its_async_body_left_behind([Values] LeftBehind work, [Values] bool resilient)
    {
        // Nothing is stored (skipWhen): once the call returned and its flight landed, nothing of the library's should
        // keep the flight or the value it answered with.
        using var cache = new SimpleMemoryCache();
        var method = MethodOn<object>(cache, resilient);
        using var appLifetime = new CancellationTokenSource();
        var (value, flight) = await Call(method, appLifetime.Token, work);
        Assert.That(FlightsOnBoard(method), Is.Zero);

        // Pool threads that ran the body go through other work first, so that no stale slot of theirs keeps anything.
        await Task.Delay(50);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => Thread.SpinWait(100))));
        await Task.Delay(50);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var (valueKept, flightKept) = (value.IsAlive, flight.IsAlive);
        appLifetime.Cancel();
        Assert.Multiple(() =>
        {
            Assert.That(valueKept, Is.False, "the value of a landed flight is still reachable from what its body left behind");
            Assert.That(flightKept, Is.False, "a landed flight is still reachable from what its body left behind");
        });
        GC.KeepAlive(method);

        [MethodImpl(MethodImplOptions.NoInlining)]
        static async Task<(WeakReference Value, WeakReference Flight)> Call(CachedMethod<object> method, CancellationToken appLifetime, LeftBehind work)
        {
            WeakReference? weakValue = null;
            WeakReference? weakFlight = null;
            var board = BoardOf(method);
            var value = await method.InvokeAsync("k", (appLifetime, work), async (s, ct) =>
            {
                await Task.Yield();
                weakFlight = new WeakReference(board.Find("k"));
                switch (s.work)
                {
                    case LeftBehind.UnsafeRegistration:
                        s.appLifetime.UnsafeRegister(static _ => { }, null);
                        break;
                    case LeftBehind.Registration:
                        s.appLifetime.Register(static () => { });
                        break;
                    case LeftBehind.BackgroundTask:
                        var token = s.appLifetime;
                        _ = Task.Run(async () => await Task.Delay(Timeout.Infinite, token));
                        break;
                }

                var made = new byte[1024];
                weakValue = new WeakReference(made);
                return made;
            }, static (_, _) => true, CancellationToken.None);
            Assert.That(value, Is.Not.Null);
            Assert.That(weakFlight!.Target, Is.Not.Null, "the body found its flight on the board");
            return (weakValue!, weakFlight!);
        }
    }
}
