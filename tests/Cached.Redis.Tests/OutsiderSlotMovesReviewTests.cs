using System.Diagnostics;
using System.Globalization;
using Cached.Capabilities;
using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Generated methods for <see cref="OutsiderSlotMovesReviewTests"/>: a [Cached] method whose result may be refused by
/// <c>SkipCacheWhen</c>, and a [MultiCached] batch, both keyed by the id itself (so a test chooses the hash slot with a
/// hash tag), counted, and held by <see cref="Hold"/> when a test set it.
/// </summary>
public partial class SlotMovesCatalog
{
    public const string Alias = "outsider-slot-moves";

    private int _bodyCalls;

    /// <summary>What the bodies answer with; <c>"unwanted"</c> is never stored (<c>SkipCacheWhen</c>).</summary>
    public string Answer { get; set; } = "v1";

    public int BodyCalls => Volatile.Read(ref _bodyCalls);

    /// <summary>Awaited by every body once it has read <see cref="Answer"/>, when set.</summary>
    public Func<Task>? Hold { get; set; }

    /// <summary>The ids each batch body was asked for.</summary>
    public List<string[]> Asked { get; } = [];

    [Cached(Alias = Alias, Key = "{id}", Ttl = 60, SkipCacheWhen = nameof(Unwanted))]
    public partial Task<string> ReadAsync(string id);

    private async Task<string> ReadAsyncCore(string id)
    {
        var answer = Answer;
        Interlocked.Increment(ref _bodyCalls);
        if (Hold is { } hold)
        {
            await hold();
        }

        return answer;
    }

    [Cached(Alias = Alias, Key = "{id}", Ttl = 60, SkipCacheWhen = nameof(Unwanted))]
    public partial string Read(string id);

    private string ReadCore(string id)
    {
        var answer = Answer;
        Interlocked.Increment(ref _bodyCalls);
        Hold?.Invoke().GetAwaiter().GetResult();
        return answer;
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60)]
    public partial Task<Dictionary<string, string>> ReadManyAsync(IReadOnlyList<string> ids);

    private async Task<Dictionary<string, string>> ReadManyAsyncCore(IReadOnlyList<string> ids)
    {
        var answers = Batch(ids);
        if (Hold is { } hold)
        {
            await hold();
        }

        return answers;
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60)]
    public partial Dictionary<string, string> ReadMany(IReadOnlyList<string> ids);

    private Dictionary<string, string> ReadManyCore(IReadOnlyList<string> ids)
    {
        var answers = Batch(ids);
        Hold?.Invoke().GetAwaiter().GetResult();
        return answers;
    }

    private static bool Unwanted(string value) => value == "unwanted";

    private Dictionary<string, string> Batch(IReadOnlyList<string> ids)
    {
        Interlocked.Increment(ref _bodyCalls);
        lock (Asked)
        {
            Asked.Add([.. ids]);
        }

        var answer = Answer;
        return ids.ToDictionary(static id => id, id => answer + "-" + id);
    }
}

/// <summary>
/// An outsider's check of Redis Cluster resharding under every feature: a hash slot is held halfway through its move
/// between two primaries (the target importing, the source migrating, chosen keys moved with MIGRATE), an operation
/// runs, then the move ends. It checks that a fill's fence release lost to TRYAGAIN leaves later misses free to fill
/// and store; that a two-level node drops its L1 copy after another node's write, delete, batch write or tag
/// invalidation of a key whose slot moves; that tag invalidations and fills stay final with the tag record's and the
/// entry's slot moving; that leases, [MultiCached] and [Cached] fills and every invalidating command work and stay
/// fenced with a key and its fence on different primaries; that Clear of a namespace reaches keys on both sides of a
/// move; that cancellation and timeouts end a call waiting out TRYAGAIN promptly, without the abandoned command
/// landing afterwards; and that reads which one-key commands would answer at once (a two-level hit of a generated
/// method, a batch read with a miss) do not wait for the whole move of a slot that has only begun migrating.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderSlotMovesReviewTests : OwnClusterFixture
{
    private const string Space = "sm";
    private const string FenceSuffix = ":__cached:fence";
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    private readonly List<IAsyncDisposable> _disposables = [];
    private RedisCache _cache = null!;
    private RedisCluster.SlotMove? _open;
    private int _tag;

    public enum Change
    {
        Set,
        Delete,
        MultiSet,
        InvalidateTags,
    }

    public enum Command
    {
        Set,
        Add,
        Delete,
        Increment,
        Expire,
        MultiSet,
    }

    [SetUp]
    public void Connect()
    {
        Caches.Reset();
        _cache = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
    }

    [TearDown]
    public async Task Disconnect()
    {
        // A test that failed halfway must not leave a slot half moved for the next one.
        _open?.Finish();
        _open = null;
        Caches.Reset();
        _cache.Dispose();
        foreach (var disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }

        _disposables.Clear();
    }

    // ----- 1. A fill's fence release lost to TRYAGAIN -----

    [Test]
    public async Task A_fill_whose_body_throws_while_its_fence_is_split_leaves_the_next_miss_free_to_store(
        [Values] bool async)
    {
        var key = NewKey("a");
        var fence = Stored(key) + FenceSuffix;
        var entered = NewGate();
        var release = NewGate();

        Task<string> failing = Task.Run(async () => async
            ? await _cache.GetOrSetAsync<string>(key, async _ =>
            {
                entered.TrySetResult();
                await release.Task;
                throw new InvalidOperationException("body failed");
            })
            : _cache.GetOrSet<string>(key, new Func<CancellationToken, string>(_ =>
            {
                entered.TrySetResult();
                release.Task.Wait();
                throw new InvalidOperationException("body failed");
            })));
        await Within(entered.Task, "the body started");
        Assert.That(Db.KeyExists(fence), Is.True, "the fill opened its fence before the body ran");

        // The fence goes to the target, its count of open fills stays: the release's script on both answers TRYAGAIN.
        var move = Begin(Stored(key));
        move.Migrate(fence);
        var before = TryAgains();
        release.TrySetResult();
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await Within(failing, "the call ended"));
        Assert.That(thrown!.Message, Is.EqualTo("body failed"), "the caller gets the body's own exception");
        await Eventually(() => TryAgains() > before, "the fence's release was answered TRYAGAIN");
        Finish(move);
        TestContext.Out.WriteLine(
            $"fence after the lost release: exists={Db.KeyExists(fence)}, ttl={Db.KeyTimeToLive(fence)}");

        // The next miss must compute and store at once, not wait for the leftover fence to expire.
        var calls = 0;
        var next = async
            ? await Within(
                _cache.GetOrSetAsync(key, _ => { calls++; return new ValueTask<string>("fresh"); }).AsTask(), "next")
            : _cache.GetOrSet(key, _ => { calls++; return "fresh"; });

        Assert.Multiple(() =>
        {
            Assert.That(next, Is.EqualTo("fresh"));
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(_cache.Get<string>(key), Is.EqualTo("fresh"), "stored despite the leftover fence");
            Assert.That(Db.KeyExists(fence), Is.False, "the store took the leftover fence away");
        });
    }

    [Test]
    public async Task A_fill_cancelled_by_its_caller_while_its_fence_is_split_leaves_the_next_miss_free_to_store()
    {
        var key = NewKey("a");
        var fence = Stored(key) + FenceSuffix;
        var entered = NewGate();
        using var cts = new CancellationTokenSource();
        var cancelled = Task.Run(async () => await _cache.GetOrSetAsync<string>(key, async token =>
        {
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, token);
            return "never";
        }, cancellationToken: cts.Token));
        await Within(entered.Task, "the body started");
        var move = Begin(Stored(key));
        move.Migrate(fence);
        var before = TryAgains();
        cts.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await Within(cancelled, "the cancelled call"));
        await Eventually(() => TryAgains() > before, "the fence's release was answered TRYAGAIN");
        Finish(move);

        var next = await Within(_cache.GetOrSetAsync(key, _ => new ValueTask<string>("fresh")).AsTask(), "next");
        Assert.Multiple(() =>
        {
            Assert.That(next, Is.EqualTo("fresh"));
            Assert.That(_cache.Get<string>(key), Is.EqualTo("fresh"), "stored despite the leftover fence");
        });
    }

    [Test]
    public async Task A_generated_fill_refused_by_SkipCacheWhen_while_its_fence_is_split_leaves_the_next_call_storing(
        [Values] bool async)
    {
        var catalog = new SlotMovesCatalog { Answer = "unwanted" };
        Caches.AddInstance(SlotMovesCatalog.Alias, _cache);
        var key = NewKey("a");
        var fence = Stored(key) + FenceSuffix;
        var entered = NewGate();
        var release = NewGate();
        catalog.Hold = () =>
        {
            entered.TrySetResult();
            return release.Task;
        };

        var first = Task.Run(async () => async ? await catalog.ReadAsync(key) : catalog.Read(key));
        await Within(entered.Task, "the body started");
        var move = Begin(Stored(key));
        move.Migrate(fence);
        var before = TryAgains();
        release.TrySetResult();
        Assert.That(await Within(first, "the first call"), Is.EqualTo("unwanted"));
        await Eventually(() => TryAgains() > before, "the fence's release was answered TRYAGAIN");
        Finish(move);

        catalog.Hold = null;
        catalog.Answer = "wanted";
        var second = async ? await Within(catalog.ReadAsync(key), "second") : catalog.Read(key);
        var third = async ? await Within(catalog.ReadAsync(key), "third") : catalog.Read(key);

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.EqualTo("wanted"));
            Assert.That(third, Is.EqualTo("wanted"));
            Assert.That(catalog.BodyCalls, Is.EqualTo(2), "the second call stored, the third was a hit");
            Assert.That(_cache.Get<string>(key), Is.EqualTo("wanted"));
        });
    }

    // ----- 2. Backplane: another node's change of a key whose slot moves -----

    [Test]
    public async Task A_change_on_one_node_of_a_key_whose_slot_moves_makes_the_other_node_drop_its_copy(
        [Values] Change change, [Values] bool async)
    {
        var space = "bp" + Guid.NewGuid().ToString("N")[..8];
        var a = Node(space, "a");
        var b = Node(space, "b");
        var key = NewKey("a");
        var other = KeyBeside(key, "b");
        var tag = TagBeside(key);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = [tag] };
        await a.SetAsync(key, "v1", options);
        await a.SetAsync(other, "w1", options);
        Assert.That(await b.GetOrSetAsync(key, _ => new ValueTask<string>("not called"), options), Is.EqualTo("v1"));
        await Eventually(() => Holds(b, key), "B holds a copy");

        // The key goes to the target, everything else of its slot (its fence, its neighbour, the tag record) stays.
        var stored = space + ":" + key;
        var move = Begin(stored);
        move.Migrate(stored);
        var running = Task.Run(async () =>
        {
            switch (change)
            {
                case Change.Set when async: await a.SetAsync(key, "v2", options); break;
                case Change.Set: a.Set(key, "v2", options); break;
                case Change.Delete when async: await a.DeleteAsync(key); break;
                case Change.Delete: a.Delete(key); break;
                case Change.MultiSet when async:
                    await a.MultiSetAsync([KeyValuePair.Create(key, "v2"), KeyValuePair.Create(other, "w2")]);
                    break;
                case Change.MultiSet:
                    a.MultiSet([KeyValuePair.Create(key, "v2"), KeyValuePair.Create(other, "w2")]);
                    break;
                case Change.InvalidateTags when async: await a.InvalidateTagsAsync([tag]); break;
                case Change.InvalidateTags: a.InvalidateTags(tag); break;
            }
        });

        // A batch write waits the move out (TRYAGAIN); the others return while the slot is still split.
        if (change == Change.MultiSet)
        {
            await ThroughTheMove(move, running);

            // The message may still be on its way when the write returns (docs/multilevel.md): B drops it soon after.
            await Eventually(() => !Holds(b, key), "B dropped its copy after the batch write");
        }
        else
        {
            await Within(running, "the change returned while the slot is split");
            await Eventually(() => !Holds(b, key), "B dropped its copy while the slot is still split");
            Finish(move);
        }

        // A's batch writes no tags, and a tagged read takes an untagged entry as a miss (docs/tags.md): B reads it
        // without them.
        var expected = change switch { Change.Set or Change.MultiSet => "v2", _ => "fresh" };
        var readOptions = change == Change.MultiSet ? new CacheEntryOptions { Ttl = options.Ttl } : options;
        var read = await Within(
            b.GetOrSetAsync(key, _ => new ValueTask<string>("fresh"), readOptions).AsTask(), "B's read");
        Assert.That(read, Is.EqualTo(expected), "B reads the change, not its old copy");
    }

    [Test]
    public async Task A_generated_method_on_two_levels_reads_a_value_L2_holds_at_once_while_its_slot_migrates(
        [Values] bool async, [Values(5, 1)] int timeoutSeconds)
    {
        var space = "hit" + Guid.NewGuid().ToString("N")[..8];
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache
            {
                ConnectionString = Cluster.ConnectionString,
                Namespace = space,
                Timeout = TimeSpan.FromSeconds(timeoutSeconds),
            });
        _disposables.Add(node);
        Caches.AddInstance(SlotMovesCatalog.Alias, node);
        var catalog = new SlotMovesCatalog { Answer = "recomputed" };
        var key = NewKey("a");
        await node.L2.SetAsync(key, "stored", TimeSpan.FromMinutes(1));

        // The slot starts migrating and no key has moved yet, the first state of every resharding: the value is on its
        // owner, which answers a read of it. The read must not wait for the whole move.
        var move = Begin(space + ":" + key);
        var before = TryAgains();
        var started = Stopwatch.StartNew();
        var read = Task.Run(async () => async ? await catalog.ReadAsync(key) : catalog.Read(key));
        var answeredDuringTheMove = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(2))) == read;
        var took = started.Elapsed;
        var tryAgains = TryAgains() - before;
        Finish(move);
        var value = await Within(read, "the read");
        TestContext.Out.WriteLine($"answered after {took.TotalMilliseconds:0} ms; {tryAgains} TRYAGAIN meanwhile");

        // Held for 2 s: with a Timeout of 5 s the read waits it out; with 1 s it gives up, runs the body (fail-open).
        Assert.Multiple(() =>
        {
            Assert.That(answeredDuringTheMove, Is.True, "a hit in L2 answered while the slot migrates");
            Assert.That(took, Is.LessThan(TimeSpan.FromMilliseconds(1500)), "a hit costs a round trip, not the move (2 s)");
            Assert.That(value, Is.EqualTo("stored"));
            Assert.That(catalog.BodyCalls, Is.Zero, "the value L2 holds is not computed again");
        });
    }

    // ----- 3. Tags: the tag record's slot and the entry's slot moving -----

    [Test]
    public async Task An_invalidation_of_a_tag_whose_record_slot_moves_is_final_for_another_connection(
        [Values] bool async, [Values] bool recordMoves)
    {
        // The tag shares the entry's hash tag, so the record and the entry are in the slot that moves.
        using var other = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
        var key = NewKey("a");
        var tag = TagBeside(key);
        var record = Space + ":__cached:tag:" + tag;
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = [tag] };
        Assert.That(await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("old"), options), Is.EqualTo("old"));
        Assert.That(Db.KeyExists(record), Is.True, "the tag has a record");

        var move = Begin(Stored(key));
        move.Migrate(recordMoves ? record : Stored(key));
        if (async)
        {
            await Within(other.InvalidateTagsAsync([tag]).AsTask(), "the invalidation returned, the slot split");
        }
        else
        {
            await Within(Task.Run(() => other.InvalidateTags(tag)), "the invalidation returned, the slot split");
        }

        // Read while the slot is still split: the read that opens the fill waits the move out.
        var read = await ThroughTheMove(move, Task.Run(async () => async
            ? await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("fresh"), options)
            : _cache.GetOrSet(key, _ => "fresh", options)));

        Assert.That(read, Is.EqualTo("fresh"), "no read after the invalidation returned gets the entry it tagged");
        Assert.That(await other.GetOrSetAsync(key, _ => new ValueTask<string>("third"), options), Is.EqualTo("fresh"));
    }

    [Test]
    public async Task A_fill_overtaken_by_a_tag_invalidation_while_its_slot_moves_stores_nothing([Values] bool async)
    {
        using var other = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
        var key = NewKey("a");
        var tag = TagBeside(key);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = [tag] };
        var entered = NewGate();
        var release = NewGate();
        var filling = Task.Run(async () => await _cache.GetOrSetAsync(key, async _ =>
        {
            entered.TrySetResult();
            await release.Task;
            return "computed before the invalidation";
        }, options));
        await Within(entered.Task, "the body started");

        var move = Begin(Stored(key));
        move.Migrate(Stored(key) + FenceSuffix);
        if (async)
        {
            await Within(other.InvalidateTagsAsync([tag]).AsTask(), "the invalidation");
        }
        else
        {
            await Within(Task.Run(() => other.InvalidateTags(tag)), "the invalidation");
        }

        release.TrySetResult();
        await Settle(move, filling);

        Assert.That(
            await other.GetOrSetAsync(key, _ => new ValueTask<string>("fresh"), options),
            Is.EqualTo("fresh"),
            "the value computed before the invalidation is not served after it returned");
    }

    // ----- 4. Every invalidating command with the key and its fence on different primaries -----

    [Test]
    public async Task A_command_sent_while_the_key_and_its_fence_are_split_refuses_the_open_fill(
        [Values] Command command, [Values] bool async)
    {
        // The command comes from another connection (another process): the fill can learn of it only from the fence.
        using var other = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
        var key = NewKey("a");
        var neighbour = KeyBeside(key, "b");
        var fence = Stored(key) + FenceSuffix;
        if (command != Command.Add)
        {
            await _cache.SetAsync(key, 5L);
        }

        var fills = (IFencedFillCache)_cache;
        using var ticket = async ? await fills.OpenFillAsync(key) : fills.OpenFill(key);
        Assert.That(Db.KeyExists(fence), Is.True, "the fill opened its fence");

        // The fence goes to the target; the key (when there is one) and the count of open fills stay.
        var move = Begin(Stored(key));
        move.Migrate(fence);
        var running = Task.Run(async () =>
        {
            switch (command)
            {
                case Command.Set: _ = async ? await other.SetAsync(key, 7L) : other.Set(key, 7L); break;
                case Command.Add: _ = async ? await other.AddAsync(key, 7L) : other.Add(key, 7L); break;
                case Command.Delete: _ = async ? await other.DeleteAsync(key) : other.Delete(key); break;
                case Command.Increment:
                    _ = async ? await other.IncrementAsync(key, 1) : other.Increment(key, 1);
                    break;
                case Command.Expire:
                    _ = async
                        ? await other.ExpireAsync(key, TimeSpan.FromMinutes(5))
                        : other.Expire(key, TimeSpan.FromMinutes(5));
                    break;
                case Command.MultiSet:
                    KeyValuePair<string, long>[] pairs =
                        [KeyValuePair.Create(key, 7L), KeyValuePair.Create(neighbour, 8L)];
                    _ = async ? await other.MultiSetAsync(pairs) : other.MultiSet(pairs);
                    break;
            }
        });
        if (command == Command.MultiSet)
        {
            // Its fence move names the neighbour's fence too, which exists nowhere: TRYAGAIN until the move ends.
            await ThroughTheMove(move, running);
        }
        else
        {
            await Within(running, $"{command} returned while the slot is split");
        }

        // The fill's script reads the key, the fence and the count: split, it waits the move out.
        var stored = await ThroughTheMoveIfOpen(move, Task.Run(async () => async
            ? await fills.TryFillAsync(ticket, 99L)
            : fills.TryFill(ticket, 99L)));
        Finish(move);

        long? expected = command switch
        {
            Command.Delete => null,
            Command.Increment => 6,
            Command.Expire => 5,
            _ => 7,
        };
        Assert.Multiple(() =>
        {
            Assert.That(stored, Is.False, $"the fill opened before the {command} did not store");
            Assert.That(_cache.Get<long?>(key), Is.EqualTo(expected), $"the key holds what the {command} left");
        });
    }

    [Test]
    public async Task A_MultiGet_of_a_hit_and_a_miss_answers_at_once_while_their_slot_migrates([Values] bool async)
    {
        var key = NewKey("a");
        var absent = KeyBeside(key, "never-written");
        await _cache.SetAsync(key, "here");

        // The slot starts migrating and no key has moved yet: both keys are answered by their owner one by one.
        var move = Begin(Stored(key));
        Assert.That(await _cache.GetAsync<string>(key), Is.EqualTo("here"));
        Assert.That(await _cache.GetAsync<string>(absent), Is.Null);
        var started = Stopwatch.StartNew();
        var read = Task.Run(async () => async
            ? await _cache.MultiGetAsync<string>([key, absent])
            : _cache.MultiGet<string>([key, absent]));
        var answeredDuringTheMove = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(2))) == read;
        var took = started.Elapsed;
        Finish(move);
        var values = await Within(read, "the batch read");
        TestContext.Out.WriteLine($"answered after {took.TotalMilliseconds:0} ms");

        Assert.Multiple(() =>
        {
            Assert.That(answeredDuringTheMove, Is.True, "a batch read with a miss answered while the slot migrates");
            Assert.That(values, Is.EqualTo(new[] { "here", null }));
        });
    }

    [Test]
    public async Task Exists_Get_and_Add_of_a_key_whose_slot_is_split_answer_from_the_right_primary([Values] bool async)
    {
        var key = NewKey("a");
        var neighbour = KeyBeside(key, "b");
        await _cache.SetAsync(key, "here");
        await _cache.SetAsync(neighbour, "there");
        var move = Begin(Stored(key));
        move.Migrate(Stored(key));

        var answers = await Within(Task.Run(async () => async
            ? (await _cache.ExistsAsync(key), await _cache.ExistsAsync(neighbour), await _cache.GetAsync<string>(key),
                await _cache.GetAsync<string>(neighbour))
            : (_cache.Exists(key), _cache.Exists(neighbour), _cache.Get<string>(key), _cache.Get<string>(neighbour))),
            "the reads");
        Assert.That(answers, Is.EqualTo((true, true, "here", "there")));
        Assert.ThrowsAsync<KeyExistsException>(async () =>
        {
            if (async)
            {
                await _cache.AddAsync(key, "again");
            }
            else
            {
                _cache.Add(key, "again");
            }
        }, "Add of a key that moved to the target still sees it");
        Assert.ThrowsAsync<KeyExistsException>(async () =>
        {
            if (async)
            {
                await _cache.AddAsync(neighbour, "again");
            }
            else
            {
                _cache.Add(neighbour, "again");
            }
        }, "Add of a key left on the source still sees it");
        Finish(move);
        Assert.That(await _cache.MultiGetAsync<string>([key, neighbour]), Is.EqualTo(new[] { "here", "there" }));
    }

    // ----- Leases and [MultiCached] across a move -----

    [Test]
    public async Task Two_connections_under_a_lease_on_a_key_whose_slot_moves_make_one_body_call_and_store()
    {
        using var other = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
        var key = NewKey("a");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Lease = TimeSpan.FromSeconds(8) };
        var calls = 0;
        Func<CancellationToken, ValueTask<string>> body = async _ =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(50);
            return "computed";
        };

        // Nothing of the slot exists yet: the fill's scripts on several keys are sent on to the target and answered
        // TRYAGAIN there until the move ends, with the lease held.
        var move = Begin(Stored(key));
        var first = Task.Run(async () => await _cache.GetOrSetAsync(key, body, options));
        var second = Task.Run(async () => await other.GetOrSetAsync(key, body, options));
        var answers = await ThroughTheMove(move, Task.WhenAll(first, second));

        Assert.Multiple(() =>
        {
            Assert.That(answers, Is.EqualTo(new[] { "computed", "computed" }));
            Assert.That(calls, Is.EqualTo(1), "the lease let one caller compute");
            Assert.That(_cache.Get<string>(key), Is.EqualTo("computed"));
            Assert.That(Db.KeyExists(Stored(key) + "-lock"), Is.False, "no lock is left behind");
        });
    }

    [Test]
    public async Task A_MultiCached_batch_over_a_split_slot_stores_every_key_and_an_overtaken_one_is_not_stored(
        [Values] bool async)
    {
        var catalog = new SlotMovesCatalog();
        Caches.AddInstance(SlotMovesCatalog.Alias, _cache);
        using var other = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
        var first = NewKey("a");
        var second = KeyBeside(first, "b");
        var elsewhere = NewKey("c");
        var cached = KeyBeside(first, "d");
        await _cache.SetAsync(cached, "kept");
        var entered = NewGate();
        var release = NewGate();
        catalog.Hold = () =>
        {
            entered.TrySetResult();
            return release.Task;
        };

        // The batch's fences open before the move; the body is held while a neighbour moves and a key is deleted.
        string[] ids = [first, second, elsewhere, cached];
        var batch = Task.Run(async () => async ? await catalog.ReadManyAsync(ids) : catalog.ReadMany(ids));
        await Within(entered.Task, "the batch body started");
        var move = Begin(Stored(first));
        move.Migrate(Stored(cached), Stored(first) + FenceSuffix);
        await other.DeleteAsync(second);
        release.TrySetResult();
        var answered = await ThroughTheMove(move, batch);

        Assert.Multiple(() =>
        {
            Assert.That(catalog.Asked.Single(), Is.EquivalentTo(new[] { first, second, elsewhere }), "the missing");
            Assert.That(answered[cached], Is.EqualTo("kept"));
            Assert.That(answered[first], Is.EqualTo("v1-" + first));
            Assert.That(_cache.Get<string>(first), Is.EqualTo("v1-" + first), "stored across the split slot");
            Assert.That(_cache.Get<string>(elsewhere), Is.EqualTo("v1-" + elsewhere));
            Assert.That(_cache.Exists(second), Is.False, "the key deleted while the body ran is not stored");
        });
    }

    [Test]
    public async Task A_RedLock_released_after_its_key_moved_to_the_new_owner_lets_the_next_holder_in_at_once(
        [Values] bool async)
    {
        using var other = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = Space };
        var key = NewKey("a");
        var lease = TimeSpan.FromSeconds(8);
        var held = async ? await RedLock.AcquireAsync(_cache, key, lease) : new RedLock(_cache, key, lease);
        Assert.That(held.IsAcquired, Is.True);
        var move = Begin(Stored(key));
        move.Migrate(Stored(key) + "-lock");

        var waited = Stopwatch.StartNew();
        var next = Task.Run(async () => async
            ? await RedLock.AcquireAsync(other, key, lease)
            : new RedLock(other, key, lease));
        await Task.Delay(200);
        Assert.That(next.IsCompleted, Is.False, "the lock on the new owner is still held");
        if (async)
        {
            await held.DisposeAsync();
        }
        else
        {
            held.Dispose();
        }

        using var second = await Within(next, "the next holder");
        Assert.Multiple(() =>
        {
            Assert.That(second.IsAcquired, Is.True);
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(3)), "in at the release, not the lease's end");
        });
        Finish(move);
    }

    [Test]
    public async Task A_read_through_on_a_slot_split_longer_than_the_Timeout_fails_open_with_the_body_s_value(
        [Values] bool async, [Values] bool generated)
    {
        using var timed = new RedisCache
        {
            ConnectionString = Cluster.ConnectionString,
            Namespace = Space,
            Timeout = TimeSpan.FromSeconds(1),
        };
        var catalog = new SlotMovesCatalog { Answer = "computed" };
        Caches.AddInstance(SlotMovesCatalog.Alias, timed);
        var key = NewKey("a");
        var neighbour = KeyBeside(key, "b");
        await timed.SetAsync(neighbour, "there");
        Assert.That(await timed.GetOrSetAsync(NewKey("warm"), _ => new ValueTask<string>("w")), Is.EqualTo("w"));

        // The neighbour goes, the key and its fence exist nowhere: the fill's open is answered TRYAGAIN for as long as
        // the slot stays split, here longer than the cache's Timeout.
        var move = Begin(Stored(key));
        move.Migrate(Stored(neighbour));
        var started = Stopwatch.StartNew();
        var read = await Within(Task.Run(async () => (generated, async) switch
        {
            (true, true) => await catalog.ReadAsync(key),
            (true, false) => catalog.Read(key),
            (false, true) => await timed.GetOrSetAsync(key, _ => new ValueTask<string>("computed")),
            _ => timed.GetOrSet(key, _ => "computed"),
        }), "the read-through");
        var took = started.Elapsed;
        Finish(move);
        TestContext.Out.WriteLine($"answered after {took.TotalMilliseconds:0} ms");

        Assert.Multiple(() =>
        {
            Assert.That(read, Is.EqualTo("computed"), "a cache fault does not fail the call");
            Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(2.5)), "within about the Timeout");
        });
    }

    // ----- Namespaces: Clear reaches both sides of a move -----

    [Test]
    public async Task Clear_of_a_namespace_removes_its_keys_on_both_sides_of_a_move_and_refuses_open_fills(
        [Values] bool async)
    {
        var space = "cl" + Guid.NewGuid().ToString("N")[..8];
        using var cache = new RedisCache { ConnectionString = Cluster.ConnectionString, Namespace = space };
        var a = NewKey("a");
        var b = KeyBeside(a, "b");
        var c = KeyBeside(a, "c");
        await cache.MultiSetAsync(
            [KeyValuePair.Create(a, "1"), KeyValuePair.Create(b, "2"), KeyValuePair.Create(c, "3")]);
        var fills = (IFencedFillCache)cache;
        using var ticket = fills.OpenFill(NewKey("unrelated-slot"));
        var move = Begin(space + ":" + a);
        move.Migrate(space + ":" + a);

        var cleared = await Within(Task.Run(async () => async ? await cache.ClearAsync() : cache.Clear()), "Clear");
        Finish(move);

        Assert.Multiple(() =>
        {
            Assert.That(cleared, Is.True);
            Assert.That(cache.MultiGet<string>([a, b, c]), Is.EqualTo(new string?[] { null, null, null }));
            Assert.That(fills.TryFill(ticket, "late"), Is.False, "a fill opened before the clear does not store");
        });
    }

    // ----- 5. Cancellation and timeouts while TRYAGAIN is waited out -----

    // A MultiGet no longer waits a move out (it reads its keys one by one instead): see
    // A_MultiGet_of_a_hit_and_a_miss_answers_at_once_while_their_slot_migrates.
    [Test]
    public async Task Cancelling_an_async_call_that_waits_out_TRYAGAIN_throws_promptly_with_the_caller_s_token(
        [Values("MultiSet", "GetOrSet")] string what)
    {
        var key = NewKey("a");
        var neighbour = KeyBeside(key, "b");
        await _cache.MultiSetAsync([KeyValuePair.Create(key, "1"), KeyValuePair.Create(neighbour, "2")]);
        var fresh = KeyBeside(key, "c");
        var move = Begin(Stored(key));
        move.Migrate(Stored(key));
        using var cts = new CancellationTokenSource();
        var before = TryAgains();
        Task call = what switch
        {
            "MultiSet" => _cache.MultiSetAsync([KeyValuePair.Create(key, "x"), KeyValuePair.Create(neighbour, "y")],
                cancellationToken: cts.Token).AsTask(),
            _ => _cache.GetOrSetAsync(fresh, _ => new ValueTask<string>("z"), cancellationToken: cts.Token).AsTask(),
        };
        await Eventually(() => TryAgains() > before || call.IsCompleted, "the call met TRYAGAIN");
        Assert.That(call.IsCompleted, Is.False, () => $"the call waits the move out: {call.Exception?.InnerException}");

        var cancelled = Stopwatch.StartNew();
        cts.Cancel();
        var thrown = Assert.CatchAsync<OperationCanceledException>(
            async () => await Within(call, "the cancelled call"));
        Assert.Multiple(() =>
        {
            Assert.That(cancelled.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "promptly, not at the cache's Timeout (5 s)");
            Assert.That(thrown!.CancellationToken, Is.EqualTo(cts.Token), "with the caller's token");
        });
    }

    [Test]
    public async Task An_abandoned_MultiSetAsync_does_not_land_after_a_later_Set_of_the_same_key_returned(
        [Values("cancelled", "timed out")] string abandonedBy)
    {
        // Timed out: a cache on a connection of the application's own (SyncTimeout 5 s) with a Timeout of its own.
        using var connection = ConnectionMultiplexer.Connect(Cluster.ConnectionString);
        using var timed = new RedisCache
        {
            Connection = connection,
            Namespace = Space,
            Timeout = TimeSpan.FromMilliseconds(500),
        };
        var cache = abandonedBy == "cancelled" ? _cache : timed;
        var key = NewKey("a");
        var neighbour = KeyBeside(key, "b");
        await cache.MultiSetAsync([KeyValuePair.Create(key, "first"), KeyValuePair.Create(neighbour, "first")]);
        var move = Begin(Stored(key));
        move.Migrate(Stored(key));
        using var cts = new CancellationTokenSource();
        var before = TryAgains();
        var started = Stopwatch.StartNew();
        var abandoned = cache.MultiSetAsync(
            [KeyValuePair.Create(key, "abandoned"), KeyValuePair.Create(neighbour, "abandoned")],
            cancellationToken: cts.Token).AsTask();
        await Eventually(() => TryAgains() > before, "the batch write met TRYAGAIN");
        if (abandonedBy == "cancelled")
        {
            cts.Cancel();
            Assert.CatchAsync<OperationCanceledException>(async () => await Within(abandoned, "the cancelled write"));
        }
        else
        {
            // Past the Timeout, or at the last TRYAGAIN its retries allow within it: both tell the caller it failed.
            var thrown = Assert.CatchAsync<Exception>(async () => await Within(abandoned, "the timed out write"));
            Assert.That(thrown, Is.InstanceOf<TimeoutException>().Or.InstanceOf<CacheBackendException>());
        }

        // The caller was told its write did not complete, and writes the key again; that write returns.
        Assert.That(await cache.SetAsync(key, "later"), Is.True);
        Finish(move);

        // Whatever the abandoned write was going to do, it must not land after the later write returned. Its retries
        // stop at the connection's timeout (5 s) after its first attempt: watch until then.
        while (started.Elapsed < TimeSpan.FromSeconds(6))
        {
            Assert.That(await cache.GetAsync<string>(key), Is.EqualTo("later"),
                $"the abandoned batch write overwrote a later write, {started.Elapsed.TotalMilliseconds:0} ms in");
            await Task.Delay(50);
        }
    }

    [Test]
    public async Task A_batch_write_held_by_TRYAGAIN_past_the_cache_Timeout_fails_within_it_with_a_documented_exception(
        [Values] bool async)
    {
        using var timed = new RedisCache
        {
            ConnectionString = Cluster.ConnectionString,
            Namespace = Space,
            Timeout = TimeSpan.FromSeconds(1),
        };
        var key = NewKey("a");
        var neighbour = KeyBeside(key, "b");
        await timed.MultiSetAsync([KeyValuePair.Create(key, "1"), KeyValuePair.Create(neighbour, "2")]);
        var move = Begin(Stored(key));
        move.Migrate(Stored(key));
        KeyValuePair<string, string>[] pairs = [KeyValuePair.Create(key, "x"), KeyValuePair.Create(neighbour, "y")];

        var started = Stopwatch.StartNew();
        var thrown = Assert.CatchAsync<Exception>(async () => await Within(
            Task.Run(async () => async ? await timed.MultiSetAsync(pairs) : timed.MultiSet(pairs)), "the write"));
        var took = started.Elapsed;
        TestContext.Out.WriteLine($"{thrown?.GetType().Name} after {took.TotalMilliseconds:0} ms: {thrown?.Message}");

        Assert.Multiple(() =>
        {
            Assert.That(thrown, Is.InstanceOf<CacheBackendException>().Or.InstanceOf<TimeoutException>());
            Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(2)), "within the cache's Timeout of 1 s, give or take");
        });
    }

    // ----- Helpers -----

    private IDatabase Db => Direct.GetDatabase();

    /// <summary>A key with a hash tag of its own per call, so each test holds a slot of its own half moved.</summary>
    private string NewKey(string name)
        => "{s" + (++_tag).ToString(CultureInfo.InvariantCulture) + Guid.NewGuid().ToString("N")[..6] + "}" + name;

    /// <summary>Another key of <paramref name="key"/>'s hash slot (the same hash tag).</summary>
    private static string KeyBeside(string key, string name) => key[..(key.IndexOf('}') + 1)] + name;

    /// <summary>A tag whose record (<c>ns:__cached:tag:tag</c>) lands in <paramref name="key"/>'s hash slot.</summary>
    private static string TagBeside(string key) => key[..(key.IndexOf('}') + 1)] + "tag";

    private static string Stored(string key) => Space + ":" + key;

    private static TaskCompletionSource NewGate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private MultiLevelCache Node(string space, string name)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = $"{Cluster.ConnectionString},name=sm-l2-{name}", Namespace = space },
            new RedisBackplane($"{Cluster.ConnectionString},name=sm-bp-{name}"));
        _disposables.Add(node);
        return node;
    }

    /// <summary>Whether the node's L1 serves a current copy (a read of L1 itself, which checks its tags).</summary>
    private static bool Holds(MultiLevelCache node, string key)
        => node.L1.TryGet<string>(key, out _, node.L2.Namespace);

    /// <summary>Starts moving the slot of <paramref name="storedKey"/> to the next primary; no key moves yet.</summary>
    private RedisCluster.SlotMove Begin(string storedKey)
    {
        var slot = Cluster.SlotOf(storedKey);
        var source = Cluster.OwnerOf(slot);
        var target = Cluster.Nodes[(Cluster.Nodes.ToList().IndexOf(source) + 1) % Cluster.Nodes.Count];
        _open = Cluster.BeginMove(slot, target);
        return _open;
    }

    private void Finish(RedisCluster.SlotMove move)
    {
        if (ReferenceEquals(_open, move))
        {
            _open = null;
            move.Finish();
        }
    }

    /// <summary>
    /// Waits until a primary answered TRYAGAIN to <paramref name="running"/> while it still runs, checks it did not
    /// fail
    /// on it, then ends the move and returns what the call answers.
    /// </summary>
    private async Task<T> ThroughTheMove<T>(RedisCluster.SlotMove move, Task<T> running)
    {
        await ThroughTheMove(move, (Task)running);
        return await running;
    }

    private async Task ThroughTheMove(RedisCluster.SlotMove move, Task running)
    {
        var before = TryAgains();
        var waited = Stopwatch.StartNew();
        while (TryAgains() == before && !running.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(4))
        {
            await Task.Delay(5);
        }

        try
        {
            Assert.That(running.IsFaulted, Is.False, () => $"failed on TRYAGAIN: {running.Exception?.InnerException}");
            Assert.That(running.IsCompleted, Is.False, "the call waited for the move");
        }
        finally
        {
            Finish(move);
        }

        await Within(running, "the call after the move");
    }

    /// <summary>Waits until the call met TRYAGAIN or ended, checks it did not fail, ends the move, awaits it.</summary>
    private async Task Settle(RedisCluster.SlotMove move, Task running)
    {
        var before = TryAgains();
        var waited = Stopwatch.StartNew();
        while (TryAgains() == before && !running.IsCompleted && waited.Elapsed < TimeSpan.FromSeconds(4))
        {
            await Task.Delay(5);
        }

        try
        {
            Assert.That(running.IsFaulted, Is.False, () => $"did not fail: {running.Exception?.InnerException}");
        }
        finally
        {
            Finish(move);
        }

        await Within(running, "the call after the move");
    }

    /// <summary>As <see cref="ThroughTheMove{T}"/> when the move is still open; otherwise waits for the call.</summary>
    private async Task<T> ThroughTheMoveIfOpen<T>(RedisCluster.SlotMove move, Task<T> running)
        => ReferenceEquals(_open, move) ? await ThroughTheMove(move, running) : await Within(running, "the call");

    private static async Task<T> Within<T>(Task<T> task, string what)
    {
        await Within((Task)task, what);
        return await task;
    }

    private static async Task Within(Task task, string what)
    {
        if (await Task.WhenAny(task, Task.Delay(s_limit)) != task)
        {
            Assert.Fail($"{what}: still running after {s_limit.TotalSeconds} s (a hang)");
        }

        await task;
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), what);
            await Task.Delay(5);
        }
    }

    /// <summary>How many TRYAGAIN errors the primaries have answered (<c>INFO errorstats</c>).</summary>
    private long TryAgains()
        => Cluster.Nodes.Sum(node => Direct.GetServer("127.0.0.1", node.Port).Info("errorstats")
            .SelectMany(static section => section)
            .Where(static pair => pair.Key == "errorstat_TRYAGAIN")
            .Sum(static pair => long.Parse(pair.Value.Split('=')[1], CultureInfo.InvariantCulture)));
}
