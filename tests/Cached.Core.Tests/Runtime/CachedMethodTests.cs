using Cached.Runtime;
using Cached.Serializers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// <see cref="CachedMethod{TResult}"/> called as generated code calls it: hits, misses, TTL, namespace, null results,
/// exceptions, skip rules, scopes, fail-open, invalidation and how the cache is resolved (aiocache checks 75-92).
/// </summary>
public sealed class CachedMethodTests
{
    private const string Method = "Tests.Service.GetUser";

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;
    private RecordingLoggerFactory _logs = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time };
        _logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = _logs;
        Caches.Reset();
    }

    [TearDown]
    public void TearDown()
    {
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
        Caches.Reset();
        _cache.Dispose();
    }

    private CachedMethod<T> MethodOn<T>(ICache cache, double ttl = 0, string? @namespace = null)
        => new(new CachedMethodOptions { Method = Method, CacheFactory = () => cache, Ttl = ttl, Namespace = @namespace });

    private static string Body(Calls calls, string value)
    {
        calls.Increment();
        return value;
    }

    private static ValueTask<string> BodyAsync(Calls calls, string value)
    {
        calls.Increment();
        return new ValueTask<string>(value);
    }

    // ---- hit and miss ----

    [Test]
    public void A_hit_returns_the_stored_value_without_calling_the_body()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "stored");
        var calls = new Calls();

        var result = method.Invoke("k", calls, static s => Body(s, "fresh"));

        Assert.That(result, Is.EqualTo("stored"));
        Assert.That(calls.Count, Is.Zero);
    }

    [Test]
    public async Task An_async_hit_returns_the_stored_value_synchronously_without_calling_the_body()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "stored");
        var calls = new Calls();

        var pending = method.InvokeAsync("k", calls, static (s, ct) => BodyAsync(s, "fresh"), null, CancellationToken.None);

        Assert.That(pending.IsCompletedSuccessfully, Is.True);
        Assert.That(await pending, Is.EqualTo("stored"));
        Assert.That(calls.Count, Is.Zero);
    }

    [Test]
    public void A_miss_calls_the_body_once_stores_its_result_and_returns_it()
    {
        var method = MethodOn<string>(_cache);
        var calls = new Calls();

        var first = method.Invoke("k", calls, static s => Body(s, "fresh"));

        Assert.That(first, Is.EqualTo("fresh"));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("fresh"));

        var second = method.Invoke("k", calls, static s => Body(s, "other"));
        Assert.That(second, Is.EqualTo("fresh"));
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task An_async_miss_calls_the_body_once_stores_its_result_and_returns_it()
    {
        var method = MethodOn<string>(_cache);
        var calls = new Calls();

        var first = await method.InvokeAsync("k", calls, static (s, ct) => BodyAsync(s, "fresh"), null, CancellationToken.None);
        var second = await method.InvokeAsync("k", calls, static (s, ct) => BodyAsync(s, "other"), null, CancellationToken.None);

        Assert.That(first, Is.EqualTo("fresh"));
        Assert.That(second, Is.EqualTo("fresh"));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("fresh"));
    }

    [Test]
    public void The_result_is_stored_with_the_method_Ttl_rather_than_the_cache_default()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = _time, Ttl = TimeSpan.FromHours(1) };
        var method = MethodOn<string>(cache, ttl: 2);

        method.Invoke("k", new Calls(), static s => Body(s, "v"));

        _time.Advance(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1));
        Assert.That(cache.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task An_async_result_is_stored_with_the_method_Ttl()
    {
        var method = MethodOn<string>(_cache, ttl: 2);

        await method.InvokeAsync("k", new Calls(), static (s, ct) => BodyAsync(s, "v"), null, CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.That(_cache.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public void After_the_Ttl_the_body_is_called_again()
    {
        var method = MethodOn<string>(_cache, ttl: 2);
        var calls = new Calls();

        method.Invoke("k", calls, static s => Body(s, "v"));
        method.Invoke("k", calls, static s => Body(s, "v"));
        _time.Advance(TimeSpan.FromSeconds(2.1));
        method.Invoke("k", calls, static s => Body(s, "v"));

        Assert.That(calls.Count, Is.EqualTo(2));
    }

    [Test]
    public void A_Ttl_of_zero_uses_the_cache_default_Ttl()
    {
        using var cache = new SimpleMemoryCache { TimeProvider = _time, Ttl = TimeSpan.FromSeconds(10) };
        var method = MethodOn<string>(cache, ttl: 0);

        method.Invoke("k", new Calls(), static s => Body(s, "v"));

        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.That(cache.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(cache.Exists("k"), Is.False);
    }

    [Test]
    public void A_Ttl_of_zero_on_a_cache_without_default_stores_without_expiry()
    {
        var method = MethodOn<string>(_cache, ttl: 0);

        method.Invoke("k", new Calls(), static s => Body(s, "v"));

        _time.Advance(TimeSpan.FromDays(365));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public void The_Namespace_option_stores_under_that_namespace()
    {
        var method = MethodOn<string>(_cache, @namespace: "users");
        var calls = new Calls();

        method.Invoke("k", calls, static s => Body(s, "v"));
        method.Invoke("k", calls, static s => Body(s, "v"));

        Assert.That(_cache.Exists("k", @namespace: "users"), Is.True);
        Assert.That(_cache.Exists("k"), Is.False);
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void The_Namespace_option_reads_from_that_namespace()
    {
        var method = MethodOn<string>(_cache, @namespace: "users");
        _cache.Set("k", "outside");
        _cache.Set("k", "inside", @namespace: "users");

        var result = method.Invoke("k", new Calls(), static s => Body(s, "fresh"));

        Assert.That(result, Is.EqualTo("inside"));
    }

    // ---- null results, exceptions, skipWhen ----

    [Test]
    public void A_null_result_is_cached_and_the_second_call_does_not_call_the_body()
    {
        var method = MethodOn<string?>(_cache);
        var calls = new Calls();

        var first = method.Invoke("k", calls, static s => { s.Increment(); return (string?)null; });
        var second = method.Invoke("k", calls, static s => { s.Increment(); return "not null"; });

        Assert.That(first, Is.Null);
        Assert.That(second, Is.Null);
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_cache.Exists("k"), Is.True);
    }

    [Test]
    public async Task An_async_null_result_is_cached_and_the_second_call_does_not_call_the_body()
    {
        var method = MethodOn<string?>(_cache);
        var calls = new Calls();

        var first = await method.InvokeAsync("k", calls, static (s, ct) => { s.Increment(); return new ValueTask<string?>((string?)null); }, null, CancellationToken.None);
        var second = await method.InvokeAsync("k", calls, static (s, ct) => { s.Increment(); return new ValueTask<string?>("not null"); }, null, CancellationToken.None);

        Assert.That(first, Is.Null);
        Assert.That(second, Is.Null);
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_default_value_type_result_is_cached()
    {
        var method = MethodOn<int>(_cache);
        var calls = new Calls();

        method.Invoke("k", calls, static s => { s.Increment(); return 0; });
        var second = method.Invoke("k", calls, static s => { s.Increment(); return 7; });

        Assert.That(second, Is.Zero);
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_body_exception_propagates_unchanged_and_nothing_is_stored()
    {
        var method = MethodOn<string>(_cache);
        var boom = new InvalidOperationException("boom");

        var thrown = Assert.Throws<InvalidOperationException>(() => method.Invoke("k", boom, static b => throw b));

        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(_cache.Exists("k"), Is.False);
        Assert.That(method.Invoke("k", new Calls(), static s => Body(s, "later")), Is.EqualTo("later"));
    }

    [Test]
    public void An_async_body_exception_propagates_unchanged_and_nothing_is_stored()
    {
        var method = MethodOn<string>(_cache);
        var boom = new InvalidOperationException("boom");

        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await method.InvokeAsync("k", boom, static async (b, ct) =>
        {
            await Task.Yield();
            throw b;
        }, null, CancellationToken.None));

        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public void An_async_body_that_throws_synchronously_propagates_unchanged()
    {
        var method = MethodOn<string>(_cache);
        var boom = new InvalidOperationException("boom");

        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await method.InvokeAsync<InvalidOperationException>("k", boom, static (b, ct) => throw b, null, CancellationToken.None));

        Assert.That(thrown, Is.SameAs(boom));
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public void When_skipWhen_is_true_the_result_is_returned_but_not_stored()
    {
        var method = MethodOn<string>(_cache);
        var calls = new Calls();

        var skipped = method.Invoke("k", calls, static s => Body(s, "skip"), static (s, r) => r == "skip");

        Assert.That(skipped, Is.EqualTo("skip"));
        Assert.That(_cache.Exists("k"), Is.False);

        var kept = method.Invoke("k", calls, static s => Body(s, "keep"), static (s, r) => r == "skip");
        Assert.That(kept, Is.EqualTo("keep"));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("keep"));
    }

    [Test]
    public async Task When_an_async_skipWhen_is_true_the_result_is_returned_but_not_stored()
    {
        var method = MethodOn<string?>(_cache);

        var result = await method.InvokeAsync("k", 0, static (s, ct) => new ValueTask<string?>((string?)null), static (s, r) => r is null, CancellationToken.None);

        Assert.That(result, Is.Null);
        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task A_skip_rule_that_throws_a_cancellation_ends_an_async_call_cancelled_and_lands_its_flight()
    {
        // Regression: with a body that completed at once on an in-process store, the call ended faulted, where an
        // async miss anywhere else ends cancelled.
        var method = MethodOn<string>(_cache);

        var call = method.InvokeAsync("k", 0, static (s, ct) => new ValueTask<string>("v"), static (s, r) => throw new OperationCanceledException(), CancellationToken.None);

        Assert.That(call.IsCanceled, Is.True);
        Assert.That(await method.InvokeAsync("k", 0, static (s, ct) => new ValueTask<string>("again"), null, CancellationToken.None), Is.EqualTo("again"), "the next call leads a flight of its own");
    }

    [Test]
    public void SkipWhen_receives_the_state_and_the_result()
    {
        var method = MethodOn<int>(_cache);
        (int State, int Result)? seen = null;

        method.Invoke("k", 41, static s => s + 1, (s, r) => { seen = (s, r); return false; });

        Assert.That(seen, Is.EqualTo((41, 42)));
    }

    // ---- the entry points of the commonest generated shapes (issue 14) ----

    [Test]
    public async Task CallTaskAsync_hands_its_skip_rule_the_state_and_the_result_and_stores_only_what_it_keeps()
    {
        var method = MethodOn<int>(_cache);
        (int State, int Result)? seen = null;

        var skipped = await method.CallTaskAsync("k".AsSpan(), 41, static (s, ct) => Task.FromResult(-s), (s, r) => { seen = (s, r); return r < 0; }, CancellationToken.None);

        Assert.That(skipped, Is.EqualTo(-41));
        Assert.That(seen, Is.EqualTo((41, -41)));
        Assert.That(_cache.Exists("k"), Is.False);

        var kept = await method.CallTaskAsync("k".AsSpan(), 41, static (s, ct) => Task.FromResult(s + 1), null, CancellationToken.None);
        Assert.That(kept, Is.EqualTo(42));
        Assert.That(_cache.Get<int>("k"), Is.EqualTo(42));
    }

    [Test]
    public async Task CallTaskAsync_passes_the_token_to_the_body_and_a_hit_does_not_call_it()
    {
        var method = MethodOn<string>(_cache);
        using var cancellation = new CancellationTokenSource();
        var calls = new Calls();
        CancellationToken passed = default;

        var first = await method.CallTaskAsync("k".AsSpan(), calls, (s, ct) => { passed = ct; s.Increment(); return Task.FromResult("v"); }, null, cancellation.Token);
        var second = await method.CallTaskAsync("k".AsSpan(), calls, static (s, ct) => { s.Increment(); return Task.FromResult("other"); }, null, cancellation.Token);

        Assert.That((first, second), Is.EqualTo(("v", "v")));
        Assert.That(passed.CanBeCanceled, Is.True, "the body gets a token that the caller's cancellation reaches (the flight's: see CachedMethodConcurrencyTests)");
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task Call_and_CallAsync_cache_as_Invoke_and_InvokeAsync_do()
    {
        var method = MethodOn<string>(_cache);
        var calls = new Calls();

        var sync = method.Call("a".AsSpan(), calls, static s => Body(s, "x"), null);
        var syncHit = method.Call("a".AsSpan(), calls, static s => Body(s, "y"), null);
        var async = await method.CallAsync("b".AsSpan(), calls, static (s, ct) => BodyAsync(s, "z"), null, CancellationToken.None);
        var asyncHit = await method.CallAsync("b".AsSpan(), calls, static (s, ct) => BodyAsync(s, "w"), null, CancellationToken.None);

        Assert.That((sync, syncHit, async, asyncHit), Is.EqualTo(("x", "x", "z", "z")));
        Assert.That(calls.Count, Is.EqualTo(2));
    }

    [Test]
    public void The_name_and_ttl_constructor_stores_with_that_ttl()
    {
        Caches.AddInstance(Caches.DefaultAlias, _cache);
        var method = new CachedMethod<string>("Tests.Service.Short", 10);

        method.Invoke("k", 0, static s => "v");
        Assert.That(method.CurrentCache, Is.SameAs(_cache));
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.That(_cache.Exists("k"), Is.True);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(_cache.Exists("k"), Is.False);
    }

    // ---- scopes ----

    [Test]
    public void Inside_SkipRead_the_body_runs_and_its_result_is_stored()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "old");
        var calls = new Calls();

        string result;
        using (CacheScope.SkipRead())
        {
            result = method.Invoke("k", calls, static s => Body(s, "new"));
        }

        Assert.That(result, Is.EqualTo("new"));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("new"));
    }

    [Test]
    public void Inside_SkipWrite_a_hit_is_read_and_a_miss_is_not_stored()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("hit", "old");
        var calls = new Calls();

        using (CacheScope.SkipWrite())
        {
            Assert.That(method.Invoke("hit", calls, static s => Body(s, "new")), Is.EqualTo("old"));
            Assert.That(calls.Count, Is.Zero);
            Assert.That(method.Invoke("miss", calls, static s => Body(s, "new")), Is.EqualTo("new"));
            Assert.That(calls.Count, Is.EqualTo(1));
        }

        Assert.That(_cache.Exists("miss"), Is.False);
    }

    [Test]
    public async Task Inside_async_SkipWrite_a_miss_is_not_stored()
    {
        var method = MethodOn<string>(_cache);

        using (CacheScope.SkipWrite())
        {
            Assert.That(await method.InvokeAsync("k", new Calls(), static (s, ct) => BodyAsync(s, "new"), null, CancellationToken.None), Is.EqualTo("new"));
        }

        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public void Inside_Bypass_the_body_runs_and_the_cache_is_left_unchanged()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "old");
        var calls = new Calls();

        string result;
        using (CacheScope.Bypass())
        {
            result = method.Invoke("k", calls, static s => Body(s, "new"));
            method.Invoke("other", calls, static s => Body(s, "new"));
        }

        Assert.That(result, Is.EqualTo("new"));
        Assert.That(calls.Count, Is.EqualTo(2));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("old"));
        Assert.That(_cache.Exists("other"), Is.False);
    }

    [Test]
    public void Disposing_a_scope_restores_the_enclosing_one()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "old");
        var calls = new Calls();

        using (CacheScope.SkipWrite())
        {
            var inner = CacheScope.SkipRead();
            Assert.That(CacheScope.IsReadSkipped && CacheScope.IsWriteSkipped, Is.True);
            inner.Dispose();
            inner.Dispose();
            Assert.That(CacheScope.IsReadSkipped, Is.False);
            Assert.That(CacheScope.IsWriteSkipped, Is.True);
            Assert.That(method.Invoke("k", calls, static s => Body(s, "new")), Is.EqualTo("old"));
        }

        Assert.That(CacheScope.IsWriteSkipped, Is.False);
        Assert.That(method.Invoke("miss", calls, static s => Body(s, "new")), Is.EqualTo("new"));
        Assert.That(_cache.Exists("miss"), Is.True);
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public async Task A_scope_flows_into_async_calls_on_other_threads()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "old");
        var calls = new Calls();

        string result;
        using (CacheScope.SkipRead())
        {
            result = await Task.Run(async () =>
            {
                await Task.Yield();
                return await method.InvokeAsync("k", calls, static async (s, ct) =>
                {
                    await Task.Yield();
                    s.Increment();
                    return "new";
                }, null, CancellationToken.None);
            });
        }

        Assert.That(result, Is.EqualTo("new"));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("new"));
    }

    [Test]
    public async Task A_scope_left_open_inside_an_async_method_does_not_leak_to_its_caller()
    {
        static async Task<IDisposable> EnterWithoutDisposing()
        {
            await Task.Yield();
            var scope = CacheScope.Bypass();
            Assert.That(CacheScope.IsReadSkipped, Is.True);
            return scope;
        }

        var leftOpen = await EnterWithoutDisposing();
        try
        {
            Assert.That(CacheScope.IsReadSkipped, Is.False);
            Assert.That(CacheScope.IsWriteSkipped, Is.False);
        }
        finally
        {
            // Closed only now, so that later tests start with no scope open anywhere.
            leftOpen.Dispose();
        }
    }

    // ---- serializers ----

    /// <summary>The README's default alias: a SimpleMemoryCache with a StringSerializer.</summary>
    private static void ConfigureReadmeDefault()
        => Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new() { Cache = "Cached.SimpleMemoryCache", Serializer = new ClassConfig("Cached.Serializers.StringSerializer") },
        });

    [Test]
    public void A_Guid_result_on_the_README_default_alias_is_cached()
    {
        ConfigureReadmeDefault();
        var method = new CachedMethod<Guid>(new CachedMethodOptions { Method = Method });
        var calls = new Calls();

        var first = method.Invoke("k", calls, static s => { s.Increment(); return Guid.NewGuid(); });
        var second = method.Invoke("k", calls, static s => { s.Increment(); return Guid.NewGuid(); });

        Assert.That(second, Is.EqualTo(first));
        Assert.That(calls.Count, Is.EqualTo(1), "the second call is a hit");
        Assert.That(_logs.Entries, Is.Empty);
    }

    [Test]
    public async Task A_DateTime_result_on_the_README_default_alias_comes_back_with_its_ticks_and_kind()
    {
        ConfigureReadmeDefault();
        var method = new CachedMethod<DateTime>(new CachedMethodOptions { Method = Method });
        var stored = new DateTime(2024, 3, 1, 10, 0, 0, 123, DateTimeKind.Utc).AddTicks(4567);

        await method.InvokeAsync("k", stored, static (s, ct) => new ValueTask<DateTime>(s), null, CancellationToken.None);
        var hit = await method.InvokeAsync("k", DateTime.MinValue, static (s, ct) => new ValueTask<DateTime>(s), null, CancellationToken.None);

        Assert.That(hit.Ticks, Is.EqualTo(stored.Ticks));
        Assert.That(hit.Kind, Is.EqualTo(DateTimeKind.Utc));
    }

    [Test]
    public void A_null_string_result_on_the_README_default_alias_comes_back_as_null_not_empty()
    {
        ConfigureReadmeDefault();
        var method = new CachedMethod<string?>(new CachedMethodOptions { Method = Method });
        var calls = new Calls();

        method.Invoke("k", calls, static s => { s.Increment(); return (string?)null; });
        var hit = method.Invoke("k", calls, static s => { s.Increment(); return "fresh"; });

        Assert.That(hit, Is.Null);
        Assert.That(calls.Count, Is.EqualTo(1));
    }

    [Test]
    public void A_result_type_the_serializer_refuses_is_logged_once_as_an_error_and_the_method_runs_uncached()
    {
        using var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        var method = MethodOn<Point>(cache);
        var calls = new Calls();

        for (var i = 0; i < 5; i++)
        {
            var result = method.Invoke("k", calls, static s => new Point(s.Increment(), 0));
            Assert.That(result, Is.EqualTo(new Point(i + 1, 0)), "every call returns its body's result");
        }

        Assert.That(calls.Count, Is.EqualTo(5));
        Assert.That(cache.Exists("k"), Is.False);
        var entry = _logs.Entries.Single();
        Assert.That(entry.EventId, Is.EqualTo(6));
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(entry.Message, Does.Contain(Method).And.Contain(typeof(Point).FullName));
        var refusal = entry.Exception as CacheSerializationException;
        Assert.That(refusal?.IsUnsupportedType, Is.True);
        Assert.That(refusal!.Message, Does.Contain("JsonSerializer"));
    }

    [Test]
    public void Without_reflection_a_result_type_no_json_context_lists_is_logged_once_with_the_fix_and_runs_uncached()
    {
        // The default JsonSerializer as a NativeAOT application has it, with no context that lists Point.
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(new JsonContextRegistry(), reflectionAllowed: false) };
        var method = MethodOn<Point>(cache);
        var calls = new Calls();

        for (var i = 0; i < 3; i++)
        {
            method.Invoke("k", calls, static s => new Point(s.Increment(), 0));
        }

        Assert.That(calls.Count, Is.EqualTo(3));
        var entry = _logs.Entries.Single();
        Assert.That(entry.EventId, Is.EqualTo(6));
        Assert.That(entry.Level, Is.EqualTo(LogLevel.Error));
        Assert.That(entry.Exception?.InnerException?.Message, Does.Contain("[JsonSerializable(typeof(Point))]"));
    }

    [Test]
    public async Task An_async_result_type_the_serializer_refuses_is_logged_once_and_the_method_runs_uncached()
    {
        using var cache = new SimpleMemoryCache { Serializer = new StringSerializer() };
        var method = MethodOn<Point>(cache);
        var calls = new Calls();

        for (var i = 0; i < 5; i++)
        {
            await method.InvokeAsync("k", calls, static (s, ct) => new ValueTask<Point>(new Point(s.Increment(), 0)), null, CancellationToken.None);
        }

        Assert.That(calls.Count, Is.EqualTo(5));
        Assert.That(_logs.Entries.Select(e => e.EventId), Is.EqualTo(new[] { 6 }));
        Assert.ThrowsAsync<InvalidOperationException>(async () => await method.InvokeAsync<InvalidOperationException>("k", new("boom"), static (b, ct) => throw b, null, CancellationToken.None));
    }

    [Test]
    public void A_refused_method_tries_again_with_the_cache_a_new_configuration_gives_it()
    {
        ConfigureReadmeDefault();
        var method = new CachedMethod<Point>(new CachedMethodOptions { Method = Method });
        var calls = new Calls();
        method.Invoke("k", calls, static s => new Point(s.Increment(), 0));

        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new() { Cache = "Cached.SimpleMemoryCache", Serializer = new ClassConfig("Cached.Serializers.JsonSerializer") },
        });
        method.Invoke("k", calls, static s => new Point(s.Increment(), 0));
        var hit = method.Invoke("k", calls, static s => new Point(s.Increment(), 0));

        Assert.That(hit, Is.EqualTo(new Point(2, 0)));
        Assert.That(calls.Count, Is.EqualTo(2));
        Assert.That(_logs.Entries.Select(e => e.EventId), Is.EqualTo(new[] { 6 }));
    }

    // ---- fail-open ----

    [Test]
    public void A_cache_whose_commands_throw_still_returns_the_body_result_and_logs_warnings()
    {
        using var backend = new TestBackend { FailAll = true };
        var method = MethodOn<string>(backend);
        var calls = new Calls();

        var result = method.Invoke("user:1", calls, static s => Body(s, "fresh"));

        Assert.That(result, Is.EqualTo("fresh"));
        Assert.That(calls.Count, Is.EqualTo(1));
        var entries = _logs.Entries;
        Assert.That(entries.Select(e => e.EventId), Is.EquivalentTo(new[] { 1, 2 }), "one read warning and one write warning");
        Assert.That(entries, Has.All.Matches<LogEntry>(e => e.Level == LogLevel.Warning && e.Message.Contains("user:1") && e.Message.Contains(Method)));
        Assert.That(entries, Has.All.Matches<LogEntry>(e => ReferenceEquals(e.Exception, backend.Fault)));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task An_async_cache_whose_commands_fail_still_returns_the_body_result_and_logs_warnings(bool synchronousFaults)
    {
        using var backend = new TestBackend { FailAll = true, FaultsAreSynchronous = synchronousFaults };
        var method = MethodOn<string>(backend);
        var calls = new Calls();

        var result = await method.InvokeAsync("user:1", calls, static (s, ct) => BodyAsync(s, "fresh"), null, CancellationToken.None);

        Assert.That(result, Is.EqualTo("fresh"));
        Assert.That(calls.Count, Is.EqualTo(1));
        var entries = _logs.Entries;
        Assert.That(entries.Select(e => e.EventId), Is.EquivalentTo(new[] { 1, 2 }));
        Assert.That(entries, Has.All.Matches<LogEntry>(e => e.Level == LogLevel.Warning && e.Message.Contains("user:1") && e.Message.Contains(Method)));
    }

    [Test]
    public void A_failing_write_alone_is_logged_once_and_the_result_returned()
    {
        using var backend = new TestBackend { FailWrites = true };
        var method = MethodOn<string>(backend);

        var result = method.Invoke("k", new Calls(), static s => Body(s, "fresh"));

        Assert.That(result, Is.EqualTo("fresh"));
        Assert.That(_logs.Entries.Select(e => e.EventId), Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public async Task Nothing_is_logged_on_a_hit_or_a_healthy_miss()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("hit", "v");

        method.Invoke("hit", new Calls(), static s => Body(s, "x"));
        await method.InvokeAsync("hit", new Calls(), static (s, ct) => BodyAsync(s, "x"), null, CancellationToken.None);
        method.Invoke("miss", new Calls(), static s => Body(s, "x"));

        Assert.That(_logs.Entries, Is.Empty);
    }

    [Test]
    public async Task A_cache_read_slower_than_the_cache_Timeout_is_abandoned_and_the_body_result_returned()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var backend = new TestBackend { TimeProvider = _time, Timeout = TimeSpan.FromMilliseconds(100), ReadGate = gate.Task };
        var method = MethodOn<string>(backend);
        var calls = new Calls();

        var pending = method.InvokeAsync("k", calls, static (s, ct) => BodyAsync(s, "fresh"), null, CancellationToken.None).AsTask();
        Assert.That(pending.IsCompleted, Is.False);
        Assert.That(calls.Count, Is.Zero);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.That(result, Is.EqualTo("fresh"));
        Assert.That(calls.Count, Is.EqualTo(1));
        Assert.That(backend.Store["k"], Is.EqualTo("fresh"));
        Assert.That(_logs.Entries.Single().Exception, Is.InstanceOf<TimeoutException>());
        gate.SetResult();
    }

    [Test]
    public void The_caller_cancellation_during_a_read_is_not_swallowed()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var backend = new TestBackend { ReadGate = gate.Task, Timeout = null };
        var method = MethodOn<string>(backend);
        var calls = new Calls();
        using var cts = new CancellationTokenSource();

        var pending = method.InvokeAsync("k", calls, static (s, ct) => BodyAsync(s, "fresh"), null, cts.Token).AsTask();
        cts.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await pending.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.That(calls.Count, Is.Zero);
        Assert.That(_logs.Entries, Is.Empty);
    }

    // ---- invalidation ----

    [Test]
    public void Invalidate_deletes_the_entry_in_the_method_namespace()
    {
        var method = MethodOn<string>(_cache, @namespace: "ns");
        var calls = new Calls();
        method.Invoke("k", calls, static s => Body(s, "v"));
        _cache.Set("k", "outside");

        method.Invalidate("k");

        Assert.That(_cache.Exists("k", @namespace: "ns"), Is.False);
        Assert.That(_cache.Exists("k"), Is.True);
        method.Invoke("k", calls, static s => Body(s, "v"));
        Assert.That(calls.Count, Is.EqualTo(2));
    }

    [Test]
    public async Task InvalidateAsync_deletes_the_entry()
    {
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "v");

        await method.InvalidateAsync("k", CancellationToken.None);

        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task InvalidateAsync_deletes_the_entry_even_when_the_method_s_token_was_cancelled_after_its_body()
    {
        // Regression: the delete ran under the token and threw before deleting; the body's change was made, the entry stayed.
        var method = MethodOn<string>(_cache);
        _cache.Set("k", "v");
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await method.InvalidateAsync("k", cancelled.Token);

        Assert.That(_cache.Exists("k"), Is.False);
    }

    [Test]
    public async Task Invalidate_swallows_and_logs_cache_faults()
    {
        using var backend = new TestBackend { FailAll = true };
        var method = MethodOn<string>(backend);

        Assert.DoesNotThrow(() => method.Invalidate("k"));
        backend.FaultsAreSynchronous = false;
        await method.InvalidateAsync("k", CancellationToken.None);

        Assert.That(_logs.Entries.Select(e => e.EventId), Is.EqualTo(new[] { 4, 4 }));
        Assert.That(_logs.Entries, Has.All.Matches<LogEntry>(e => e.Message.Contains("'k'") && e.Message.Contains(Method)));
    }

    // ---- how the cache is resolved ----

    private static CacheConfig Memory() => new() { Cache = "Cached.SimpleMemoryCache" };

    [Test]
    public void Alias_uses_the_shared_instance_of_that_alias()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory(), ["other"] = Memory() });
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = Method, Alias = "other" });

        Assert.That(method.CurrentCache, Is.SameAs(Caches.Get("other")));
        Assert.That(method.CurrentCache, Is.Not.SameAs(Caches.Get("default")));
    }

    [Test]
    public void Alias_takes_precedence_over_CacheFactory()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory(), ["other"] = Memory() });
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = Method, Alias = "other", CacheFactory = () => _cache });

        Assert.That(method.CurrentCache, Is.SameAs(Caches.Get("other")));
    }

    [Test]
    public async Task An_unknown_alias_runs_the_method_uncached_says_so_once_and_caches_once_the_alias_is_added()
    {
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = Method, Alias = "missing" });
        var calls = new Calls();

        Assert.That(method.Invoke("k", calls, static s => Body(s, "a")), Is.EqualTo("a"));
        Assert.That(await method.InvokeAsync("k", calls, static (s, ct) => BodyAsync(s, "a"), null, CancellationToken.None), Is.EqualTo("a"));
        Assert.That(calls.Count, Is.EqualTo(2), "a cache fault never fails the call");
        var told = _logs.Entries.Where(static e => e.EventId == 12).ToList();
        Assert.That(told, Has.Count.EqualTo(1), "said once, not per call: " + string.Join("\n", _logs.Entries.Select(static e => e.Message)));
        Assert.That(told[0].Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Error));
        Assert.That(told[0].Exception, Is.InstanceOf<UnknownCacheAliasException>().With.Message.Contains("AddCached").And.Message.Contains("appsettings.json"));
        Assert.That(_logs.Entries.Where(static e => e.EventId != 12), Is.Empty);

        using var added = new SimpleMemoryCache();
        Caches.AddInstance("missing", added);
        method.Invoke("k", calls, static s => Body(s, "b"));
        method.Invoke("k", calls, static s => Body(s, "c"));

        Assert.That(calls.Count, Is.EqualTo(3), "cached from the moment the alias exists");
        Assert.That(added.Get<string>("k"), Is.EqualTo("b"));
    }

    [Test]
    public void Without_alias_or_factory_and_no_configuration_methods_share_one_default_SimpleMemoryCache()
    {
        Assert.That(Caches.IsDefaultConfigured, Is.False);
        var first = new CachedMethod<string>(new CachedMethodOptions { Method = "T.A" });
        var second = new MultiCachedMethod<string, int>(new CachedMethodOptions { Method = "T.B" });

        Assert.That(first.CurrentCache, Is.InstanceOf<SimpleMemoryCache>());
        Assert.That(second.CurrentCache, Is.SameAs(first.CurrentCache));
        Assert.That(first.CurrentCache, Is.SameAs(FallbackCache.Shared));
        Assert.That(first.CurrentCache, Is.SameAs(Caches.Get()), "one default: Caches.Get returns the same instance");
    }

    [Test]
    public void Without_alias_or_factory_a_configured_application_uses_the_default_alias()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory() });
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = Method });

        Assert.That(method.CurrentCache, Is.SameAs(Caches.Get("default")));
        Assert.That(method.CurrentCache, Is.Not.SameAs(FallbackCache.Shared));
    }

    [Test]
    public void The_cache_factory_is_called_once_and_its_cache_reused_across_calls()
    {
        var created = 0;
        var method = new CachedMethod<string>(new CachedMethodOptions
        {
            Method = Method,
            CacheFactory = () =>
            {
                created++;
                return _cache;
            },
        });

        method.Invoke("a", new Calls(), static s => Body(s, "v"));
        method.Invoke("b", new Calls(), static s => Body(s, "v"));
        method.Invalidate("a");

        Assert.That(created, Is.EqualTo(1));
        Assert.That(method.CurrentCache, Is.SameAs(_cache));
        Assert.That(_cache.Exists("b"), Is.True);
    }

    [Test]
    public void Each_method_with_a_factory_gets_its_own_cache()
    {
        var first = new CachedMethod<string>(new CachedMethodOptions { Method = "T.A", CacheFactory = () => new SimpleMemoryCache() });
        var second = new CachedMethod<string>(new CachedMethodOptions { Method = "T.B", CacheFactory = () => new SimpleMemoryCache() });

        first.Invoke("k", new Calls(), static s => Body(s, "first"));
        var result = second.Invoke("k", new Calls(), static s => Body(s, "second"));

        Assert.That(result, Is.EqualTo("second"));
        Assert.That(first.CurrentCache, Is.Not.SameAs(second.CurrentCache));
    }

    // ---- durations ----

    [TestCase("Ttl")]
    [TestCase("Lease")]
    [TestCase("FailSafe")]
    [TestCase("FailSafeThrottle")]
    [TestCase("SoftTimeout")]
    [TestCase("HardTimeout")]
    public void A_duration_beyond_TimeSpan_MaxValue_is_refused_with_the_name_of_its_option(string option)
    {
        const double TooLong = 1e12;
        var options = option switch
        {
            "Ttl" => new CachedMethodOptions { Method = Method, Ttl = TooLong },
            "Lease" => new CachedMethodOptions { Method = Method, Lease = TooLong },
            "FailSafe" => new CachedMethodOptions { Method = Method, FailSafe = TooLong },
            "FailSafeThrottle" => new CachedMethodOptions { Method = Method, FailSafeThrottle = TooLong },
            "SoftTimeout" => new CachedMethodOptions { Method = Method, SoftTimeout = TooLong },
            _ => new CachedMethodOptions { Method = Method, HardTimeout = TooLong },
        };

        var thrown = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new CachedMethod<string>(options));
        Assert.That(thrown!.ParamName, Is.EqualTo(option));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new MultiCachedMethod<int, string>(options));
    }

    [Test]
    public void The_longest_duration_TimeSpan_holds_is_taken()
    {
        var seconds = TimeSpan.MaxValue.TotalSeconds;
        Assert.DoesNotThrow(() => _ = new CachedMethod<string>(new CachedMethodOptions
        {
            Method = Method, Ttl = seconds, Lease = seconds, FailSafe = seconds, FailSafeThrottle = seconds, SoftTimeout = seconds, HardTimeout = seconds,
        }));
    }
}
