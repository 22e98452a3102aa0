using Cached.Generators.Tests.Infrastructure;
using Cached.Generators.Tests.Scenarios;
using Cached.Plugins;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Generators.Tests;

/// <summary>Generated [Cached] methods, compiled into this assembly by the generator and run against SimpleMemoryCache.</summary>
public sealed class CachedBehaviourTests
{
    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;
    private CallCounter _calls = null!;
    private UserService _service = null!;

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time };
        Caches.AddInstance(UserService.Alias, _cache);
        _calls = new CallCounter();
        _service = new UserService(_calls);
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    [Test]
    public async Task A_cancelled_token_comes_back_as_a_cancelled_task_on_a_miss_and_on_a_hit_without_running_the_body()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Task<User?> miss = null!;
        Assert.DoesNotThrow(() => miss = _service.GetUserAsync(1, cancelled.Token), "a miss returns a task");
        Assert.That(miss.IsCanceled, Is.True);
        Assert.That(_calls[nameof(UserService.GetUserAsync)], Is.EqualTo(0), "the body did not run");

        await _service.GetUserAsync(1);
        Task<User?> hit = null!;
        Assert.DoesNotThrow(() => hit = _service.GetUserAsync(1, cancelled.Token), "a hit returns a task");
        Assert.That(hit.IsCanceled, Is.True);
        Assert.That(_calls[nameof(UserService.GetUserAsync)], Is.EqualTo(1));
    }

    [Test]
    public void A_hit_returns_the_stored_value_without_calling_the_body()
    {
        var first = _service.GetUser(1);
        var second = _service.GetUser(1);

        Assert.That(second, Is.SameAs(first));
        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(1));
        Assert.That(_cache.Get<User>("user:1"), Is.SameAs(first), "stored under the template key");
    }

    [Test]
    public void Hits_allocate_nothing_whatever_the_key_shape()
    {
        // The steady state: code the JIT has not optimized yet may box (a first-tier generic formatter does), so each
        // round warms up, gives tiered compilation time to finish, then measures; a real allocation shows in every round.
        // On a loaded machine the background compiler can take seconds (24 B per hit seen after five rounds in a CI run
        // beside other builds), so up to 40 rounds (6 s) are allowed; a hit path that allocates pays them all and fails.
        static long Allocated(Action hit)
        {
            var least = long.MaxValue;
            for (var round = 0; round < 40 && least > 0; round++)
            {
                for (var i = 0; i < 200; i++)
                {
                    hit();
                }

                Thread.Sleep(150);
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < 50; i++)
                {
                    hit();
                }

                least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
            }

            return least;
        }

        var service = _service;
        var generic = new GenericService(_calls);
        var sequences = new SequenceService(_calls);
        var results = new Dictionary<string, long>
        {
            ["template key, sync"] = Allocated(() => service.GetUser(1)),
            ["template key, ValueTask"] = Allocated(() => _ = service.GetUserValueAsync(1).Result),
            ["template key, Task"] = Allocated(() => _ = service.GetUserAsync(1).Result),
            ["default key, string argument"] = Allocated(() => service.Lookup("ada")),
            ["default key, namespace"] = Allocated(() => service.InNamespace(1)),
            ["fixed key"] = Allocated(() => DefaultCacheScenario.Fixed()),
            ["generic method, default key"] = Allocated(() => generic.Echo(1)),
            ["IEnumerable<T> result"] = Allocated(() => sequences.Numbers(2)),
        };

        Assert.That(results, Has.All.Property("Value").EqualTo(0L), string.Join(", ", results.Select(static r => $"{r.Key}: {r.Value} B")));
    }

    [Test]
    public void Keys_longer_than_the_stack_buffer_still_hit()
    {
        var label = new string('x', 300);

        var first = _service.Tag(label);
        var second = _service.Tag(label);
        _service.Lookup(label);
        _service.Lookup(label);

        Assert.Multiple(() =>
        {
            Assert.That((first, second), Is.EqualTo(("300", "300")));
            Assert.That(_calls[nameof(UserService.Tag)], Is.EqualTo(1));
            Assert.That(_calls[nameof(UserService.Lookup)], Is.EqualTo(1));
            Assert.That(_cache.Get<string>("tag:" + label), Is.EqualTo("300"));
        });
    }

    [Test]
    public void A_miss_stores_the_result_with_the_method_ttl()
    {
        _service.GetUser(1);
        _time.Advance(TimeSpan.FromSeconds(9.999));
        _service.GetUser(1);
        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(1));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        _service.GetUser(1);

        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(2), "after 10 s the entry expired");
    }

    [Test]
    public async Task Task_and_ValueTask_methods_are_cached()
    {
        var first = await _service.GetUserAsync(2);
        var second = await _service.GetUserAsync(2);
        var third = await _service.GetUserValueAsync(3);
        var fourth = await _service.GetUserValueAsync(3);

        Assert.That(second, Is.SameAs(first));
        Assert.That(fourth, Is.SameAs(third));
        Assert.That(_calls[nameof(UserService.GetUserAsync)], Is.EqualTo(1));
        Assert.That(_calls[nameof(UserService.GetUserValueAsync)], Is.EqualTo(1));
    }

    [Test]
    public async Task An_async_hit_completes_synchronously()
    {
        await _service.GetUserValueAsync(3);

        var hit = _service.GetUserValueAsync(3);

        Assert.That(hit.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void A_null_result_is_cached_like_any_other()
    {
        _service.Source = static _ => null;

        Assert.That(_service.GetUser(7), Is.Null);
        Assert.That(_service.GetUser(7), Is.Null);

        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(1), "aiocache would call the body again");
    }

    [Test]
    public void The_body_exception_propagates_unchanged_and_nothing_is_stored()
    {
        var error = Assert.Throws<InvalidOperationException>(() => _service.Fail(5));

        Assert.That(error!.Message, Is.EqualTo("body failed 5"));
        Assert.Throws<InvalidOperationException>(() => _service.Fail(5));
        Assert.That(_calls[nameof(UserService.Fail)], Is.EqualTo(2));
        Assert.That(_cache.Count, Is.EqualTo(0));
    }

    [Test]
    public void SkipCacheWhen_returns_the_result_without_storing_it()
    {
        Assert.That(_service.Lookup("none"), Is.Empty);
        Assert.That(_service.Lookup("none"), Is.Empty);
        Assert.That(_service.Lookup("x"), Is.EqualTo("x"));
        Assert.That(_service.Lookup("x"), Is.EqualTo("x"));

        Assert.That(_calls[nameof(UserService.Lookup)], Is.EqualTo(3), "the empty result ran twice, the other once");
    }

    [Test]
    public void CacheScope_skips_the_read_or_the_write_for_the_calls_inside_it()
    {
        _service.GetUser(1);
        using (CacheScope.SkipRead())
        {
            _service.GetUser(1);
        }

        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(2), "SkipRead called the body");

        using (CacheScope.SkipWrite())
        {
            _service.GetUser(2);
        }

        Assert.That(_cache.Exists("user:2"), Is.False, "SkipWrite stored nothing");
        Assert.That(_service.GetUser(1), Is.Not.Null);
        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(3), "outside the scopes the cache is read again");
    }

    [Test]
    public void A_cache_fault_never_fails_the_call()
    {
        var failing = new FailingCache();
        Caches.AddInstance(UserService.Alias, failing);

        Assert.That(_service.GetUser(1)!.Name, Is.EqualTo("user1"));
        Assert.That(_service.GetUser(1)!.Name, Is.EqualTo("user1"));

        Assert.That(failing.Attempts, Is.EqualTo(4), "each call tried to read and to write");
        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(2));
    }

    [Test]
    public async Task An_async_cache_fault_never_fails_the_call()
    {
        Caches.AddInstance(UserService.Alias, new FailingCache());

        Assert.That((await _service.GetUserAsync(1))!.Name, Is.EqualTo("user1"));
        Assert.That((await _service.GetUserValueAsync(1))!.Name, Is.EqualTo("user1"));
    }

    [Test]
    public async Task A_thousand_concurrent_async_callers_on_a_cold_key_make_one_body_call()
    {
        var gate = new TaskCompletionSource();
        var callers = Enumerable.Range(0, 1000).Select(_ => Task.Run(() => _service.SlowAsync(1, gate))).ToArray();
        while (_calls[nameof(UserService.SlowAsync)] == 0)
        {
            await Task.Delay(1);
        }

        await Task.Delay(50);
        gate.SetResult();
        var results = await Task.WhenAll(callers);

        Assert.That(results, Is.All.EqualTo("slow1"));
        Assert.That(_calls[nameof(UserService.SlowAsync)], Is.EqualTo(1));
        Assert.That(_cache.Exists("slow:1-lock"), Is.False, "the lease was released");
    }

    [Test]
    public void A_thousand_concurrent_sync_callers_on_a_cold_key_make_one_body_call_and_all_get_its_result()
    {
        const int Callers = 1_000;
        using var gate = new ManualResetEventSlim();
        using var started = new CountdownEvent(Callers);
        var results = new string?[Callers];
        var threads = Enumerable.Range(0, Callers).Select(i => new Thread(() =>
        {
            started.Signal();
            results[i] = _service.Blocking(1, gate);
        }, maxStackSize: 256 * 1024)).ToList();
        threads.ForEach(static t => t.Start());

        // Every caller is running and the leader is inside the body before the body may finish.
        Assert.That(started.Wait(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(SpinWait.SpinUntil(() => _calls[nameof(UserService.Blocking)] > 0, TimeSpan.FromSeconds(5)), Is.True);
        Thread.Sleep(100);
        gate.Set();
        Assert.That(threads.All(static t => t.Join(TimeSpan.FromSeconds(30))), Is.True, "every caller returned");

        Assert.Multiple(() =>
        {
            Assert.That(_calls[nameof(UserService.Blocking)], Is.EqualTo(1));
            Assert.That(results, Has.All.EqualTo("blocking1"));
            Assert.That(_cache.Get<string>("blocking:1"), Is.EqualTo("blocking1"));
        });
    }

    [Test]
    public async Task A_thousand_concurrent_async_callers_on_a_cold_key_without_a_lease_make_one_body_call()
    {
        const int Callers = 1_000;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _service.Source = id =>
        {
            gate.Task.Wait(TimeSpan.FromSeconds(10));
            return new User(id, "slow");
        };

        var callers = Enumerable.Range(0, Callers).Select(_ => Task.Run(() => _service.GetUserAsync(9))).ToArray();
        Assert.That(SpinWait.SpinUntil(() => _calls[nameof(UserService.GetUserAsync)] > 0, TimeSpan.FromSeconds(5)), Is.True);
        await Task.Delay(100);
        gate.SetResult();
        var users = await Task.WhenAll(callers).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Multiple(() =>
        {
            Assert.That(_calls[nameof(UserService.GetUserAsync)], Is.EqualTo(1));
            Assert.That(users.Distinct().ToList(), Has.Count.EqualTo(1), "every caller got the one result");
            Assert.That(users[0], Is.EqualTo(new User(9, "slow")));
        });
    }

    [Test]
    public void The_default_key_is_the_type_the_method_and_the_arguments()
    {
        var at = new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc);
        var seen = new DateTimeOffset(at, TimeSpan.Zero);
        var tenant = Guid.Parse("a1b2c3d4-0000-0000-0000-000000000001");

        _service.Describe(1, "a,b", Region.South, tenant, at, seen, [1, 2], new User(3, "x"), null, "trace-1");

        var key = "Cached.Generators.Tests.Scenarios.UserService.Describe(1,\"a,b\",South,a1b2c3d4-0000-0000-0000-000000000001,2026-11-25T10:00:00.0000000Z,2026-11-25T10:00:00.0000000+00:00,[1,2],(3,\"x\"),null)";
        Assert.That(_cache.Raw("keys"), Is.EqualTo(new[] { key }));
    }

    [Test]
    public async Task A_nullable_CancellationToken_is_not_part_of_the_key_and_still_cancels()
    {
        // Regression: it was written into the key ("System.Threading.CancellationToken" or null), with a CACHED012 warning.
        using var cancelled = new CancellationTokenSource();
        Assert.That(await _service.Twice(21), Is.EqualTo(42));
        Assert.That(await _service.Twice(21, cancelled.Token), Is.EqualTo(42));
        Assert.That(_calls[nameof(UserService.Twice)], Is.EqualTo(1));
        Assert.That(_cache.Raw("keys"), Is.EqualTo(new[] { "Cached.Generators.Tests.Scenarios.UserService.Twice(21)" }));

        await cancelled.CancelAsync();
        Assert.That(async () => await _service.Twice(22, cancelled.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_calls[nameof(UserService.Twice)], Is.EqualTo(1), "a cancelled call does not run the body");
    }

    [Test]
    public void Different_arguments_never_share_an_entry_and_ignored_ones_do()
    {
        var at = DateTime.UnixEpoch;
        var owner = new User(1, "o");
        _service.Describe(1, "a", Region.North, Guid.Empty, at, default, [1], owner, 1, "t1");
        _service.Describe(1, "a", Region.North, Guid.Empty, at, default, [1], owner, 1, "t2");
        _service.Describe(1, "a", Region.North, Guid.Empty, at, default, [1], owner, null, "t1");
        _service.Describe(1, null, Region.North, Guid.Empty, at, default, [1], owner, 1, "t1");
        _service.Describe(1, "a", Region.South, Guid.Empty, at, default, [1], owner, 1, "t1");
        _service.Describe(1, "a", Region.North, Guid.Empty, at, default, [1, 2], owner, 1, "t1");
        _service.Describe(1, "a", Region.North, Guid.Empty, at.AddTicks(1), default, [1], owner, 1, "t1");

        Assert.That(_calls[nameof(UserService.Describe)], Is.EqualTo(6), "only the [CacheKeyIgnore] traceId change was a hit");
    }

    [Test]
    public void Template_formats_and_key_builders_make_the_key()
    {
        _service.Order(42);
        _service.Search("dotnet", 2);
        _service.Search("DotNet", 2);

        Assert.That(_cache.Exists("order:000042"), Is.True);
        Assert.That(_cache.Exists("search/DOTNET/2"), Is.True);
        Assert.That(_calls[nameof(UserService.Search)], Is.EqualTo(1), "the key builder made both searches one key");
    }

    [Test]
    public void The_namespace_option_is_honoured()
    {
        _service.InNamespace(1);

        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.UserService.InNamespace(1)", @namespace: "users"), Is.True);
        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.UserService.InNamespace(1)"), Is.False);
    }

    [Test]
    public void Cache_Serializer_and_Plugins_make_the_method_its_own_cache()
    {
        _service.OwnCache(1);
        _service.OwnCache(1);

        var own = UserService.OwnCacheInstance;
        Assert.That(own, Is.InstanceOf<SimpleMemoryCache>().And.Not.SameAs(_cache));
        Assert.That(own.Serializer, Is.InstanceOf<Serializers.JsonSerializer>());
        Assert.That(own.Raw("get", "own:1"), Is.InstanceOf<byte[]>(), "stored as JSON bytes");
        var ratio = (HitMissRatioPlugin)own.Plugins.Single();
        Assert.That((ratio.Hits, ratio.Misses), Is.EqualTo((1L, 1L)));
        Assert.That(_calls[nameof(UserService.OwnCache)], Is.EqualTo(1));
    }

    [Test]
    public void Without_options_methods_use_one_shared_memory_cache_or_the_configured_default()
    {
        DefaultCacheScenario.Calls = 0;
        DefaultCacheScenario.Echo("shared");
        DefaultCacheScenario.Echo("shared");
        Assert.That(DefaultCacheScenario.Calls, Is.EqualTo(1));
        Assert.That(Cached.Runtime.FallbackCache.Shared.Exists("Cached.Generators.Tests.Scenarios.DefaultCacheScenario.Echo(\"shared\")"), Is.True);

        var configured = new SimpleMemoryCache();
        Caches.AddInstance(Caches.DefaultAlias, configured);
        DefaultCacheScenario.Echo("configured");

        Assert.That(configured.Exists("Cached.Generators.Tests.Scenarios.DefaultCacheScenario.Echo(\"configured\")"), Is.True);
    }

    [Test]
    public void IncludeInstance_puts_the_instance_in_the_key()
    {
        var ada = new Tenant("ada");
        var bob = new Tenant("bob");

        ada.Greeting("you");
        new Tenant("ada").Greeting("you");
        bob.Greeting("you");

        Assert.That(ada.Calls + bob.Calls, Is.EqualTo(2), "an equal instance shares the entry, another one does not");
        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.Tenant.Greeting(\"Tenant { Name = ada, Calls = 0 }\",\"you\")"), Is.True);
    }

    [Test]
    public void Each_closed_generic_type_has_its_own_keys()
    {
        var ints = new Outer.Repository<int>();
        var strings = new Outer.Repository<string>();

        Assert.That(ints.Find(1), Is.EqualTo("Int321"));
        Assert.That(strings.Find(1), Is.EqualTo("String1"));
        Assert.That(ints.Find(1), Is.EqualTo("Int321"));

        Assert.That(ints.Calls + strings.Calls, Is.EqualTo(2));
        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.Outer.Repository<System.Int32>.Find(1)"), Is.True);
    }

    [Test]
    public async Task InvalidateCache_deletes_the_entries_of_the_named_methods()
    {
        Assert.That(_service.GetUser(1)!.Name, Is.EqualTo("user1"));
        Assert.That((await _service.GetUserAsync(1))!.Name, Is.EqualTo("user1"));

        _service.Rename(1, "ada");

        Assert.That(_service.GetUser(1)!.Name, Is.EqualTo("ada"));
        Assert.That((await _service.GetUserAsync(1))!.Name, Is.EqualTo("ada"));

        Assert.That((await _service.GetUserValueAsync(1))!.Name, Is.EqualTo("ada"));
        await _service.RenameAsync(1, "bob", CancellationToken.None);
        Assert.That((await _service.GetUserValueAsync(1))!.Name, Is.EqualTo("bob"));
    }

    [Test]
    public void Changing_the_alias_configuration_is_seen_by_methods_already_called()
    {
        _service.GetUser(1);
        var replacement = new SimpleMemoryCache();
        Caches.AddInstance(UserService.Alias, replacement);

        _service.GetUser(1);

        Assert.That(replacement.Exists("user:1"), Is.True);
        Assert.That(_calls[nameof(UserService.GetUser)], Is.EqualTo(2));
    }
}
