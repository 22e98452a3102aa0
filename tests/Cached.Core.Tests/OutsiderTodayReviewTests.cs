using System.Numerics;
using System.Text;
using System.Text.Json.Serialization;
using Cached.Runtime;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Tests.Outsider;

/// <summary>A struct whose fields are included on purpose.</summary>
public struct TodayIncludedPoint
{
    [JsonInclude]
    public int X;

    [JsonInclude]
    public double Y;
}

/// <summary>A struct of plain public fields (skipped by System.Text.Json).</summary>
public struct TodayFieldPair
{
    public int A;
    public int B;
}

/// <summary>A class with a readonly public field, not marked.</summary>
public sealed class TodayReadonlyField
{
    public readonly int Id;

    public TodayReadonlyField()
    {
    }

    public TodayReadonlyField(int id, bool _) => Id = id;

    public string Name { get; set; } = "";
}

/// <summary>A class with a readonly public field marked [JsonInclude] and no constructor that sets it.</summary>
public sealed class TodayIncludedReadonlyField
{
    [JsonInclude]
    public readonly int Id;

    public TodayIncludedReadonlyField()
    {
    }

    public TodayIncludedReadonlyField(int id, bool _) => Id = id;

    public string Name { get; set; } = "";
}

/// <summary>A base with a public field.</summary>
public class TodayBaseWithField
{
    public int Inherited;
}

/// <summary>Its derived class, itself with properties only.</summary>
public sealed class TodayDerived : TodayBaseWithField
{
    public string Name { get; set; } = "";
}

/// <summary>A record with an extra public field.</summary>
public sealed record TodayRecordWithField(int Id)
{
    public int Extra;
}

/// <summary>A record holding a long tuple and a nullable BigInteger.</summary>
public sealed record TodayLongTupleHolder((int, int, int, int, int, int, int, int, string) Long, BigInteger? Maybe, Dictionary<string, (double, decimal?)> Map);

/// <summary>
/// An outsider's review of today's changes, memory only: [MultiCached] keys that can have no entry, the
/// JsonSerializer's value tuples / BigInteger / skipped public fields, a body that asks for its own key, and two levels'
/// Clear and MultiSet. Each test quotes the documentation sentence it relies on.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderTodayReviewTests
{
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp() => _cache = new SimpleMemoryCache();

    [TearDown]
    public void TearDown() => _cache.Dispose();

    private static async Task<T> Bounded<T>(Task<T> running, string what)
    {
        var ended = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.That(ended, Is.SameAs(running), what + ": did not end within 20 s");
        return await running;
    }

    private static async Task<Exception?> Outcome<T>(Func<Task<T>> call)
    {
        var running = Task.Run(call);
        var ended = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.That(ended, Is.SameAs(running), "the call waited for itself (hung)");
        try
        {
            await running;
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    // ================================================================= 1. [MultiCached] keys that can have no entry

    /// <summary>Records every batch the body is handed.</summary>
    private sealed class Source
    {
        public List<string> Calls { get; } = [];

        public Exception? Failure { get; set; }

        public SemaphoreSlim? Gate { get; set; }

        public TaskCompletionSource? Entered { get; set; }

        public Dictionary<string, string> Load(List<string> keys)
        {
            lock (Calls)
            {
                Calls.Add(string.Join(",", keys));
            }

            Entered?.TrySetResult();
            Gate?.Wait();
            if (Failure is not null)
            {
                throw Failure;
            }

            return keys.ToDictionary(static k => k, static k => "v" + k);
        }
    }

    // Keys starting with "x" have an empty cache key (a KeyBuilder returning "").
    private static string KeyOf(Source _, string key) => key.StartsWith('x') ? "" : key;

    private MultiCachedMethod<string, string> Multi(double failSafe = 0)
        => new(new CachedMethodOptions { Method = "Outsider.Today.Many", CacheFactory = () => _cache, Ttl = 60, FailSafe = failSafe });

    private static async Task<Dictionary<string, string>> CallMulti(bool async, MultiCachedMethod<string, string> method, Source source, bool tagged, params string[] keys)
    {
        if (async)
        {
            var body = static (Source s, List<string> missing, CancellationToken _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(s.Load(missing));
            return tagged
                ? await method.InvokeAsync(keys, source, KeyOf, body, null, static (_, key) => ["t:" + key], CancellationToken.None)
                : await method.InvokeAsync(keys, source, KeyOf, body, null, CancellationToken.None);
        }

        return tagged
            ? method.Invoke(keys, source, KeyOf, static (s, missing) => s.Load(missing), null, static (_, key) => ["t:" + key])
            : method.Invoke(keys, source, KeyOf, static (s, missing) => s.Load(missing), null);
    }

    [Test]
    public async Task Multi_empty_cache_keys_with_duplicates_go_to_the_body_every_call_in_callers_order_and_are_never_stored([Values] bool async, [Values] bool tagged, [Values(0, 60)] double failSafe)
    {
        // decorators.md [MultiCached]: "A key that can have no entry, ... one whose cache key is empty ..., goes to the body
        // on every call, in the caller's order with the missing keys, and is never read, stored or invalidated: it costs
        // only itself its entry."
        var method = Multi(failSafe);
        var source = new Source();

        var first = await CallMulti(async, method, source, tagged, "xb", "a", "xa", "b", "a", "xb");
        var second = await CallMulti(async, method, source, tagged, "b", "xa", "a", "xb", "c");

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EquivalentTo(new Dictionary<string, string> { ["xb"] = "vxb", ["a"] = "va", ["xa"] = "vxa", ["b"] = "vb" }));
            Assert.That(second, Is.EquivalentTo(new Dictionary<string, string> { ["b"] = "vb", ["xa"] = "vxa", ["a"] = "va", ["xb"] = "vxb", ["c"] = "vc" }));
            Assert.That(source.Calls, Is.EqualTo(new[] { "xb,a,xa,b", "xa,xb,c" }));
            Assert.That(_cache.Exists("xa") || _cache.Exists("xb"), Is.False, "nothing stored for an uncacheable key");
            Assert.That(_cache.Exists("a") && _cache.Exists("b") && _cache.Exists("c"), Is.True);
        });
    }

    [Test]
    public async Task Multi_a_batch_of_only_uncacheable_keys_goes_to_the_body_every_call_and_stores_nothing([Values] bool async, [Values] bool tagged, [Values(0, 60)] double failSafe)
    {
        // decorators.md [MultiCached]: "... goes to the body on every call ... and is never read, stored or invalidated".
        var method = Multi(failSafe);
        var source = new Source();

        for (var i = 0; i < 3; i++)
        {
            Assert.That(await CallMulti(async, method, source, tagged, "xq", "xp", "xq"), Is.EquivalentTo(new Dictionary<string, string> { ["xq"] = "vxq", ["xp"] = "vxp" }));
        }

        Assert.That(source.Calls, Is.EqualTo(new[] { "xq,xp", "xq,xp", "xq,xp" }));
        Assert.That(_cache.Exists("xq") || _cache.Exists("xp"), Is.False, "nothing stored");
    }

    [Test]
    public async Task Multi_when_every_cacheable_key_hits_the_body_gets_only_the_uncacheable_ones([Values] bool async, [Values] bool tagged, [Values(0, 60)] double failSafe)
    {
        // decorators.md [MultiCached]: "goes to the body on every call, in the caller's order with the missing keys".
        var method = Multi(failSafe);
        var source = new Source();
        await CallMulti(async, method, source, tagged, "a", "b");

        var answer = await CallMulti(async, method, source, tagged, "b", "xz", "a");

        Assert.That(answer, Is.EquivalentTo(new Dictionary<string, string> { ["b"] = "vb", ["xz"] = "vxz", ["a"] = "va" }));
        Assert.That(source.Calls, Is.EqualTo(new[] { "a,b", "xz" }));
    }

    [Test]
    public async Task Multi_fail_safe_serves_last_values_of_cacheable_keys_when_no_uncacheable_key_is_asked_and_the_body_fails([Values] bool async)
    {
        // decorators.md [MultiCached] / fail-safe: keys that can be cached keep their last values; an uncacheable key
        // "costs only itself its entry", so a batch without one is served as before.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        _cache.Dispose();
        _cache = new SimpleMemoryCache { TimeProvider = time };
        var method = Multi(failSafe: 600);
        var source = new Source();
        await CallMulti(async, method, source, false, "a", "xk", "b");
        time.Advance(TimeSpan.FromSeconds(61));
        source.Failure = new InvalidOperationException("down");

        var answer = await CallMulti(async, method, source, false, "a", "b");

        Assert.That(answer, Is.EquivalentTo(new Dictionary<string, string> { ["a"] = "va", ["b"] = "vb" }));
    }

    [Test]
    public async Task Multi_concurrent_batches_sharing_an_uncacheable_key_and_a_cacheable_one_both_finish([Values] bool async)
    {
        // decorators.md [MultiCached]: an uncacheable key "is never read, fenced, stored" (commit) and "costs only itself
        // its entry"; two callers must not wait on each other for it.
        var method = Multi();
        var source = new Source { Gate = new SemaphoreSlim(0), Entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        var first = Task.Run(() => CallMulti(async, method, source, false, "xk", "a"));
        await Bounded(source.Entered.Task.ContinueWith(static _ => 0), "first body entered");
        source.Entered = null;
        var second = Task.Run(() => CallMulti(async, method, source, false, "a", "xk"));
        await Task.Delay(200);
        source.Gate.Release(10);

        var one = await Bounded(first, "first");
        var two = await Bounded(second, "second");

        Assert.That((one["xk"], one["a"], two["xk"], two["a"]), Is.EqualTo(("vxk", "va", "vxk", "va")));
        Assert.That(source.Calls.Count(static c => c.Contains("xk")), Is.EqualTo(2), "the uncacheable key went to the body on each call");
    }

    [Test]
    public async Task Multi_a_cancelled_async_call_with_an_uncacheable_key_stores_nothing_and_the_next_call_computes()
    {
        // decorators.md [MultiCached]: "goes to the body on every call"; cancellation ends the call, nothing stored.
        var method = Multi();
        var source = new Source();
        using var cts = new CancellationTokenSource();
        var body = (Source s, List<string> missing, CancellationToken token) =>
        {
            s.Load(missing);
            cts.Cancel();
            token.ThrowIfCancellationRequested();
            return new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(missing.ToDictionary(static k => k, static k => "v" + k));
        };

        Assert.That(async () => await method.InvokeAsync(new[] { "xk", "a" }, source, KeyOf, body, null, cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(_cache.Exists("a"), Is.False);
        var again = await CallMulti(true, method, source, false, "xk", "a");
        Assert.That(again, Is.EquivalentTo(new Dictionary<string, string> { ["xk"] = "vxk", ["a"] = "va" }));
        Assert.That(source.Calls, Is.EqualTo(new[] { "xk,a", "xk,a" }));
    }

    // ================================================================= 2. JsonSerializer shapes

    private static SimpleMemoryCache JsonCache() => new() { Serializer = new JsonSerializer() };

    private static string Raw(ICache cache, string key) => Encoding.UTF8.GetString((byte[])cache.Raw("get", key)!);

    [Test]
    public void Json_tuples_with_double_decimal_and_nullable_items_read_back()
    {
        // serializers.md: "new JsonSerializer() writes a value tuple as a JSON array of its items, (7, "seven") as [7,"seven"]".
        using var cache = JsonCache();
        var value = (1.5, 2.25m, (int?)null, (string?)null, (long?)7L, 'c');

        cache.Set("t", value);

        Assert.That(Raw(cache, "t"), Is.EqualTo("""[1.5,2.25,null,null,7,"c"]"""));
        Assert.That(cache.Get<(double, decimal, int?, string?, long?, char)>("t"), Is.EqualTo(value));
    }

    [Test]
    public void Json_a_one_item_tuple_and_a_tuple_nested_in_a_tuple_read_back()
    {
        // serializers.md: "writes a value tuple as a JSON array of its items".
        using var cache = JsonCache();

        cache.Set("one", ValueTuple.Create(5));
        cache.Set("nested", ((1, "a"), (2.5, new List<int> { 3 })));

        Assert.That(Raw(cache, "one"), Is.EqualTo("[5]"));
        Assert.That(cache.Get<ValueTuple<int>>("one"), Is.EqualTo(ValueTuple.Create(5)));
        var back = cache.Get<((int, string), (double, List<int>))>("nested");
        Assert.That((back.Item1, back.Item2.Item1, back.Item2.Item2), Is.EqualTo(((1, "a"), 2.5, new List<int> { 3 })));
    }

    [Test]
    public void Json_long_tuples_in_records_and_dictionaries_read_back()
    {
        // serializers.md: "a tuple of eight items or more is written flat".
        using var cache = JsonCache();
        var holder = new TodayLongTupleHolder((1, 2, 3, 4, 5, 6, 7, 8, "nine"), null, new() { ["k"] = (0.1, 3.5m), ["n"] = (-0.0, null) });
        var byName = new Dictionary<string, (int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int)>
        {
            ["sixteen"] = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16),
        };

        cache.Set("h", holder);
        cache.Set("d", byName);

        Assert.That(Raw(cache, "h"), Does.StartWith("""{"Long":[1,2,3,4,5,6,7,8,"nine"]"""));
        var back = cache.Get<TodayLongTupleHolder>("h")!;
        Assert.That((back.Long, back.Maybe, back.Map["k"], back.Map["n"].Item2), Is.EqualTo((holder.Long, (BigInteger?)null, (0.1, (decimal?)3.5m), (decimal?)null)));
        Assert.That(Raw(cache, "d"), Is.EqualTo("""{"sixteen":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}"""));
        Assert.That(cache.Get<Dictionary<string, (int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int)>>("d")!["sixteen"], Is.EqualTo(byName["sixteen"]));
    }

    [Test]
    public void Json_a_tuple_with_an_item_of_skipped_fields_is_refused_by_type()
    {
        // serializers.md: "new JsonSerializer() refuses by type an object with a public field System.Text.Json would skip".
        using var cache = JsonCache();

        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("t", (1, new TodayFieldPair { A = 1, B = 2 })))!;
        var inDictionary = Assert.Throws<CacheSerializationException>(() => cache.Set("d", new Dictionary<string, TodayFieldPair> { ["p"] = new() { A = 1 } }))!;

        Assert.That(refused.IsUnsupportedType && inDictionary.IsUnsupportedType, Is.True);
        Assert.That(refused.ToString(), Does.Contain("'A'"));
        Assert.That(cache.Exists("t") || cache.Exists("d"), Is.False);
    }

    [Test]
    public void Json_big_integers_zero_negative_huge_nullable_and_from_a_string_read_back()
    {
        // serializers.md: "new JsonSerializer() writes a BigInteger as a JSON number of its digits, as Python writes an
        // int of any size"; BigIntegerJsonConverter: "reads one from a number (or from a string of digits)".
        using var cache = JsonCache();
        var huge = BigInteger.Pow(7, 5000);

        cache.Set("zero", BigInteger.Zero);
        cache.Set("neg", BigInteger.MinusOne);
        cache.Set("huge", -huge);
        cache.Set("some", (BigInteger?)BigInteger.Pow(2, 70));
        cache.Set("none", (BigInteger?)null);
        cache.Set("list", new List<BigInteger> { 1, -2, BigInteger.Pow(10, 30) });
        cache.Raw("set", "text", Encoding.UTF8.GetBytes("\"-123456789012345678901234567890\""));

        Assert.Multiple(() =>
        {
            Assert.That(Raw(cache, "zero"), Is.EqualTo("0"));
            Assert.That(Raw(cache, "neg"), Is.EqualTo("-1"));
            Assert.That(cache.Get<BigInteger>("zero"), Is.EqualTo(BigInteger.Zero));
            Assert.That(cache.Get<BigInteger>("neg"), Is.EqualTo(BigInteger.MinusOne));
            Assert.That(cache.Get<BigInteger>("huge"), Is.EqualTo(-huge));
            Assert.That(cache.Get<BigInteger?>("some"), Is.EqualTo((BigInteger?)BigInteger.Pow(2, 70)));
            Assert.That(cache.Get<BigInteger?>("none"), Is.Null);
            Assert.That(cache.Get<List<BigInteger>>("list"), Is.EqualTo(new List<BigInteger> { 1, -2, BigInteger.Pow(10, 30) }));
            Assert.That(cache.Get<BigInteger>("text"), Is.EqualTo(BigInteger.Parse("-123456789012345678901234567890", System.Globalization.CultureInfo.InvariantCulture)));
        });
    }

    [Test]
    public void Json_a_big_integer_as_a_dictionary_key_round_trips_or_is_refused_never_read_back_otherwise()
    {
        // serializers.md, Refuses: "a type System.Text.Json cannot write or reads back otherwise".
        using var cache = JsonCache();
        var map = new Dictionary<BigInteger, string> { [BigInteger.Pow(10, 25)] = "big", [-3] = "neg" };

        try
        {
            cache.Set("m", map);
        }
        catch (CacheSerializationException refused)
        {
            Assert.That(refused.IsUnsupportedType, Is.True, "refused, but not by type");
            return;
        }

        Assert.That(cache.Get<Dictionary<BigInteger, string>>("m"), Is.EquivalentTo(map));
    }

    [Test]
    public void Json_a_struct_with_JsonInclude_fields_reads_back()
    {
        // serializers.md: "Make it a property, mark it [JsonInclude] ...".
        using var cache = JsonCache();

        cache.Set("p", new TodayIncludedPoint { X = 3, Y = -1.25 });

        var back = cache.Get<TodayIncludedPoint>("p");
        Assert.That((back.X, back.Y), Is.EqualTo((3, -1.25)));
    }

    [Test]
    public void Json_a_class_with_an_unmarked_readonly_public_field_is_refused_naming_it()
    {
        // serializers.md: "new JsonSerializer() refuses by type an object with a public field System.Text.Json would
        // skip ...: the message names the field."
        using var cache = JsonCache();

        var refused = Assert.Throws<CacheSerializationException>(() => cache.Set("r", new TodayReadonlyField(5, true) { Name = "n" }))!;

        Assert.That(refused.IsUnsupportedType, Is.True);
        Assert.That(refused.ToString(), Does.Contain("'Id'"));
    }

    [Test]
    public void Json_a_JsonInclude_readonly_field_no_constructor_fills_keeps_its_default_as_documented()
    {
        // serializers.md: "a property with a private set (or none), or a [JsonInclude] readonly field, that no constructor
        // parameter fills keeps its default". (The outsider expected a refusal or a round trip; the loss is documented,
        // as for such properties.)
        using var cache = JsonCache();

        cache.Set("r", new TodayIncludedReadonlyField(5, true) { Name = "n" });

        var back = cache.Get<TodayIncludedReadonlyField>("r")!;
        Assert.That((back.Id, back.Name), Is.EqualTo((0, "n")), "stored as " + Raw(cache, "r"));
        Assert.That(Raw(cache, "r"), Does.Contain("\"Id\":5"), "written, not read back");
    }

    [Test]
    public void Json_an_inherited_public_field_and_a_record_s_extra_field_are_refused_naming_them()
    {
        // serializers.md: "refuses by type an object with a public field System.Text.Json would skip ...: the message
        // names the field".
        using var cache = JsonCache();

        var inherited = Assert.Throws<CacheSerializationException>(() => cache.Set("d", new TodayDerived { Inherited = 4, Name = "n" }))!;
        var record = Assert.Throws<CacheSerializationException>(() => cache.Set("r", new TodayRecordWithField(1) { Extra = 2 }))!;

        Assert.That(inherited.ToString(), Does.Contain("'Inherited'"));
        Assert.That(record.ToString(), Does.Contain("'Extra'"));
        Assert.That(inherited.IsUnsupportedType && record.IsUnsupportedType, Is.True);
    }

    // ================================================================= 3. A body may not ask for its own key

    private CachedMethod<int> Single(string name, double failSafe = 0)
        => new(new CachedMethodOptions { Method = name, CacheFactory = () => _cache, Ttl = 60, FailSafe = failSafe });

    [Test]
    public async Task Reentry_an_awaiting_callers_continuation_run_inline_by_the_body_is_not_refused()
    {
        // decorators.md: "a body (or what it calls) that calls its own cached method for the key it is computing would
        // wait for itself; that call throws". Another caller's async continuation, which the body's SetResult happens to
        // run inline, would not wait for itself (it awaits): it must get the value, not be refused.
        var method = Single("Outsider.Today.Tcs");
        var signal = new TaskCompletionSource<int>(); // continuations run inline, as TaskCompletionSource's default
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var other = Task.Run(async () =>
        {
            var pending = signal.Task;
            waiting.SetResult();
            await pending;
            return await method.InvokeAsync("k", 0, static (_, _) => new ValueTask<int>(-1), skipWhen: null, CancellationToken.None);
        });
        await Bounded(waiting.Task.ContinueWith(static _ => 0), "other caller waiting");

        var leader = await Outcome(() => Task.FromResult(method.Invoke("k", signal, static s =>
        {
            s.SetResult(1);
            return 42;
        }, skipWhen: null)));

        Assert.That(leader, Is.Null, "the leader completes");
        var otherOutcome = await Outcome(() => other);
        Assert.That(otherOutcome, Is.Null, "the other caller was refused: " + otherOutcome);
        Assert.That(await other, Is.EqualTo(42));
    }

    [Test]
    public async Task Reentry_a_second_caller_on_another_thread_joins_the_flight_and_is_not_refused([Values] bool async, [Values(0, 60)] double failSafe)
    {
        // decorators.md: "Concurrent misses on one key in one process make one body call and every caller gets its result
        // (single-flight)"; the refusal is for a call "made on the thread running the body".
        var method = Single("Outsider.Today.Concurrent", failSafe);
        var gate = new SemaphoreSlim(0);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        int Body()
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            gate.Wait();
            return 9;
        }

        Task<int> Call() => async
            ? method.InvokeAsync("k", 0, (_, _) => new ValueTask<int>(Body()), skipWhen: null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke("k", 0, _ => Body(), skipWhen: null));

        var first = Task.Run(Call);
        await Bounded(entered.Task.ContinueWith(static _ => 0), "first body entered");
        var second = Task.Run(Call);
        await Task.Delay(300);
        gate.Release(5);

        Assert.That(await Bounded(first, "first"), Is.EqualTo(9));
        Assert.That(await Outcome(() => second), Is.Null, "the second caller must not be refused");
        Assert.That(await second, Is.EqualTo(9));
        Assert.That(calls, Is.EqualTo(1));
    }

    [Test]
    public async Task Reentry_mutual_recursion_through_another_method_on_the_same_key_is_refused([Values] bool async)
    {
        // decorators.md: "a body (or what it calls) that calls its own cached method for the key it is computing would
        // wait for itself; that call throws InvalidOperationException naming the method and the key".
        var a = Single("Outsider.Today.A");
        var b = Single("Outsider.Today.B");
        int CallA(string key, Func<int> body) => async
            ? a.InvokeAsync(key, body, static (f, _) => new ValueTask<int>(f()), null, CancellationToken.None).AsTask().GetAwaiter().GetResult()
            : a.Invoke(key, body, static f => f(), null);
        int CallB(string key, Func<int> body) => async
            ? b.InvokeAsync(key, body, static (f, _) => new ValueTask<int>(f()), null, CancellationToken.None).AsTask().GetAwaiter().GetResult()
            : b.Invoke(key, body, static f => f(), null);

        var depth = 0;
        int BodyA() => ++depth > 1 ? 1 : CallB("k", () => CallA("k", BodyA)) + 1;

        var failure = await Outcome(() => Task.FromResult(CallA("k", BodyA)));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(failure!.Message, Does.Contain("Outsider.Today.A").And.Contain("'k'"));
    }

    [Test]
    public async Task Reentry_GetOrSet_asking_for_its_own_key_is_refused([Values] bool async)
    {
        // decorators.md: "that call throws InvalidOperationException naming the method and the key" (commit: "Plain,
        // resilient and GetOrSet paths").
        var cache = _cache;
        var failure = await Outcome(async () => async
            ? await cache.GetOrSetAsync("own", async _ => await cache.GetOrSetAsync("own", _ => new ValueTask<int>(1)) + 1)
            : cache.GetOrSet("own", _ => cache.GetOrSet("own", _ => 1) + 1));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
        Assert.That(cache.Exists("own"), Is.False);
    }

    [Test]
    public async Task Reentry_GetOrSet_for_the_same_key_text_in_another_namespace_is_not_refused([Values] bool async)
    {
        // decorators.md: "Recursion over other keys (Fib(n) calling Fib(n - 1)) is as usual." "k" in namespace "b" is
        // another entry than "k" in namespace "a".
        var cache = _cache;
        var failure = await Outcome(async () => async
            ? await cache.GetOrSetAsync("k", async _ => await cache.GetOrSetAsync("k", _ => new ValueTask<int>(1), @namespace: "b") + 1, @namespace: "a")
            : cache.GetOrSet("k", _ => cache.GetOrSet("k", _ => 1, @namespace: "b") + 1, @namespace: "a"));

        Assert.That(failure, Is.Null, "refused: " + failure?.Message);
        Assert.That((cache.Get<int>("k", @namespace: "a"), cache.Get<int>("k", @namespace: "b")), Is.EqualTo((2, 1)));
    }

    [Test]
    public async Task Reentry_a_body_that_catches_the_refusal_answers_and_its_value_is_stored([Values] bool async, [Values(0, 60)] double failSafe)
    {
        // decorators.md: "that call throws InvalidOperationException ..., and so does the outer call, unless the body catches it."
        var method = Single("Outsider.Today.Catches", failSafe);
        var depth = 0;
        int Body()
        {
            if (++depth > 1)
            {
                return 100;
            }

            try
            {
                return async
                    ? method.InvokeAsync("k", (Func<int>)Body, static (f, _) => new ValueTask<int>(f()), null, CancellationToken.None).AsTask().GetAwaiter().GetResult()
                    : method.Invoke("k", (Func<int>)Body, static f => f(), null);
            }
            catch (InvalidOperationException)
            {
                return 5;
            }
        }

        var outer = await Outcome(() => Task.FromResult(async
            ? method.InvokeAsync("k", (Func<int>)Body, static (f, _) => new ValueTask<int>(f()), null, CancellationToken.None).AsTask().GetAwaiter().GetResult()
            : method.Invoke("k", (Func<int>)Body, static f => f(), null)));

        Assert.That(outer, Is.Null);
        Assert.That(method.Invoke("k", 0, static _ => -1, null), Is.EqualTo(5), "the body's answer was stored");
    }

    [Test]
    public async Task Reentry_an_async_body_with_a_cancellable_token_asking_for_its_own_key_before_any_await_is_refused()
    {
        // decorators.md: "The check sees a call made on the thread running the body: a sync body, or an async one before
        // its first await that does not complete at once".
        var method = Single("Outsider.Today.Token");
        using var cts = new CancellationTokenSource();
        ValueTask<int> Body(CancellationToken token)
            => method.InvokeAsync("k", 0, (_, t) => Body(t), null, cts.Token);

        var failure = await Outcome(async () => await method.InvokeAsync("k", 0, (_, t) => Body(t), null, cts.Token));

        Assert.That(failure, Is.InstanceOf<InvalidOperationException>());
    }

    // ================================================================= 4. Two levels

    [Test]
    public async Task MultiLevel_clear_of_one_namespace_drops_L1_copies_a_read_made_in_another_namespace_on_every_node([Values] bool async)
    {
        // multilevel.md, Clear: "L1 is emptied whole, on every node".
        using var l2 = new SimpleMemoryCache();
        var backplane = new MemoryBackplane();
        using var l1a = new SimpleMemoryCache();
        using var l1b = new SimpleMemoryCache();
        var a = new MultiLevelCache(l1a, l2, backplane);
        var b = new MultiLevelCache(l1b, l2, backplane);
        a.Set("k", "v", @namespace: "keep");
        b.Set("mine", "m", @namespace: "other");
        Assert.That(b.Get<string>("k", @namespace: "keep"), Is.EqualTo("v"));
        Assert.That(a.Get<string>("k", @namespace: "keep"), Is.EqualTo("v"));
        Assert.That(l1b.Exists("k", "keep") || l1a.Exists("k", "keep"), "some node copied the read into L1");

        _ = async ? await a.ClearAsync("gone") : a.Clear("gone");
        await Task.Delay(100);

        Assert.That((l1a.Exists("k", "keep"), l1b.Exists("k", "keep"), l1b.Exists("mine", "other")), Is.EqualTo((false, false, false)));
        Assert.That(b.Get<string>("k", @namespace: "keep"), Is.EqualTo("v"), "L2 keeps what the clear did not cover");
    }

    [Test]
    public async Task MultiLevel_MultiSet_with_a_null_or_empty_pair_key_throws_ArgumentException_pairs_and_writes_nothing([Values] bool async, [Values] bool nullKey)
    {
        // multilevel.md / commit 8733e68: "MultiSet refuses a bad pair key as 'pairs'", "nothing is written" (Guard.PairKeys).
        using var l2 = new SimpleMemoryCache();
        using var l1 = new SimpleMemoryCache();
        using var cache = new MultiLevelCache(l1, l2, new MemoryBackplane());
        var pairs = new[] { KeyValuePair.Create("ok", 1), KeyValuePair.Create(nullKey ? null! : "", 2), KeyValuePair.Create("ok2", 3) };

        var thrown = async
            ? Assert.ThrowsAsync<ArgumentException>(async () => await cache.MultiSetAsync(pairs))
            : Assert.Throws<ArgumentException>(() => cache.MultiSet(pairs));

        Assert.That(thrown!.ParamName, Is.EqualTo("pairs"));
        Assert.That(thrown.Message, Does.Contain("index 1"));
        Assert.That(cache.Exists("ok") || cache.Exists("ok2") || l2.Exists("ok") || l1.Exists("ok"), Is.False);
    }
}
