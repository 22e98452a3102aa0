using System.Collections.Concurrent;
using System.Diagnostics;
using Cached.Tests.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// Generated methods for the outsider review of <see cref="CacheScope"/>: every shape (sync, Task, ValueTask), a lease,
/// fail-safe, tags, eager refresh and [MultiCached] batches, all on one alias the test points at its cache. Bodies are
/// set by the test and every call of a body is logged as "method:id".
/// </summary>
public partial class ScopesReviewSvc
{
    public const string Alias = "outsider-scopes-review";

    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentQueue<string> Batches { get; } = new();

    public Func<string, int, CancellationToken, Task<string>> Body { get; set; } = static (m, id, _) => Task.FromResult($"{m}-{id}");

    public Func<string, IReadOnlyList<int>, Task<Dictionary<int, string>>> BatchBody { get; set; }
        = static (m, ids) => Task.FromResult(ids.ToDictionary(static i => i, i => $"{m}-{i}"));

    public int CallsOf(string method, int id) => Calls.Count(c => c == $"{method}:{id}");

    private Task<string> Run(string method, int id, CancellationToken ct)
    {
        Calls.Enqueue($"{method}:{id}");
        return Body(method, id, ct);
    }

    private Task<Dictionary<int, string>> RunBatch(string method, IReadOnlyList<int> ids)
    {
        Batches.Enqueue($"{method}:[{string.Join(",", ids.Order())}]");
        return BatchBody(method, ids);
    }

    // ---- [Cached], one per shape ----------------------------------------------------------------------------------

    [Cached(Alias = Alias, Key = "sync:{id}", Ttl = 60)]
    public partial string Sync(int id);

    private string SyncCore(int id) => Run("sync", id, default).GetAwaiter().GetResult();

    [Cached(Alias = Alias, Key = "task:{id}", Ttl = 60)]
    public partial Task<string> TaskAsync(int id, CancellationToken ct = default);

    private Task<string> TaskAsyncCore(int id, CancellationToken ct) => Run("task", id, ct);

    [Cached(Alias = Alias, Key = "vt:{id}", Ttl = 60)]
    public partial ValueTask<string> ValueAsync(int id, CancellationToken ct = default);

    private ValueTask<string> ValueAsyncCore(int id, CancellationToken ct) => new(Run("vt", id, ct));

    // ---- a stampede lease ------------------------------------------------------------------------------------------

    [Cached(Alias = Alias, Key = "leased:{id}", Ttl = 60, Lease = 5)]
    public partial string Leased(int id);

    private string LeasedCore(int id) => Run("leased", id, default).GetAwaiter().GetResult();

    [Cached(Alias = Alias, Key = "leased-t:{id}", Ttl = 60, Lease = 5)]
    public partial Task<string> LeasedAsync(int id, CancellationToken ct = default);

    private Task<string> LeasedAsyncCore(int id, CancellationToken ct) => Run("leased-t", id, ct);

    // ---- fail-safe: fresh 60 s, kept an hour more, a served last value fresh again for 30 s -----------------------

    [Cached(Alias = Alias, Key = "safe:{id}", Ttl = 60, FailSafe = 3600, FailSafeThrottle = 30)]
    public partial string Safe(int id);

    private string SafeCore(int id) => Run("safe", id, default).GetAwaiter().GetResult();

    [Cached(Alias = Alias, Key = "safe-t:{id}", Ttl = 60, FailSafe = 3600, FailSafeThrottle = 30)]
    public partial Task<string> SafeAsync(int id, CancellationToken ct = default);

    private Task<string> SafeAsyncCore(int id, CancellationToken ct) => Run("safe-t", id, ct);

    // ---- eager refresh: a hit after 5 s of the 10 reloads in the background ---------------------------------------

    [Cached(Alias = Alias, Key = "eager:{id}", Ttl = 10, EagerRefresh = 0.5)]
    public partial Task<string> EagerAsync(int id, CancellationToken ct = default);

    private Task<string> EagerAsyncCore(int id, CancellationToken ct) => Run("eager", id, ct);

    // ---- [MultiCached] ---------------------------------------------------------------------------------------------

    private static string ManyKey(int id) => $"many:{id}";

    private static string ManyAsyncKey(int id) => $"many-t:{id}";

    private static string SafeManyKey(int id) => $"safe-many:{id}";

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(ManyKey))]
    public partial Dictionary<int, string> Many(int[] ids);

    private Dictionary<int, string> ManyCore(int[] ids) => RunBatch("many", ids).GetAwaiter().GetResult();

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(ManyAsyncKey))]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids) => RunBatch("many-t", ids);

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, FailSafe = 3600, FailSafeThrottle = 30, KeyBuilder = nameof(SafeManyKey))]
    public partial Task<Dictionary<int, string>> SafeManyAsync(IReadOnlyList<int> ids);

    private Task<Dictionary<int, string>> SafeManyAsyncCore(IReadOnlyList<int> ids) => RunBatch("safe-many", ids);
}

public enum ScopeBackend
{
    Memory,
    Redis,
    TwoLevel,
}

public enum ScopeShape
{
    Sync,
    Task,
    ValueTask,
}

public enum ScopeKind
{
    SkipRead,
    SkipWrite,
    Bypass,
}

public enum LeaseCall
{
    GeneratedSync,
    GeneratedAsync,
    GetOrSet,
    GetOrSetAsync,
}

/// <summary>
/// An outsider's review of <see cref="CacheScope"/> across features, from the public API, on a
/// <see cref="SimpleMemoryCache"/>, a <see cref="RedisCache"/> on a real redis-server and a <see cref="MultiLevelCache"/>
/// (memory over Redis, with the Redis backplane). Checked against the XML docs of CacheScope, docs/decorators.md
/// ("Skipping the cache for one call", [MultiCached]), docs/reliability.md (guarantee 1), docs/resilience.md (fail-safe,
/// eager refresh) and docs/testing.md: SkipRead runs the body and stores the fresh result (and neither joins a
/// computation under way nor is overwritten by it), SkipWrite reads and never stores, Bypass neither; nesting; flowing
/// into awaits, Task.Run and Parallel; a scope disposed while its call runs; scopes on other threads. Races are forced
/// with gates the bodies wait on; every wait is bounded.
/// </summary>
[TestFixture(ScopeBackend.Memory)]
[TestFixture(ScopeBackend.Redis)]
[TestFixture(ScopeBackend.TwoLevel)]
[NonParallelizable]
public sealed class OutsiderScopesReviewTests(ScopeBackend backend)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private static int s_ids = Random.Shared.Next(1_000_000, 2_000_000);

    private static readonly CacheEntryOptions s_failSafe = new()
    {
        Ttl = TimeSpan.FromSeconds(60),
        FailSafe = TimeSpan.FromHours(1),
        FailSafeThrottle = TimeSpan.FromSeconds(30),
    };

    private readonly List<IDisposable> _owned = [];
    private string _ns = null!;
    private FakeTimeProvider _time = null!;
    private ICache _cache = null!;
    private SimpleMemoryCache? _memory;
    private RedisCache? _probe;
    private MultiLevelCache? _node;
    private ConnectionMultiplexer? _direct;
    private ScopesReviewSvc _svc = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _ns = "osr" + Guid.NewGuid().ToString("N")[..8];
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        switch (backend)
        {
            case ScopeBackend.Memory:
                _cache = _memory = Own(new SimpleMemoryCache { TimeProvider = _time });
                break;
            case ScopeBackend.Redis:
                _cache = Own(Redis("a"));
                _probe = Own(Redis("probe"));
                break;
            default:
                // The node owns its levels and its backplane.
                _cache = _node = Own(new MultiLevelCache(
                    new SimpleMemoryCache { TimeProvider = _time },
                    Redis("l2"),
                    new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=osr-bp-" + _ns)));
                _probe = Own(Redis("probe"));
                break;
        }

        if (backend != ScopeBackend.Memory)
        {
            _direct = Own(ConnectionMultiplexer.Connect(SharedRedis.Server.ConnectionString + ",name=osr-direct-" + _ns));
        }

        Caches.AddInstance(ScopesReviewSvc.Alias, _cache);
        _svc = new ScopesReviewSvc();
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        try
        {
            _probe?.Clear();
        }
        finally
        {
            for (var i = _owned.Count - 1; i >= 0; i--)
            {
                _owned[i].Dispose();
            }

            _owned.Clear();
        }
    }

    private T Own<T>(T item) where T : IDisposable
    {
        _owned.Add(item);
        return item;
    }

    private RedisCache Redis(string name) => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString + ",name=osr-" + name + "-" + _ns,
        Namespace = _ns,
        TimeProvider = _time,
        Timeout = TimeSpan.FromSeconds(10),
    };

    private static int NewId() => Interlocked.Increment(ref s_ids);

    private static TaskCompletionSource Gate() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The batch body: the first call held until released, answering <paramref name="first"/>; later calls <paramref name="then"/> at once.</summary>
    private (TaskCompletionSource Entered, TaskCompletionSource Release) HoldFirstBatch(string first, string then)
    {
        var entered = Gate();
        var release = Gate();
        var n = 0;
        _svc.BatchBody = async (_, ids) =>
        {
            if (Interlocked.Increment(ref n) == 1)
            {
                entered.TrySetResult();
                await release.Task.WaitAsync(s_bound);
                return ids.ToDictionary(static i => i, _ => first);
            }

            return ids.ToDictionary(static i => i, _ => then);
        };
        return (entered, release);
    }

    /// <summary>
    /// Starts an ordinary miss of a new id whose body is held (answering <paramref name="first"/> once released; later
    /// bodies answer <paramref name="then"/> at once), and returns once that body runs.
    /// </summary>
    private async Task<(int Id, string Key, Task<string> Normal, TaskCompletionSource Release, Func<int> Calls)> StartHeldMiss(bool async, string first, string then)
    {
        var id = NewId();
        var entered = Gate();
        var release = Gate();
        var n = 0;
        _svc.Body = async (_, _, _) =>
        {
            if (Interlocked.Increment(ref n) == 1)
            {
                entered.TrySetResult();
                await release.Task.WaitAsync(s_bound);
                return first;
            }

            return then;
        };
        var normal = async ? _svc.TaskAsync(id) : OnOwnThread(() => _svc.Sync(id));
        await entered.Task.WaitAsync(s_bound);
        return (id, async ? $"task:{id}" : $"sync:{id}", normal, release, () => Volatile.Read(ref n));
    }

    private static Task<T> OnOwnThread<T>(Func<T> call)
        => Task.Factory.StartNew(call, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static IDisposable Open(ScopeKind kind) => kind switch
    {
        ScopeKind.SkipRead => CacheScope.SkipRead(),
        ScopeKind.SkipWrite => CacheScope.SkipWrite(),
        _ => CacheScope.Bypass(),
    };

    /// <summary>What the shared store holds under <paramref name="key"/> (memory itself, or Redis read by a probe of its own), by a plain read.</summary>
    private string? Held(string key)
    {
        var found = _memory is not null ? _memory.TryGet(key, out string? value) : _probe!.TryGet(key, out value);
        return found ? value : null;
    }

    /// <summary>Whether this node's L1 holds a copy (two levels only; false elsewhere).</summary>
    private bool InL1(string key) => _node?.IsInL1(key) ?? false;

    private static string MethodOf(ScopeShape shape) => shape switch
    {
        ScopeShape.Sync => "sync",
        ScopeShape.Task => "task",
        _ => "vt",
    };

    private static string KeyOf(ScopeShape shape, int id) => $"{MethodOf(shape)}:{id}";

    private async Task<string> Call(ScopeShape shape, int id) => shape switch
    {
        ScopeShape.Sync => _svc.Sync(id),
        ScopeShape.Task => await _svc.TaskAsync(id).WaitAsync(s_bound),
        _ => await _svc.ValueAsync(id).AsTask().WaitAsync(s_bound),
    };

    private void AssertNothingStored(string key, string why)
    {
        Assert.That(Held(key), Is.Null, $"{why}: the store holds nothing under '{key}'");
        Assert.That(InL1(key), Is.False, $"{why}: no L1 copy of '{key}'");
    }

    // ================================================================================================================
    // The three scopes on every shape
    // ================================================================================================================

    [Test]
    public async Task SkipRead_runs_the_body_over_a_cached_entry_and_stores_the_fresh_result([Values] ScopeShape shape)
    {
        var id = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        Assert.That(await Call(shape, id), Is.EqualTo("v1"));

        Volatile.Write(ref version, 2);
        string forced;
        using (CacheScope.SkipRead())
        {
            forced = await Call(shape, id);
        }

        Assert.Multiple(() =>
        {
            Assert.That(forced, Is.EqualTo("v2"), "SkipRead runs the body");
            Assert.That(_svc.CallsOf(MethodOf(shape), id), Is.EqualTo(2));
            Assert.That(Held(KeyOf(shape, id)), Is.EqualTo("v2"), "SkipRead stores the fresh result");
        });

        Volatile.Write(ref version, 3);
        Assert.That(await Call(shape, id), Is.EqualTo("v2"), "a later ordinary call hits the fresh value");
        Assert.That(_svc.CallsOf(MethodOf(shape), id), Is.EqualTo(2));
    }

    [Test]
    public async Task SkipWrite_answers_a_hit_and_stores_no_miss([Values] ScopeShape shape)
    {
        var cached = NewId();
        var missing = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        Assert.That(await Call(shape, cached), Is.EqualTo("v1"));

        Volatile.Write(ref version, 2);
        string hit;
        string miss;
        using (CacheScope.SkipWrite())
        {
            hit = await Call(shape, cached);
            miss = await Call(shape, missing);
        }

        Assert.Multiple(() =>
        {
            Assert.That(hit, Is.EqualTo("v1"), "SkipWrite reads the cache");
            Assert.That(_svc.CallsOf(MethodOf(shape), cached), Is.EqualTo(1), "a hit calls no body");
            Assert.That(miss, Is.EqualTo("v2"));
        });
        AssertNothingStored(KeyOf(shape, missing), "SkipWrite never stores");

        Volatile.Write(ref version, 3);
        Assert.That(await Call(shape, missing), Is.EqualTo("v3"), "the next ordinary call still misses");
    }

    [Test]
    public async Task Bypass_runs_the_body_and_leaves_the_entry_as_it_was([Values] ScopeShape shape)
    {
        var id = NewId();
        var missing = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        Assert.That(await Call(shape, id), Is.EqualTo("v1"));

        Volatile.Write(ref version, 2);
        string bypassed;
        using (CacheScope.Bypass())
        {
            bypassed = await Call(shape, id);
            await Call(shape, missing);
        }

        Assert.Multiple(() =>
        {
            Assert.That(bypassed, Is.EqualTo("v2"), "Bypass does not read");
            Assert.That(Held(KeyOf(shape, id)), Is.EqualTo("v1"), "Bypass does not write");
        });
        AssertNothingStored(KeyOf(shape, missing), "Bypass never stores");
        Assert.That(await Call(shape, id), Is.EqualTo("v1"));
    }

    // ================================================================================================================
    // SkipRead across a lease: the body must run
    // ================================================================================================================

    [Test]
    public async Task SkipRead_with_a_stampede_lease_still_runs_the_body_over_a_cached_entry([Values] LeaseCall how)
    {
        var id = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(60), Lease = TimeSpan.FromSeconds(5) };
        var key = how switch
        {
            LeaseCall.GeneratedSync => $"leased:{id}",
            LeaseCall.GeneratedAsync => $"leased-t:{id}",
            _ => $"gos-leased:{id}",
        };
        var factoryCalls = 0;

        async Task<string> Call()
        {
            switch (how)
            {
                case LeaseCall.GeneratedSync:
                    return _svc.Leased(id);
                case LeaseCall.GeneratedAsync:
                    return await _svc.LeasedAsync(id).WaitAsync(s_bound);
                case LeaseCall.GetOrSet:
                    return _cache.GetOrSet(key, _ =>
                    {
                        Interlocked.Increment(ref factoryCalls);
                        return $"v{Volatile.Read(ref version)}";
                    }, options);
                default:
                    return await _cache.GetOrSetAsync(key, _ =>
                    {
                        Interlocked.Increment(ref factoryCalls);
                        return new ValueTask<string>($"v{Volatile.Read(ref version)}");
                    }, options).AsTask().WaitAsync(s_bound);
            }
        }

        Assert.That(await Call(), Is.EqualTo("v1"));
        Volatile.Write(ref version, 2);
        string forced;
        using (CacheScope.SkipRead())
        {
            forced = await Call();
        }

        var bodies = how switch
        {
            LeaseCall.GeneratedSync => _svc.CallsOf("leased", id),
            LeaseCall.GeneratedAsync => _svc.CallsOf("leased-t", id),
            _ => Volatile.Read(ref factoryCalls),
        };
        Assert.Multiple(() =>
        {
            Assert.That(forced, Is.EqualTo("v2"), "SkipRead: 'the body runs and its result is stored', lease or not");
            Assert.That(bodies, Is.EqualTo(2), "the body ran for the SkipRead call");
            Assert.That(Held(key), Is.EqualTo("v2"), "the fresh result is stored");
        });
    }

    // ================================================================================================================
    // SkipRead racing a computation under way (reliability.md, guarantee 1)
    // ================================================================================================================

    [Test]
    public async Task SkipRead_does_not_join_a_running_miss_and_the_older_body_does_not_overwrite_it([Values] bool async)
    {
        var (id, key, normal, release, calls) = await StartHeldMiss(async, "old", "new");

        string forced;
        try
        {
            forced = async
                ? await Forced()
                : await OnOwnThread(() =>
                {
                    using (CacheScope.SkipRead())
                    {
                        return _svc.Sync(id);
                    }
                }).WaitAsync(TimeSpan.FromSeconds(3));
        }
        catch (TimeoutException)
        {
            release.TrySetResult();
            Assert.Fail("the SkipRead call waited for the computation already under way instead of running its own body");
            return;
        }

        async Task<string> Forced()
        {
            using (CacheScope.SkipRead())
            {
                return await _svc.TaskAsync(id).WaitAsync(TimeSpan.FromSeconds(3));
            }
        }

        release.TrySetResult();
        await normal.WaitAsync(s_bound);
        Assert.Multiple(() =>
        {
            Assert.That(forced, Is.EqualTo("new"), "the SkipRead call got its own body's value");
            Assert.That(Held(key), Is.EqualTo("new"), "the older body, returning later, did not overwrite the forced value");
        });
        Assert.That(await (async ? _svc.TaskAsync(id) : Task.FromResult(_svc.Sync(id))), Is.EqualTo("new"));
        Assert.That(calls(), Is.EqualTo(2), "the last call was a hit");
    }

    [Test]
    public async Task A_Bypass_call_racing_an_ordinary_miss_does_not_stop_the_ordinary_call_from_storing([Values] bool async)
    {
        var (id, key, normal, release, _) = await StartHeldMiss(async, "ordinary", "bypassed");

        string bypassed;
        if (async)
        {
            using (CacheScope.Bypass())
            {
                bypassed = await _svc.TaskAsync(id).WaitAsync(s_bound);
            }
        }
        else
        {
            bypassed = await OnOwnThread(() =>
            {
                using (CacheScope.Bypass())
                {
                    return _svc.Sync(id);
                }
            }).WaitAsync(s_bound);
        }

        release.TrySetResult();
        var ordinary = await normal.WaitAsync(s_bound);
        Assert.Multiple(() =>
        {
            Assert.That(bypassed, Is.EqualTo("bypassed"));
            Assert.That(ordinary, Is.EqualTo("ordinary"), "the ordinary call answers with its own body's value");
            Assert.That(Held(key), Is.EqualTo("ordinary"),
                "Bypass 'neither reads nor writes the cache', so the ordinary miss beside it stores its result as any miss does");
        });
    }

    [Test]
    public async Task An_ordinary_miss_beside_a_write_skipping_call_in_flight_still_stores_its_result(
        [Values(ScopeKind.SkipWrite, ScopeKind.Bypass)] ScopeKind kind, [Values] bool async)
    {
        var id = NewId();
        var entered = Gate();
        var release = Gate();
        var n = 0;
        _svc.Body = async (_, _, _) =>
        {
            if (Interlocked.Increment(ref n) == 1)
            {
                entered.TrySetResult();
                await release.Task.WaitAsync(s_bound);
                return "scoped";
            }

            return "ordinary";
        };
        var key = async ? $"task:{id}" : $"sync:{id}";
        // The scope is opened inside the scoped call's own flow and disposed only once that call has returned, so it
        // applies for the call's whole run.
        async Task<string> ScopedAsync()
        {
            using (Open(kind))
            {
                return await _svc.TaskAsync(id);
            }
        }

        var scoped = async
            ? ScopedAsync()
            : OnOwnThread(() =>
            {
                using (Open(kind))
                {
                    return _svc.Sync(id);
                }
            });

        await entered.Task.WaitAsync(s_bound);
        // The ordinary call starts from this flow, which has no scope. It either computes on its own or waits for the
        // scoped call's body; it is given 3 s to finish on its own before that body is released (the wait can only make
        // the test pass wrongly, if the ordinary call had not even boarded by then, never fail wrongly).
        var ordinary = async ? _svc.TaskAsync(id) : OnOwnThread(() => _svc.Sync(id));
        var finishedAlone = await Task.WhenAny(ordinary, Task.Delay(TimeSpan.FromSeconds(3))) == ordinary;
        release.TrySetResult();
        var answer = await ordinary.WaitAsync(s_bound);
        await scoped.WaitAsync(s_bound);
        Assert.That(Held(key), Is.Not.Null,
            $"the ordinary call (answered '{answer}', {(finishedAlone ? "on its own" : "only once the scoped call's body was released")}) " +
            "is in no scope: its miss stores a result; the scoped call's skipped write must not become the ordinary call's");
    }

    // ================================================================================================================
    // Nesting
    // ================================================================================================================

    [Test]
    public async Task SkipWrite_inside_SkipRead_is_a_bypass_and_the_outer_SkipRead_holds_again_after_it()
    {
        var id = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        Assert.That(await _svc.TaskAsync(id), Is.EqualTo("v1"));

        using (CacheScope.SkipRead())
        {
            Volatile.Write(ref version, 2);
            using (CacheScope.SkipWrite())
            {
                Assert.That((CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped), Is.EqualTo((true, true)));
                Assert.That(await _svc.TaskAsync(id), Is.EqualTo("v2"), "inner: the body runs");
            }

            Assert.That(Held($"task:{id}"), Is.EqualTo("v1"), "inner: nothing stored");
            Volatile.Write(ref version, 3);
            Assert.That(await _svc.TaskAsync(id), Is.EqualTo("v3"), "outer again: the body runs");
            Assert.That(Held($"task:{id}"), Is.EqualTo("v3"), "outer again: its result is stored");
        }

        Assert.That(await _svc.TaskAsync(id), Is.EqualTo("v3"));
        Assert.That(_svc.CallsOf("task", id), Is.EqualTo(3));
    }

    [Test]
    public void SkipRead_inside_SkipWrite_is_a_bypass_and_the_outer_SkipWrite_reads_again_after_it()
    {
        var id = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        Assert.That(_svc.Sync(id), Is.EqualTo("v1"));

        using (CacheScope.SkipWrite())
        {
            Volatile.Write(ref version, 2);
            using (CacheScope.SkipRead())
            {
                Assert.That(_svc.Sync(id), Is.EqualTo("v2"), "inner: the body runs");
            }

            Assert.That(Held($"sync:{id}"), Is.EqualTo("v1"), "inner: nothing stored");
            Assert.That(_svc.Sync(id), Is.EqualTo("v1"), "outer again: a hit");
        }

        Assert.That(_svc.CallsOf("sync", id), Is.EqualTo(2));
    }

    [Test]
    public async Task An_inner_scope_still_open_applies_after_its_outer_scope_is_disposed_first()
    {
        var id = NewId();
        _svc.Body = (_, _, _) => Task.FromResult("computed");
        var outer = CacheScope.SkipRead();
        var inner = CacheScope.SkipWrite();
        outer.Dispose();
        bool writeSkipped;
        try
        {
            writeSkipped = CacheScope.IsWriteSkipped;
            await _svc.TaskAsync(id);
        }
        finally
        {
            inner.Dispose();
        }

        Assert.That(writeSkipped, Is.True, "the SkipWrite scope is still open ('A scope applies while it is open')");
        AssertNothingStored($"task:{id}", "a call inside the still-open SkipWrite scope");
    }

    // ================================================================================================================
    // Flowing, disposal, other threads
    // ================================================================================================================

    [Test]
    public async Task A_SkipWrite_scope_flows_into_awaits_Task_Run_and_Parallel_calls_started_inside_it()
    {
        var ids = Enumerable.Range(0, 6).Select(_ => NewId()).ToArray();
        _svc.Body = (m, id, _) => Task.FromResult($"{m}-{id}");
        using (CacheScope.SkipWrite())
        {
            await Task.Yield();
            await _svc.TaskAsync(ids[0]);
            await Task.Run(async () => await _svc.ValueAsync(ids[1]));
            await Task.Run(() => _svc.Sync(ids[2])).WaitAsync(s_bound);
            Parallel.For(3, 6, i => _svc.Sync(ids[i]));
        }

        AssertNothingStored($"task:{ids[0]}", "after an await");
        AssertNothingStored($"vt:{ids[1]}", "in Task.Run (async)");
        AssertNothingStored($"sync:{ids[2]}", "in Task.Run (sync)");
        for (var i = 3; i < 6; i++)
        {
            AssertNothingStored($"sync:{ids[i]}", "in Parallel.For");
        }
    }

    [Test]
    public async Task A_SkipRead_scope_flows_into_Task_Run_and_Parallel_calls_which_run_their_bodies_and_store()
    {
        var ids = Enumerable.Range(0, 4).Select(_ => NewId()).ToArray();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        foreach (var id in ids)
        {
            _svc.Sync(id);
        }

        Volatile.Write(ref version, 2);
        using (CacheScope.SkipRead())
        {
            await Task.Run(() => _svc.Sync(ids[0])).WaitAsync(s_bound);
            Parallel.For(1, 4, i => _svc.Sync(ids[i]));
        }

        foreach (var id in ids)
        {
            Assert.That(Held($"sync:{id}"), Is.EqualTo("v2"), $"sync:{id} was recomputed and stored");
            Assert.That(_svc.CallsOf("sync", id), Is.EqualTo(2));
        }
    }

    [Test]
    public async Task A_call_still_running_when_its_scope_is_disposed_writes_as_usual_from_then_on(
        [Values(ScopeKind.SkipWrite, ScopeKind.Bypass)] ScopeKind kind)
    {
        var id = NewId();
        var entered = Gate();
        var release = Gate();
        _svc.Body = async (_, _, _) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(s_bound);
            return "late";
        };
        Task<string> call;
        var scope = Open(kind);
        try
        {
            call = _svc.TaskAsync(id);
            await entered.Task.WaitAsync(s_bound);
        }
        finally
        {
            scope.Dispose();
        }

        Assert.That((CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped), Is.EqualTo((false, false)));
        release.TrySetResult();
        Assert.That(await call.WaitAsync(s_bound), Is.EqualTo("late"));
        Assert.That(Held($"task:{id}"), Is.EqualTo("late"),
            "'a call started inside it and still running when it is disposed reads and writes as usual from then on'");
    }

    [Test]
    public async Task Scopes_on_other_threads_at_the_same_time_do_not_leak_into_this_one()
    {
        var ours = NewId();
        var theirs = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        _svc.Sync(theirs);
        Volatile.Write(ref version, 2);

        using var opened = new ManualResetEventSlim();
        using var ourTurnDone = new ManualResetEventSlim();
        var other = OnOwnThread(() =>
        {
            using (CacheScope.Bypass())
            {
                opened.Set();
                ourTurnDone.Wait(s_bound);
                return (_svc.Sync(theirs), CacheScope.IsReadSkipped);
            }
        });
        var another = OnOwnThread(() =>
        {
            using (CacheScope.SkipRead())
            {
                opened.Wait(s_bound);
                ourTurnDone.Wait(s_bound);
                return _svc.Sync(NewId());
            }
        });

        Assert.That(opened.Wait(s_bound), Is.True);
        var flags = (CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped);
        var answer = await Task.Run(() => _svc.Sync(ours)).WaitAsync(s_bound);
        var hit = _svc.Sync(ours);
        ourTurnDone.Set();
        var (theirAnswer, theirFlag) = await other.WaitAsync(s_bound);
        await another.WaitAsync(s_bound);

        Assert.Multiple(() =>
        {
            Assert.That(flags, Is.EqualTo((false, false)), "this flow sees no scope while others are open elsewhere");
            Assert.That(answer, Is.EqualTo("v2"));
            Assert.That(hit, Is.EqualTo("v2"), "our miss was stored and read back, with Bypass and SkipRead open on other threads");
            Assert.That(_svc.CallsOf("sync", ours), Is.EqualTo(1));
            Assert.That(Held($"sync:{ours}"), Is.EqualTo("v2"));
            Assert.That((theirAnswer, theirFlag), Is.EqualTo(("v2", true)), "the other thread's Bypass held for its own call");
            Assert.That(Held($"sync:{theirs}"), Is.EqualTo("v1"), "and stored nothing");
        });
    }

    // ================================================================================================================
    // [MultiCached]
    // ================================================================================================================

    private async Task<Dictionary<int, string>> Batch(bool async, params int[] ids)
        => async ? await _svc.ManyAsync(ids).WaitAsync(s_bound) : _svc.Many(ids);

    private static string BatchKey(bool async, int id) => async ? $"many-t:{id}" : $"many:{id}";

    private static string BatchMethod(bool async) => async ? "many-t" : "many";

    private void VersionedBatches(Func<int> version)
        => _svc.BatchBody = (_, ids) => Task.FromResult(ids.ToDictionary(static i => i, _ => $"v{version()}"));

    [Test]
    public async Task MultiCached_SkipRead_asks_the_body_for_every_key_and_stores_them_all([Values] bool async)
    {
        int a = NewId(), b = NewId(), c = NewId();
        var version = 1;
        VersionedBatches(() => Volatile.Read(ref version));
        await Batch(async, a, b);
        Volatile.Write(ref version, 2);
        Dictionary<int, string> forced;
        using (CacheScope.SkipRead())
        {
            forced = await Batch(async, a, b, c);
        }

        var asked = $"{BatchMethod(async)}:[{string.Join(",", new[] { a, b, c }.Order())}]";
        Assert.Multiple(() =>
        {
            Assert.That(_svc.Batches, Does.Contain(asked), "the body is asked for every key, cached ones included");
            Assert.That(forced.Values, Is.All.EqualTo("v2"));
            Assert.That(new[] { a, b, c }.Select(i => Held(BatchKey(async, i))), Is.All.EqualTo("v2"), "every fresh value is stored");
        });
    }

    [Test]
    public async Task MultiCached_SkipWrite_asks_only_for_the_missing_keys_and_stores_none([Values] bool async)
    {
        int cached = NewId(), missing = NewId();
        var version = 1;
        VersionedBatches(() => Volatile.Read(ref version));
        await Batch(async, cached);
        Volatile.Write(ref version, 2);
        Dictionary<int, string> got;
        using (CacheScope.SkipWrite())
        {
            got = await Batch(async, cached, missing);
        }

        Assert.Multiple(() =>
        {
            Assert.That(_svc.Batches.Last(), Is.EqualTo($"{BatchMethod(async)}:[{missing}]"), "only the missing key reaches the body");
            Assert.That(got[cached], Is.EqualTo("v1"), "the cached key is a hit");
            Assert.That(got[missing], Is.EqualTo("v2"));
        });
        AssertNothingStored(BatchKey(async, missing), "[MultiCached] inside SkipWrite");
    }

    [Test]
    public async Task MultiCached_Bypass_asks_for_every_key_and_leaves_the_entries_as_they_were([Values] bool async)
    {
        int cached = NewId(), missing = NewId();
        var version = 1;
        VersionedBatches(() => Volatile.Read(ref version));
        await Batch(async, cached);
        Volatile.Write(ref version, 2);
        Dictionary<int, string> got;
        using (CacheScope.Bypass())
        {
            got = await Batch(async, cached, missing);
        }

        Assert.Multiple(() =>
        {
            Assert.That(_svc.Batches.Last(), Is.EqualTo($"{BatchMethod(async)}:[{string.Join(",", new[] { cached, missing }.Order())}]"));
            Assert.That(got.Values, Is.All.EqualTo("v2"));
            Assert.That(Held(BatchKey(async, cached)), Is.EqualTo("v1"));
        });
        AssertNothingStored(BatchKey(async, missing), "[MultiCached] inside Bypass");
    }

    [Test]
    public async Task MultiCached_SkipRead_does_not_wait_for_an_older_batch_and_is_not_overwritten_by_it()
    {
        var k = NewId();
        var (entered, release) = HoldFirstBatch("old", "new");
        var older = _svc.ManyAsync([k]);
        await entered.Task.WaitAsync(s_bound);
        Dictionary<int, string> forced;
        try
        {
            using (CacheScope.SkipRead())
            {
                forced = await _svc.ManyAsync([k]).WaitAsync(TimeSpan.FromSeconds(3));
            }
        }
        catch (TimeoutException)
        {
            release.TrySetResult();
            Assert.Fail("the SkipRead batch waited for the older batch");
            return;
        }

        release.TrySetResult();
        await older.WaitAsync(s_bound);
        Assert.Multiple(() =>
        {
            Assert.That(forced[k], Is.EqualTo("new"));
            Assert.That(Held($"many-t:{k}"), Is.EqualTo("new"), "the older batch, returning later, did not overwrite the forced value");
        });
    }

    [Test]
    public async Task MultiCached_an_ordinary_batch_does_not_wait_for_a_SkipWrite_batch_and_stores_its_own()
    {
        var k = NewId();
        var (entered, release) = HoldFirstBatch("scoped", "ordinary");
        async Task<Dictionary<int, string>> ScopedAsync()
        {
            // The SkipWrite scope is open for the call's whole run.
            using (CacheScope.SkipWrite())
            {
                return await _svc.ManyAsync([k]);
            }
        }

        var scoped = ScopedAsync();

        await entered.Task.WaitAsync(s_bound);
        var ordinary = _svc.ManyAsync([k]);
        var alone = await Task.WhenAny(ordinary, Task.Delay(TimeSpan.FromSeconds(3))) == ordinary;
        release.TrySetResult();
        await scoped.WaitAsync(s_bound);
        var answer = await ordinary.WaitAsync(s_bound);
        Assert.Multiple(() =>
        {
            Assert.That(alone, Is.True, "'other batches never wait for it'");
            Assert.That(answer[k], Is.EqualTo("ordinary"));
            Assert.That(Held($"many-t:{k}"), Is.EqualTo("ordinary"));
        });
    }

    [Test]
    public async Task MultiCached_fail_safe_inside_SkipWrite_serves_last_values_without_writing_them_back()
    {
        var k = NewId();
        var fail = false;
        _svc.BatchBody = (_, ids) => Volatile.Read(ref fail)
            ? throw new InvalidOperationException("source down")
            : Task.FromResult(ids.ToDictionary(static i => i, static _ => "v1"));
        await _svc.SafeManyAsync([k]);
        _time.Advance(TimeSpan.FromSeconds(120));
        Volatile.Write(ref fail, true);
        Assert.That(Held($"safe-many:{k}"), Is.Null, "stale: a plain read misses");

        Dictionary<int, string> served;
        using (CacheScope.SkipWrite())
        {
            served = await _svc.SafeManyAsync([k]).WaitAsync(s_bound);
        }

        Assert.Multiple(() =>
        {
            Assert.That(served[k], Is.EqualTo("v1"), "fail-safe answers with the last value");
            Assert.That(Held($"safe-many:{k}"), Is.Null, "SkipWrite: the last value is not written back fresh for the throttle");
        });
    }

    // ================================================================================================================
    // Resilience: fail-safe, soft timeout, tags, eager refresh
    // ================================================================================================================

    [Test]
    public async Task Generated_fail_safe_inside_SkipWrite_serves_the_last_value_without_writing_it_back([Values] bool async)
    {
        var id = NewId();
        var fail = false;
        _svc.Body = (_, _, _) => Volatile.Read(ref fail) ? throw new InvalidOperationException("source down") : Task.FromResult("v1");
        var key = async ? $"safe-t:{id}" : $"safe:{id}";
        var method = async ? "safe-t" : "safe";
        Task<string> Call() => async ? _svc.SafeAsync(id).WaitAsync(s_bound) : Task.FromResult(_svc.Safe(id));
        Assert.That(await Call(), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(120));
        Volatile.Write(ref fail, true);

        string served;
        using (CacheScope.SkipWrite())
        {
            served = await Call();
        }

        Assert.That(served, Is.EqualTo("v1"), "fail-safe answers with the last value");
        var heldAfter = Held(key);
        var callsBefore = _svc.CallsOf(method, id);
        Assert.That(await Call(), Is.EqualTo("v1"));
        Assert.Multiple(() =>
        {
            Assert.That(heldAfter, Is.Null, "SkipWrite 'never stores a result': the last value is not written back fresh for the throttle");
            Assert.That(_svc.CallsOf(method, id), Is.EqualTo(callsBefore + 1), "so the next ordinary call still finds it stale and calls the body");
        });
    }

    [Test]
    public async Task GetOrSet_fail_safe_inside_SkipWrite_serves_the_last_value_without_writing_it_back([Values] bool async)
    {
        var key = $"gos-safe:{NewId()}";
        var calls = 0;
        var fail = false;
        async Task<string> Call()
        {
            string Factory()
            {
                Interlocked.Increment(ref calls);
                return Volatile.Read(ref fail) ? throw new InvalidOperationException("source down") : "v1";
            }

            return async
                ? await _cache.GetOrSetAsync(key, _ => new ValueTask<string>(Factory()), s_failSafe).AsTask().WaitAsync(s_bound)
                : _cache.GetOrSet(key, _ => Factory(), s_failSafe);
        }

        Assert.That(await Call(), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(120));
        Volatile.Write(ref fail, true);
        string served;
        using (CacheScope.SkipWrite())
        {
            served = await Call();
        }

        Assert.That(served, Is.EqualTo("v1"));
        var heldAfter = Held(key);
        var before = Volatile.Read(ref calls);
        await Call();
        Assert.Multiple(() =>
        {
            Assert.That(heldAfter, Is.Null, "SkipWrite: no fail-safe write-back for the throttle");
            Assert.That(Volatile.Read(ref calls), Is.EqualTo(before + 1), "the next ordinary call still calls the factory");
        });
    }

    [Test]
    public async Task GetOrSet_SkipRead_over_a_stale_fail_safe_entry_waits_for_the_factory_past_the_soft_timeout_and_stores_it([Values] bool async)
    {
        var key = $"gos-soft:{NewId()}";
        var options = s_failSafe with { SoftTimeout = TimeSpan.FromMilliseconds(100) };
        Assert.That(await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("v1"), options), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(120));

        var entered = Gate();
        var release = Gate();
        async ValueTask<string> Slow()
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(s_bound);
            return "v2";
        }

        Task<string> call;
        if (async)
        {
            using (CacheScope.SkipRead())
            {
                // The read is skipped (or not) before the first await, inside the scope.
                call = _cache.GetOrSetAsync(key, _ => Slow(), options).AsTask();
            }
        }
        else
        {
            // The scope is opened on the call's own thread, for the call's whole run.
            call = OnOwnThread(() =>
            {
                using (CacheScope.SkipRead())
                {
                    return _cache.GetOrSet(key, _ => Slow().AsTask().GetAwaiter().GetResult(), options);
                }
            });
        }

        await entered.Task.WaitAsync(s_bound);
        // Past the soft timeout on the caches' clock: a caller with a last value at hand would be answered with it now.
        _time.Advance(TimeSpan.FromSeconds(1));
        await Task.Yield();
        release.TrySetResult();
        Assert.That(await call.WaitAsync(s_bound), Is.EqualTo("v2"), "SkipRead reads no last value: it waits for its factory");
        Assert.That(Held(key), Is.EqualTo("v2"));
    }

    [Test]
    public async Task GetOrSet_with_tags_inside_SkipWrite_stores_no_entry_and_no_tag_record([Values] bool async)
    {
        var id = NewId();
        var key = $"gos-tagged:{id}";
        var tag = $"osr-tag-{id}";
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(60), Tags = [tag] };
        string got;
        using (CacheScope.SkipWrite())
        {
            got = async
                ? await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("tagged"), options).AsTask().WaitAsync(s_bound)
                : _cache.GetOrSet(key, _ => "tagged", options);
        }

        Assert.That(got, Is.EqualTo("tagged"));
        AssertNothingStored(key, "a tagged GetOrSet inside SkipWrite");
        if (_direct is not null)
        {
            Assert.That(await _direct.GetDatabase().KeyExistsAsync($"{_ns}:__cached:tag:{tag}"), Is.False, "no tag record was written in Redis");
        }

        // And the ordinary call afterwards stores a tagged entry that the tag invalidates.
        Assert.That(await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("stored"), options), Is.EqualTo("stored"));
        Assert.That(Held(key), Is.EqualTo("stored"));
        await _cache.InvalidateTagsAsync([tag]);
        Assert.That(await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("again"), options), Is.EqualTo("again"));
    }

    [Test]
    public async Task GetOrSet_SkipRead_does_not_wait_for_an_eager_refresh_under_way_and_it_does_not_overwrite_the_forced_value()
    {
        var key = $"gos-eager:{NewId()}";
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(10), EagerRefresh = 0.5 };
        Assert.That(await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("v1"), options), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(6));

        var entered = Gate();
        var release = Gate();
        var returned = Gate();
        async ValueTask<string> Refresh()
        {
            entered.TrySetResult();
            try
            {
                await release.Task.WaitAsync(s_bound);
                return "refreshed-old";
            }
            finally
            {
                returned.TrySetResult();
            }
        }

        Assert.That(await _cache.GetOrSetAsync(key, _ => Refresh(), options), Is.EqualTo("v1"), "a late hit answers at once");
        await entered.Task.WaitAsync(s_bound);

        string forced;
        try
        {
            using (CacheScope.SkipRead())
            {
                forced = await _cache.GetOrSetAsync(key, _ => new ValueTask<string>("forced"), options).AsTask().WaitAsync(TimeSpan.FromSeconds(3));
            }
        }
        catch (TimeoutException)
        {
            release.TrySetResult();
            Assert.Fail("the SkipRead call waited for the eager refresh under way");
            return;
        }

        release.TrySetResult();
        await returned.Task.WaitAsync(s_bound);
        // The refresh's store, if any, follows its factory at once: watch the entry for a while (this can only miss a
        // late overwrite, never report one that did not happen).
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(1) && Held(key) == "forced")
        {
            await Task.Delay(20);
        }

        Assert.Multiple(() =>
        {
            Assert.That(forced, Is.EqualTo("forced"));
            Assert.That(Held(key), Is.EqualTo("forced"), "'what that older factory returns is not stored over the forced call's value'");
        });
    }

    [Test]
    public async Task A_late_hit_inside_SkipWrite_starts_no_eager_refresh_where_an_ordinary_one_does()
    {
        var id = NewId();
        var version = 1;
        _svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        using var meter = new CachedMeterRecorder(ScopesReviewSvc.Alias);
        Assert.That(await _svc.EagerAsync(id), Is.EqualTo("v1"));
        _time.Advance(TimeSpan.FromSeconds(6));
        Volatile.Write(ref version, 2);

        string late;
        using (CacheScope.SkipWrite())
        {
            late = await _svc.EagerAsync(id);
        }

        var afterScoped = meter.Sum("cached.resilience.eager_refreshes");
        Assert.That(await _svc.EagerAsync(id), Is.EqualTo("v1"), "an ordinary late hit answers at once too");
        var afterOrdinary = meter.Sum("cached.resilience.eager_refreshes");
        Assert.Multiple(() =>
        {
            Assert.That(late, Is.EqualTo("v1"));
            Assert.That(afterScoped, Is.Zero, "a refresh stores: SkipWrite starts none");
            Assert.That(afterOrdinary, Is.EqualTo(1), "the ordinary late hit starts one (the counter works)");
        });
    }
}

/// <summary>
/// Two two-level nodes over one Redis with the Redis backplane: a SkipRead call's fresh value on one node reaches the
/// other node's L1, as any write does; a Bypass on one node leaves the other's copy and L2 alone.
/// </summary>
[NonParallelizable]
public sealed class OutsiderScopesReviewTestsTwoNodes
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private readonly List<IDisposable> _owned = [];
    private string _ns = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _ns = "osr2" + Guid.NewGuid().ToString("N")[..8];
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
    }

    private MultiLevelCache Node(string name)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=osr2-" + name + "-" + _ns, Namespace = _ns },
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=osr2-bp-" + name + "-" + _ns));
        _owned.Add(node);
        return node;
    }

    /// <summary>
    /// Reads <paramref name="key"/> on <paramref name="node"/> until the node holds an L1 copy: it takes one only once its
    /// backplane has subscribed (multilevel.md: "Subscribing happens before L1 takes its first copy").
    /// </summary>
    private static async Task CopyIntoL1(MultiLevelCache node, string key, string expected)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            Assert.That(await node.GetAsync<string>(key), Is.EqualTo(expected));
            if (node.IsInL1(key))
            {
                return;
            }

            Assert.That(waited.Elapsed, Is.LessThan(s_bound), $"the node never took an L1 copy of '{key}'");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Two nodes, the method's alias on node one: an id from <paramref name="ids"/> computed there (v1) and copied into
    /// node two's L1; the body answers v2 from then on.
    /// </summary>
    private async Task<(MultiLevelCache One, MultiLevelCache Two, ScopesReviewSvc Svc, int Id)> TwoNodesWithACopy(int ids)
    {
        var one = Node("one");
        var two = Node("two");
        Caches.AddInstance(ScopesReviewSvc.Alias, one);
        var svc = new ScopesReviewSvc();
        var id = Random.Shared.Next(ids, ids + 1_000_000);
        var version = 1;
        svc.Body = (_, _, _) => Task.FromResult($"v{Volatile.Read(ref version)}");
        Assert.That(await svc.TaskAsync(id), Is.EqualTo("v1"));
        await CopyIntoL1(two, $"task:{id}", "v1");
        Volatile.Write(ref version, 2);
        return (one, two, svc, id);
    }

    [Test]
    public async Task SkipRead_on_one_node_replaces_the_copy_the_other_node_holds_in_L1()
    {
        var (one, two, svc, id) = await TwoNodesWithACopy(3_000_000);
        using (CacheScope.SkipRead())
        {
            Assert.That(await svc.TaskAsync(id), Is.EqualTo("v2"));
        }

        var watch = Stopwatch.StartNew();
        string? seen;
        while ((seen = await two.GetAsync<string>($"task:{id}")) != "v2" && watch.Elapsed < s_bound)
        {
            await Task.Delay(20);
        }

        Assert.That(seen, Is.EqualTo("v2"), "the SkipRead call's stored value reached node two (its L1 copy was dropped)");
        Assert.That(await svc.TaskAsync(id), Is.EqualTo("v2"));
        Assert.That(svc.CallsOf("task", id), Is.EqualTo(2));
    }

    [Test]
    public async Task Bypass_on_one_node_leaves_L2_and_the_other_nodes_copy_alone()
    {
        var (one, two, svc, id) = await TwoNodesWithACopy(4_000_000);
        using (CacheScope.Bypass())
        {
            Assert.That(await svc.TaskAsync(id), Is.EqualTo("v2"));
        }

        var inL2 = await one.L2.GetAsync<string>($"task:{id}");
        var copyStays = two.IsInL1($"task:{id}");
        var atTwo = await two.GetAsync<string>($"task:{id}");
        var atOne = await svc.TaskAsync(id);
        Assert.Multiple(() =>
        {
            Assert.That(inL2, Is.EqualTo("v1"), "L2 untouched");
            Assert.That(copyStays, Is.True, "node two's copy stays");
            Assert.That(atTwo, Is.EqualTo("v1"));
            Assert.That(atOne, Is.EqualTo("v1"), "node one still answers v1");
        });
    }
}
