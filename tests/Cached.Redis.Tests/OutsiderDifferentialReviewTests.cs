using System.Collections;
using System.Globalization;
using System.Text;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's differential review of the cache commands: the same operation sequences (hand-picked edge cases and
/// fixed-seed random sequences) run against <see cref="SimpleMemoryCache"/>, <see cref="RedisCache"/> on the shared
/// loopback redis-server, and <see cref="MultiLevelCache"/> (memory L1 over Redis L2 with a <see cref="RedisBackplane"/>),
/// each through the sync commands and through their async twins. Every outcome (return value, or exception type and
/// parameter name) is compared with the one of the memory backend's sync run; six traces per scenario.
///
/// README: "All caches share the same minimum interface" and docs/caches.md: "Every command has an async twin
/// (`SetAsync`, ...)". Where a difference is documented, the test asserts the documented outcome per backend instead.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderDifferentialReviewTests
{
    public enum Kind { Memory, Redis, Multi }

    private enum Mode { Sync, Async }

    private static int s_run;
    private ConnectionMultiplexer _admin = null!;
    private string _prefix = null!;

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=odr-admin");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void UniquePrefix() => _prefix = "odr" + Interlocked.Increment(ref s_run).ToString(CultureInfo.InvariantCulture) + "-";

    private void FlushRedis() => _admin.GetServer(_admin.GetEndPoints()[0]).FlushAllDatabases();

    // ---------------------------------------------------------------------------------------------------------------
    // Harness
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>Maps the logical namespaces of a scenario onto this test's unique prefix ("" and null stay as they are).</summary>
    private sealed class Ctx(string prefix)
    {
        public string? N(string? logical) => string.IsNullOrEmpty(logical) ? logical : prefix + logical;

        /// <summary>A key with "{p}" in it gets this test's prefix there (for plain keys that name a namespace).</summary>
        public string K(string key) => key?.Replace("{p}", prefix, StringComparison.Ordinal)!;
    }

    private sealed record Op(
        string Label,
        Func<ICache, Ctx, object?> Sync,
        Func<ICache, Ctx, ValueTask<object?>> Async,
        string? Expected = null,
        IReadOnlyDictionary<Kind, string>? ExpectedBy = null);

    private sealed record Options(string? Namespace = "main", TimeSpan? Ttl = null);

    private ICache NewCache(Kind kind, Ctx ctx, Options options)
    {
        var ns = ctx.N(options.Namespace);
        switch (kind)
        {
            case Kind.Memory:
                return new SimpleMemoryCache { Namespace = ns, Ttl = options.Ttl };
            case Kind.Redis:
                return new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=odr-redis", Namespace = ns, Ttl = options.Ttl };
            default:
                return new MultiLevelCache(
                    new SimpleMemoryCache(),
                    new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=odr-l2", Namespace = ns, Ttl = options.Ttl },
                    new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=odr-backplane"));
        }
    }

    private static async ValueTask<object?> Box<T>(ValueTask<T> task) => await task.ConfigureAwait(false);

    private static async ValueTask<object?> Delay(int ms)
    {
        await Task.Delay(ms).ConfigureAwait(false);
        return "slept";
    }

    private static string Show(object? value)
    {
        switch (value)
        {
            case null:
                return "null";
            case string s:
                return "\"" + (s.Length > 40 ? s[..20] + "…(" + s.Length.ToString(CultureInfo.InvariantCulture) + ")" : s.Replace("\r", "\\r").Replace("\n", "\\n")) + "\"";
            case bool b:
                return b ? "true" : "false";
            case IFormattable f when value.GetType().IsPrimitive:
                return f.ToString(null, CultureInfo.InvariantCulture);
        }

        var type = value.GetType();
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(CacheResult<>))
        {
            var found = (bool)type.GetProperty("Found")!.GetValue(value)!;
            return found ? "hit(" + Show(type.GetProperty("Value")!.GetValue(value)) + ")" : "miss";
        }

        if (value is IEnumerable items)
        {
            var parts = new List<string>();
            foreach (var item in items)
            {
                parts.Add(Show(item));
            }

            return "[" + string.Join(", ", parts) + "]";
        }

        return value.ToString() ?? "?";
    }

    private static string ShowException(Exception ex, bool thrownSynchronously)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            ex = aggregate.InnerExceptions[0];
        }

        var text = "!" + ex.GetType().Name;
        if (ex is ArgumentException { ParamName: { } param })
        {
            text += "(" + param + ")";
        }

        return thrownSynchronously ? "!thrown-before-the-task:" + text[1..] : text;
    }

    private static string RunSync(Op op, ICache cache, Ctx ctx)
    {
        try
        {
            return Show(op.Sync(cache, ctx));
        }
        catch (Exception ex)
        {
            return ShowException(ex, false);
        }
    }

    private static async Task<string> RunAsync(Op op, ICache cache, Ctx ctx)
    {
        ValueTask<object?> task;
        try
        {
            task = op.Async(cache, ctx);
        }
        catch (Exception ex)
        {
            return ShowException(ex, true);
        }

        try
        {
            return Show(await task.ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            return ShowException(ex, false);
        }
    }

    private async Task<List<string>> Trace(Kind kind, Mode mode, IReadOnlyList<Op> ops, Options options)
    {
        if (kind != Kind.Memory)
        {
            FlushRedis();
        }

        var ctx = new Ctx(_prefix);
        var cache = NewCache(kind, ctx, options);
        try
        {
            var trace = new List<string>(ops.Count);
            foreach (var op in ops)
            {
                trace.Add(mode == Mode.Sync ? RunSync(op, cache, ctx) : await RunAsync(op, cache, ctx).ConfigureAwait(false));
            }

            return trace;
        }
        finally
        {
            await cache.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="ops"/> on the three backends, sync and async, and fails with every divergence from the
    /// memory backend's sync trace, and with every outcome that differs from an op's documented expectation.
    /// </summary>
    private async Task<List<string>> Differential(IReadOnlyList<Op> ops, Options? options = null, IReadOnlyList<Kind>? kinds = null)
    {
        options ??= new Options();
        kinds ??= [Kind.Memory, Kind.Redis, Kind.Multi];
        var traces = new Dictionary<(Kind, Mode), List<string>>();
        foreach (var kind in kinds)
        {
            foreach (var mode in new[] { Mode.Sync, Mode.Async })
            {
                traces[(kind, mode)] = await Trace(kind, mode, ops, options);
            }
        }

        var problems = new StringBuilder();
        var reference = traces[(kinds[0], Mode.Sync)];
        for (var i = 0; i < ops.Count; i++)
        {
            foreach (var ((kind, mode), trace) in traces)
            {
                var expected = ops[i].ExpectedBy is { } by && by.TryGetValue(kind, out var own) ? own : ops[i].Expected;
                if (expected is not null)
                {
                    if (trace[i] != expected)
                    {
                        problems.AppendLine($"#{i} {ops[i].Label}: {kind}/{mode} gave {trace[i]}, documented {expected}");
                    }
                }
                else if (ops[i].ExpectedBy is null && trace[i] != reference[i])
                {
                    problems.AppendLine($"#{i} {ops[i].Label}: {kind}/{mode} gave {trace[i]}, {kinds[0]}/Sync gave {reference[i]}");
                }
            }
        }

        if (problems.Length > 0)
        {
            var all = new StringBuilder();
            foreach (var ((kind, mode), trace) in traces)
            {
                all.AppendLine($"{kind}/{mode}: " + string.Join(" | ", trace.Select((t, i) => i.ToString(CultureInfo.InvariantCulture) + "=" + t)));
            }

            Assert.Fail("Backends diverge:\n" + problems + "\nTraces:\n" + all);
        }

        return reference;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Op builders (namespace arguments are logical: mapped through Ctx.N; null means the cache's own namespace)
    // ---------------------------------------------------------------------------------------------------------------

    private static string L(string? text) => text is null ? "null" : text.Length > 30 ? text[..12] + "…" : text.Replace("\r", "\\r").Replace("\n", "\\n");

    private static Op Set<T>(string key, T value, TimeSpan? ttl = null, string? ns = null, string? expect = null)
        => new($"Set({L(key)},{Show(value)},{ttl},{ns})",
            (c, x) => c.Set(x.K(key), value, ttl, x.N(ns)),
            (c, x) => Box(c.SetAsync(x.K(key), value, ttl, x.N(ns))),
            expect);

    private static Op Add<T>(string key, T value, TimeSpan? ttl = null, string? ns = null, string? expect = null)
        => new($"Add({L(key)},{Show(value)},{ttl},{ns})",
            (c, x) => c.Add(x.K(key), value, ttl, x.N(ns)),
            (c, x) => Box(c.AddAsync(x.K(key), value, ttl, x.N(ns))),
            expect);

    private static Op Get<T>(string key, T? dflt = default, string? ns = null, string? expect = null)
        => new($"Get<{typeof(T).Name}>({L(key)},{Show(dflt)},{ns})",
            (c, x) => c.Get(x.K(key), dflt, x.N(ns)),
            (c, x) => Box(c.GetAsync(x.K(key), dflt, x.N(ns))),
            expect);

    private static Op TryGet<T>(string key, string? ns = null, string? expect = null)
        => new($"TryGet<{typeof(T).Name}>({L(key)},{ns})",
            (c, x) => c.TryGet<T>(x.K(key), out var v, x.N(ns)) ? CacheResult<T>.Hit(v) : CacheResult<T>.Miss,
            (c, x) => Box(c.TryGetAsync<T>(x.K(key), x.N(ns))),
            expect);

    private static Op MultiGet<T>(string?[] keys, string? ns = null, string? expect = null)
        => new($"MultiGet<{typeof(T).Name}>([{string.Join(",", keys.Select(k => k is null ? "null" : L(k)))}],{ns})",
            (c, x) => c.MultiGet<T>(keys!, x.N(ns)),
            (c, x) => Box(c.MultiGetAsync<T>(keys!, x.N(ns))),
            expect);

    private static Op MultiTryGet<T>(string?[] keys, string? ns = null, string? expect = null)
        => new($"MultiTryGet<{typeof(T).Name}>([{string.Join(",", keys.Select(k => k is null ? "null" : L(k)))}],{ns})",
            (c, x) => c.MultiTryGet<T>(keys!, x.N(ns)),
            (c, x) => Box(c.MultiTryGetAsync<T>(keys!, x.N(ns))),
            expect);

    private static Op MultiSet<T>((string? Key, T Value)[] pairs, TimeSpan? ttl = null, string? ns = null, string? expect = null)
    {
        var list = pairs.Select(p => new KeyValuePair<string, T>(p.Key!, p.Value)).ToArray();
        return new($"MultiSet([{string.Join(",", pairs.Select(p => (p.Key is null ? "null" : L(p.Key)) + "=" + Show(p.Value)))}],{ttl},{ns})",
            (c, x) => c.MultiSet(list, ttl, x.N(ns)),
            (c, x) => Box(c.MultiSetAsync(list, ttl, x.N(ns))),
            expect);
    }

    private static Op Exists(string key, string? ns = null, string? expect = null)
        => new($"Exists({L(key)},{ns})",
            (c, x) => c.Exists(x.K(key), x.N(ns)),
            (c, x) => Box(c.ExistsAsync(x.K(key), x.N(ns))),
            expect);

    private static Op Increment(string key, long delta = 1, string? ns = null, string? expect = null)
        => new($"Increment({L(key)},{delta},{ns})",
            (c, x) => c.Increment(x.K(key), delta, x.N(ns)),
            (c, x) => Box(c.IncrementAsync(x.K(key), delta, x.N(ns))),
            expect);

    private static Op Delete(string key, string? ns = null, string? expect = null)
        => new($"Delete({L(key)},{ns})",
            (c, x) => c.Delete(x.K(key), x.N(ns)),
            (c, x) => Box(c.DeleteAsync(x.K(key), x.N(ns))),
            expect);

    /// <summary><paramref name="ns"/> "(none)" means Clear() with no argument.</summary>
    private static Op Clear(string? ns = "(none)", string? expect = null)
        => new($"Clear({ns})",
            (c, x) => ns == "(none)" ? c.Clear() : c.Clear(x.N(ns)),
            (c, x) => Box(ns == "(none)" ? c.ClearAsync() : c.ClearAsync(x.N(ns))),
            expect);

    private static Op Expire(string key, TimeSpan? ttl, string? ns = null, string? expect = null)
        => new($"Expire({L(key)},{ttl},{ns})",
            (c, x) => c.Expire(x.K(key), ttl, x.N(ns)),
            (c, x) => Box(c.ExpireAsync(x.K(key), ttl, x.N(ns))),
            expect);

    private static Op Sleep(int ms)
        => new($"Sleep({ms})", (_, _) => { Thread.Sleep(ms); return "slept"; }, (_, _) => Delay(ms), "\"slept\"");

    private static readonly TimeSpan Minutes10 = TimeSpan.FromMinutes(10);

    // ---------------------------------------------------------------------------------------------------------------
    // Add
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "`Add(key, value, ttl?)` | `true` | `KeyExistsException` when the key holds a value; the stored
    // value is left alone." docs/reliability.md: a `null` value is "cacheable".
    [Test]
    public Task Add_on_an_existing_key_or_a_stored_null_throws_KeyExistsException_everywhere() => Differential(
    [
        Add("a", "1", expect: "true"),
        Add("a", "2", expect: "!KeyExistsException"),
        Get<string>("a", expect: "\"1\""),
        Set<string?>("n", null, expect: "true"),
        Add("n", "x", expect: "!KeyExistsException"),
        TryGet<string>("n", expect: "hit(null)"),
        Add("e", "", expect: "true"),
        Add("e", "y", expect: "!KeyExistsException"),
        Get<string>("e", "dflt", expect: "\"\""),
        Add("a", "3", ns: "other", expect: "true"),
        Get<string>("a", ns: "other", expect: "\"3\""),
        Get<string>("a", expect: "\"1\""),
    ]);

    // docs/caches.md: "Expired entries are invisible at once" (memory); Redis expires the key itself. An Add after the
    // expiry therefore finds no key.
    [Test]
    public Task Add_over_an_expired_entry_succeeds_everywhere() => Differential(
    [
        Set("a", "old", TimeSpan.FromMilliseconds(50), expect: "true"),
        Sleep(250),
        Add("a", "new", expect: "true"),
        Get<string>("a", expect: "\"new\""),
    ]);

    // ---------------------------------------------------------------------------------------------------------------
    // null values and empty strings
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "A stored `null` is returned as `null`, not replaced by `default`." / "`Exists(key)` ... True
    // for a stored `null`." / "Deleting a stored `null` counts 1." / "`MultiTryGet` ... `Found` tells a miss from a
    // stored `null`, key by key."
    [Test]
    public Task Null_values_and_empty_strings_behave_alike_everywhere() => Differential(
    [
        Set<string?>("n", null, expect: "true"),
        Set("e", "", expect: "true"),
        Get<string>("n", "dflt", expect: "null"),
        Get<string>("e", "dflt", expect: "\"\""),
        Get<string>("missing", "dflt", expect: "\"dflt\""),
        TryGet<string>("n", expect: "hit(null)"),
        TryGet<string>("e", expect: "hit(\"\")"),
        TryGet<string>("missing", expect: "miss"),
        Exists("n", expect: "true"),
        Exists("e", expect: "true"),
        MultiGet<string>(["n", "e", "missing"], expect: "[null, \"\", null]"),
        MultiTryGet<string>(["n", "e", "missing"], expect: "[hit(null), hit(\"\"), miss]"),
        Delete("n", expect: "1"),
        Delete("n", expect: "0"),
        Delete("e", expect: "1"),
        MultiSet<string?>([("n1", null), ("n2", ""), ("n3", "v")], expect: "true"),
        MultiTryGet<string>(["n1", "n2", "n3"], expect: "[hit(null), hit(\"\"), hit(\"v\")]"),
        Get<long?>("n1", 7, expect: "null"),
    ]);

    // ---------------------------------------------------------------------------------------------------------------
    // MultiGet / MultiSet
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "`MultiGet<T>(keys)` | a list in input order | Duplicates kept; `default` for each miss."
    // docs/reliability.md: "`MultiGet` with duplicates | one result per requested key, in order, duplicates included".
    [Test]
    public Task MultiGet_with_repeated_keys_answers_one_result_per_requested_key_everywhere() => Differential(
    [
        Set("a", "A"),
        Set("b", "B"),
        MultiGet<string>(["a", "a", "x", "b", "a", "x"], expect: "[\"A\", \"A\", null, \"B\", \"A\", null]"),
        MultiTryGet<string>(["x", "a", "x", "a"], expect: "[miss, hit(\"A\"), miss, hit(\"A\")]"),
        MultiGet<string>([], expect: "[]"),
        MultiTryGet<string>([], expect: "[]"),
        MultiGet<string>(["a", "a"], expect: "[\"A\", \"A\"]"),
        MultiGet<string>(["a", "b"], ns: "other", expect: "[null, null]"),
    ]);

    // docs/caches.md: "`MultiSet(pairs, ttl?)` | `true` | Every pair is checked and serialized before anything is
    // written." The docs say nothing about which of two pairs with one key wins, so all backends (and both twins)
    // must at least agree; the natural reading, one Set after another, is the last pair.
    [Test]
    public Task MultiSet_with_duplicate_keys_keeps_the_same_value_everywhere() => Differential(
    [
        MultiSet([("k", "first"), ("j", "J"), ("k", "second")], expect: "true"),
        Get<string>("k"),
        MultiGet<string>(["k", "j"]),
        MultiSet([("t", "first"), ("t", "second")], Minutes10, expect: "true"),
        Get<string>("t"),
        MultiSet([("u", "x"), ("u", "y"), ("u", "z")], ns: "other", expect: "true"),
        Get<string>("u", ns: "other"),
    ]);

    // Multi-level only: which value L1 serves after a MultiSet with duplicate keys must be the one L2 holds.
    // docs/multilevel.md: "An L1 copy never outlives the entry in L2" and "`Set`, `MultiSet` | L2, then L1".
    [Test]
    public async Task MultiSet_with_duplicate_keys_on_two_levels_puts_the_value_L2_holds_into_L1()
    {
        FlushRedis();
        var ns = _prefix + "dup";
        await using var redis = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=odr-dup", Namespace = ns };
        await using var multi = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=odr-dup-l2", Namespace = ns },
            new RedisBackplane(SharedRedis.Server.ConnectionString + ",name=odr-dup-bp"));

        multi.MultiSet([new KeyValuePair<string, string>("k", "first"), new("k", "second")]);
        await multi.MultiSetAsync([new KeyValuePair<string, string>("a", "first"), new("a", "second")]);

        Assert.Multiple(() =>
        {
            Assert.That(multi.Get<string>("k"), Is.EqualTo(redis.Get<string>("k")), "sync MultiSet: L1's copy vs L2's entry");
            Assert.That(multi.Get<string>("a"), Is.EqualTo(redis.Get<string>("a")), "async MultiSet: L1's copy vs L2's entry");
        });
    }

    // docs/caches.md: "a bad key inside `MultiGet`'s `keys` or `MultiSet`'s `pairs` names its index, and nothing is
    // written." docs/reliability.md: "empty key | ... in `MultiSet`/`MultiGet` (`"pairs"`/`"keys"`) the whole batch is
    // refused and nothing is written".
    [Test]
    public Task Bad_keys_inside_batches_are_refused_alike_and_nothing_is_written() => Differential(
    [
        MultiSet<string>([("ok", "1"), ("", "2")], expect: "!ArgumentException(pairs)"),
        Exists("ok", expect: "false"),
        MultiSet<string>([("ok", "1"), (null, "2")], expect: "!ArgumentException(pairs)"),
        Exists("ok", expect: "false"),
        MultiSet<string>([("ok", "1"), ("", "2")], Minutes10, ns: "other", expect: "!ArgumentException(pairs)"),
        Exists("ok", ns: "other", expect: "false"),
        MultiGet<string>(["ok", ""], expect: "!ArgumentException(keys)"),
        MultiGet<string>(["ok", null], expect: "!ArgumentException(keys)"),
        MultiTryGet<string>([null, "ok"], expect: "!ArgumentException(keys)"),
    ]);

    // docs/reliability.md: "`null` key | `ArgumentNullException` with `ParamName = "key"`, on every command";
    // "empty key | `ArgumentException` (`"key"`)". docs/caches.md: "A bad argument (a null or empty key, a negative
    // TTL) fails the returned task with its `ArgumentException` whatever the token, as an `async` method's would".
    [Test]
    public Task Null_and_empty_keys_are_refused_alike_by_every_command() => Differential(
    [
        Set<string>(null!, "v", expect: "!ArgumentNullException(key)"),
        Set("", "v", expect: "!ArgumentException(key)"),
        Add<string>(null!, "v", expect: "!ArgumentNullException(key)"),
        Add("", "v", expect: "!ArgumentException(key)"),
        Get<string>(null!, expect: "!ArgumentNullException(key)"),
        Get<string>("", expect: "!ArgumentException(key)"),
        TryGet<string>(null!, expect: "!ArgumentNullException(key)"),
        TryGet<string>("", expect: "!ArgumentException(key)"),
        Exists(null!, expect: "!ArgumentNullException(key)"),
        Exists("", expect: "!ArgumentException(key)"),
        Increment(null!, expect: "!ArgumentNullException(key)"),
        Increment("", expect: "!ArgumentException(key)"),
        Delete(null!, expect: "!ArgumentNullException(key)"),
        Delete("", expect: "!ArgumentException(key)"),
        Expire(null!, Minutes10, expect: "!ArgumentNullException(key)"),
        Expire("", Minutes10, expect: "!ArgumentException(key)"),
    ]);

    // ---------------------------------------------------------------------------------------------------------------
    // Increment
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "`Increment(key, delta = 1)` | the new value | A missing key starts at 0.
    // `CacheValueNotIntegerException` for a value that is not an integer ...; `OverflowException` past `long`'s range
    // ..., value unchanged." docs/reliability.md: "`Increment` past `long.MaxValue` / below `long.MinValue` |
    // `OverflowException`, the stored value unchanged".
    [Test]
    public Task Increment_on_absent_huge_and_negative_values_agrees_everywhere() => Differential(
    [
        Increment("c", expect: "1"),
        Increment("c", 41, expect: "42"),
        Get<long>("c", expect: "42"),
        Increment("neg", -5, expect: "-5"),
        Increment("zero", 0, expect: "0"),
        Exists("zero"),
        Set("max", long.MaxValue, expect: "true"),
        Increment("max", expect: "!OverflowException"),
        Get<long>("max", expect: long.MaxValue.ToString(CultureInfo.InvariantCulture)),
        Increment("max", -1, expect: (long.MaxValue - 1).ToString(CultureInfo.InvariantCulture)),
        Increment("min", long.MinValue, expect: long.MinValue.ToString(CultureInfo.InvariantCulture)),
        Increment("min", -1, expect: "!OverflowException"),
        Get<long>("min", expect: long.MinValue.ToString(CultureInfo.InvariantCulture)),
        Increment("c", long.MaxValue, expect: "!OverflowException"),
        Get<long>("c", expect: "42"),
        Increment("c", 0, expect: "42"),
        Increment("c", 1, ns: "other", expect: "1"),
        Get<long>("c", expect: "42"),
    ]);

    // docs/caches.md: "`CacheValueNotIntegerException` for a value that is not an integer (a fraction is refused, not
    // truncated ...)"; docs/reliability.md: "`Increment` on a non-integer (text, ...) | `CacheValueNotIntegerException`,
    // the stored value unchanged".
    [Test]
    public Task Increment_on_non_integer_values_is_refused_everywhere_and_leaves_the_value() => Differential(
    [
        Set("text", "abc"),
        Increment("text", expect: "!CacheValueNotIntegerException"),
        Get<string>("text", expect: "\"abc\""),
        Set("frac", 1.5),
        Increment("frac", expect: "!CacheValueNotIntegerException"),
        Get<double>("frac", expect: "1.5"),
        Set("empty", ""),
        Increment("empty", expect: "!CacheValueNotIntegerException"),
        Get<string>("empty", expect: "\"\""),
        Set("bool", true),
        Increment("bool", expect: "!CacheValueNotIntegerException"),
        Get<bool>("bool", expect: "true"),
    ]);

    // Increment on a stored null. docs/caches.md: "`CacheValueNotIntegerException` for a value that is not an
    // integer"; a stored `null` is a value ("`Exists(key)` ... True for a stored `null`"), not a missing key, so it
    // does not "start at 0".
    [Test]
    public Task Increment_on_a_stored_null_is_refused_everywhere() => Differential(
    [
        Set<string?>("n", null),
        Increment("n", expect: "!CacheValueNotIntegerException"),
        TryGet<string>("n", expect: "hit(null)"),
    ]);

    // docs/caches.md: Increment "Keeps the key's expiry."
    [Test]
    public Task Increment_keeps_the_expiry_everywhere() => Differential(
    [
        Set("c", 1L, TimeSpan.FromMilliseconds(300)),
        Increment("c", expect: "2"),
        Sleep(700),
        Exists("c", expect: "false"),
        Increment("c", expect: "1"),
    ]);

    // docs/caches.md: "The counter is stored as its decimal text (Redis `INCRBY`'s form) ...; in memory without a
    // serializer, an integer keeps its type and a string becomes a `long` ..., so `Get<long>` reads it there too."
    // A documented difference: a JSON string "5" on Redis is `"5"` with quotes, not Redis's integer form.
    [Test]
    public Task Increment_on_a_numeric_string_follows_each_backends_documented_storage() => Differential(
    [
        Set("s", "5"),
        new Op("Increment(s)", (c, _) => c.Increment("s"), (c, _) => Box(c.IncrementAsync("s")), ExpectedBy: new Dictionary<Kind, string>
        {
            [Kind.Memory] = "6",
            [Kind.Redis] = "!CacheValueNotIntegerException",
            [Kind.Multi] = "!CacheValueNotIntegerException",
        }),
    ]);

    // ---------------------------------------------------------------------------------------------------------------
    // Expire and TTLs
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "`Expire(key, ttl)` | `true` if the key exists | `null` or `TimeSpan.Zero` removes the expiry."
    // "`ttl`: ... `TimeSpan.Zero` or `Timeout.InfiniteTimeSpan` means no expiry ...; any other negative span throws
    // `ArgumentOutOfRangeException`." docs/migration.md 15: "`Expire(key, TimeSpan.Zero)` answers whether the key
    // exists on every backend."
    [Test]
    public Task Expire_on_absent_keys_zero_null_and_negative_agrees_everywhere() => Differential(
    [
        Expire("absent", Minutes10, expect: "false"),
        Expire("absent", TimeSpan.Zero, expect: "false"),
        Expire("absent", null, expect: "false"),
        Expire("absent", Timeout.InfiniteTimeSpan, expect: "false"),
        Expire("absent", TimeSpan.FromMilliseconds(-2), expect: "!ArgumentOutOfRangeException(ttl)"),
        Exists("absent", expect: "false"),
        Set("k", "v"),
        Expire("k", TimeSpan.FromMilliseconds(-5), expect: "!ArgumentOutOfRangeException(ttl)"),
        Expire("k", TimeSpan.Zero, expect: "true"),
        Expire("k", null, expect: "true"),
        Expire("k", Timeout.InfiniteTimeSpan, expect: "true"),
        Set("t", "v", TimeSpan.FromMilliseconds(300)),
        Expire("t", TimeSpan.Zero, expect: "true"),
        Set("u", "v", TimeSpan.FromMilliseconds(300)),
        Expire("u", null, expect: "true"),
        Set("w", "v"),
        Expire("w", TimeSpan.FromMilliseconds(200), expect: "true"),
        Set<string?>("n", null),
        Expire("n", TimeSpan.FromMilliseconds(200), expect: "true"),
        Sleep(700),
        Get<string>("k", expect: "\"v\""),
        Exists("t", expect: "true"),
        Exists("u", expect: "true"),
        Exists("w", expect: "false"),
        Exists("n", expect: "false"),
        Expire("w", Minutes10, expect: "false"),
    ]);

    // docs/caches.md: "`ttl`: `null` means the cache's `Ttl`; `TimeSpan.Zero` or `Timeout.InfiniteTimeSpan` means no
    // expiry (even over a cache `Ttl` ...)"; "Every backend rounds a TTL up to a whole millisecond ..., so `0.5 ms`
    // means 1 ms everywhere"; docs/reliability.md: "huge TTL (`TimeSpan.MaxValue`, a century) | kept".
    [Test]
    public Task Ttl_zero_null_tiny_huge_and_negative_over_a_cache_ttl_agree_everywhere() => Differential(
    [
        Set("default", "v", expect: "true"),
        Set("zero", "v", TimeSpan.Zero, expect: "true"),
        Set("infinite", "v", Timeout.InfiniteTimeSpan, expect: "true"),
        Set("tiny", "v", TimeSpan.FromTicks(5000), expect: "true"),
        Set("huge", "v", TimeSpan.MaxValue, expect: "true"),
        Set("century", "v", TimeSpan.FromDays(36500), expect: "true"),
        Set("negative", "v", TimeSpan.FromMilliseconds(-2), expect: "!ArgumentOutOfRangeException(ttl)"),
        Exists("negative", expect: "false"),
        Add("addzero", "v", TimeSpan.Zero, expect: "true"),
        Add("adddefault", "v", expect: "true"),
        Add("addtiny", "v", TimeSpan.FromTicks(1), expect: "true"),
        MultiSet([("m0", "v"), ("m1", "v")], TimeSpan.Zero, expect: "true"),
        MultiSet([("md0", "v"), ("md1", "v")], expect: "true"),
        MultiSet([("mt0", "v"), ("mt1", "v")], TimeSpan.FromTicks(3), expect: "true"),
        MultiSet([("mn0", "v")], TimeSpan.FromMilliseconds(-2), expect: "!ArgumentOutOfRangeException(ttl)"),
        Exists("mn0", expect: "false"),
        Sleep(900),
        MultiTryGet<string>(["default", "zero", "infinite", "tiny", "huge", "century"], expect: "[miss, hit(\"v\"), hit(\"v\"), miss, hit(\"v\"), hit(\"v\")]"),
        MultiTryGet<string>(["addzero", "adddefault", "addtiny"], expect: "[hit(\"v\"), miss, miss]"),
        MultiTryGet<string>(["m0", "m1", "md0", "md1", "mt0", "mt1"], expect: "[hit(\"v\"), hit(\"v\"), miss, miss, miss, miss]"),
    ], new Options(Ttl: TimeSpan.FromMilliseconds(300)));

    // docs/caches.md: "`Set(key, value, ttl?)` | `true` | Replaces the value and restarts its expiry; no ttl (and no
    // cache `Ttl`) means no expiry."
    [Test]
    public Task Set_replaces_the_expiry_everywhere() => Differential(
    [
        Set("a", "1", TimeSpan.FromMilliseconds(300)),
        Set("a", "2"),
        Set("b", "1"),
        Set("b", "2", TimeSpan.FromMilliseconds(300)),
        MultiSet([("c", "1")], TimeSpan.FromMilliseconds(300)),
        MultiSet([("c", "2")]),
        Sleep(700),
        Get<string>("a", expect: "\"2\""),
        Exists("b", expect: "false"),
        Get<string>("c", expect: "\"2\""),
    ]);

    // docs/multilevel.md: "`Delete`, `Expire` | L2, then L1 drops its copy (the next read takes the new life from
    // L2)" and "`Increment` | L2 (atomic across nodes), then L1 drops its copy". The same sequence, with reads that
    // make L1 copies in between, must answer as a single store does.
    [Test]
    public Task Expire_and_Increment_after_a_read_answer_as_one_store_everywhere() => Differential(
    [
        Set("short", "v", TimeSpan.FromMilliseconds(300)),
        Get<string>("short", expect: "\"v\""),
        Expire("short", Minutes10, expect: "true"),
        Set("long", "v"),
        Get<string>("long", expect: "\"v\""),
        Expire("long", TimeSpan.FromMilliseconds(200), expect: "true"),
        Set("tiny", "v"),
        Get<string>("tiny", expect: "\"v\""),
        Expire("tiny", TimeSpan.FromTicks(5000), expect: "true"),
        Set("c", 5L),
        Get<long>("c", expect: "5"),
        Increment("c", expect: "6"),
        Get<long>("c", expect: "6"),
        MultiGet<long>(["c", "c"], expect: "[6, 6]"),
        Increment("c", -10, expect: "-4"),
        MultiTryGet<long>(["c"], expect: "[hit(-4)]"),
        Sleep(700),
        Get<string>("short", expect: "\"v\""),
        Exists("long", expect: "false"),
        Get<string>("long", "gone", expect: "\"gone\""),
        TryGet<string>("tiny", expect: "miss"),
    ]);

    // ---------------------------------------------------------------------------------------------------------------
    // Namespaces and Clear
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "`namespace` on a command replaces the cache's `Namespace`; `""` means no namespace." /
    // "`Clear("user")` removes exactly namespace `user` (never `users` ...). `Clear()` removes the cache's own
    // namespace".
    [Test]
    public Task Clear_of_one_namespace_vs_the_cache_namespace_agree_everywhere() => Differential(
    [
        Set("k", "main"),
        Set("k", "user", ns: "user"),
        Set("k", "users", ns: "users"),
        Set("k", "none", ns: ""),
        MultiGet<string>(["k"], ns: "user", expect: "[\"user\"]"),
        Get<string>("k", ns: "", expect: "\"none\""),
        Clear("user", expect: "true"),
        Get<string>("k", ns: "user", expect: "null"),
        Get<string>("k", ns: "users", expect: "\"users\""),
        Get<string>("k", expect: "\"main\""),
        Get<string>("k", ns: "", expect: "\"none\""),
        Clear(expect: "true"),
        Get<string>("k", expect: "null"),
        Get<string>("k", ns: "users", expect: "\"users\""),
        Get<string>("k", ns: "", expect: "\"none\""),
        Clear("absent-namespace", expect: "true"),
        Get<string>("k", ns: "users", expect: "\"users\""),
    ]);

    // docs/caches.md: "`Clear()` removes the cache's own namespace; on a cache with no namespace it removes
    // everything in the store." and "`""` means no namespace", so Clear("") is a clear with no namespace.
    // docs/redis.md: "`Clear("")` still empties the database".
    [Test]
    public Task Clear_of_everything_on_a_cache_without_namespace_and_Clear_empty_agree_everywhere() => Differential(
    [
        Set("k", "none"),
        Set("k", "a", ns: "a"),
        Set("x:y", "colon"),
        Clear(expect: "true"),
        MultiTryGet<string>(["k", "x:y"], expect: "[miss, miss]"),
        Get<string>("k", ns: "a", expect: "null"),
        Set("k", "none"),
        Set("k", "a", ns: "a"),
        Clear("", expect: "true"),
        Get<string>("k", expect: "null"),
        Get<string>("k", ns: "a", expect: "null"),
    ], new Options(Namespace: null));

    // docs/caches.md: "Clear()" on a cache with a namespace clears only it, so Clear("") on such a cache (""
    // means no namespace) must be the whole store, as on a cache without one.
    [Test]
    public Task Clear_empty_on_a_namespaced_cache_empties_the_store_everywhere() => Differential(
    [
        Set("k", "main"),
        Set("k", "a", ns: "a"),
        Set("k", "none", ns: ""),
        Clear("", expect: "true"),
        Get<string>("k", expect: "null"),
        Get<string>("k", ns: "a", expect: "null"),
        Get<string>("k", ns: "", expect: "null"),
    ]);

    // docs/caches.md: "with `\` and `:` escaped inside the namespace, so no two namespaced (namespace, key) pairs
    // share a backend key"; docs/reliability.md: "`Clear(ns)` removes exactly the entries of `ns`, whatever
    // characters the namespace holds (`:`, `*`, `?`, `[`, `]`, `\`, spaces, newlines, other cases)".
    [Test]
    public Task Odd_namespaces_stay_exact_everywhere() => Differential(
    [
        Set("b:c", "1", ns: "a"),
        Set("c", "2", ns: "a:b"),
        Set("k", "star", ns: "*"),
        Set("k", "q", ns: "?"),
        Set("k", "br", ns: "[a]"),
        Set("k", "bs", ns: "a\\"),
        Set("k", "sp", ns: "s p"),
        Set("k", "nl", ns: "n\nl"),
        Set("k", "uni", ns: "ünï😀"),
        Set("k", "case", ns: "A"),
        Get<string>("b:c", ns: "a", expect: "\"1\""),
        Get<string>("c", ns: "a:b", expect: "\"2\""),
        Clear("a"),
        MultiTryGet<string>(["b:c"], ns: "a", expect: "[miss]"),
        Get<string>("c", ns: "a:b", expect: "\"2\""),
        Get<string>("k", ns: "a\\", expect: "\"bs\""),
        Get<string>("k", ns: "A", expect: "\"case\""),
        Clear("*"),
        Get<string>("k", ns: "*", expect: "null"),
        Get<string>("k", ns: "?", expect: "\"q\""),
        Get<string>("k", ns: "[a]", expect: "\"br\""),
        Clear("?"),
        Clear("[a]"),
        Clear("s p"),
        Clear("n\nl"),
        MultiTryGet<string>(["k"], ns: "ünï😀", expect: "[hit(\"uni\")]"),
        Clear("ünï😀"),
        MultiGet<string>(["k"], ns: "?", expect: "[null]"),
        MultiGet<string>(["k"], ns: "[a]", expect: "[null]"),
        MultiGet<string>(["k"], ns: "s p", expect: "[null]"),
        MultiGet<string>(["k"], ns: "n\nl", expect: "[null]"),
        MultiGet<string>(["k"], ns: "ünï😀", expect: "[null]"),
        Get<string>("c", ns: "a:b", expect: "\"2\""),
        Get<string>("k", ns: "a\\", expect: "\"bs\""),
        Get<string>("k", ns: "A", expect: "\"case\""),
    ]);

    // docs/caches.md: "A key without a namespace is the backend key itself, as in aiocache, so `Set("user:1")` and
    // `Set("1", namespace: "user")` are one entry on every backend."
    // The entry's last write was made under namespace "pfx", so the memory backend ("which remembers each entry's
    // namespace", docs/redis.md) clears it too, as Redis does; so does a two-level cache: docs/multilevel.md "`Clear` |
    // L2, then L1, then the backplane".
    [Test]
    public Task A_plain_key_named_like_a_namespace_is_one_entry_and_Clear_follows_the_documented_store() => Differential(
    [
        Set("{p}pfx:1", "x", ns: "", expect: "true"),
        Get<string>("1", ns: "pfx", expect: "\"x\""),
        Set("1", "y", ns: "pfx", expect: "true"),
        Get<string>("{p}pfx:1", ns: "", expect: "\"y\""),
        Get<string>("{p}pfx:1", ns: "", expect: "\"y\""),
        Clear("pfx", expect: "true"),
        new Op("Get(pfx:1, ns \"\") after Clear(pfx)",
            (c, x) => c.Get<string>(x.K("{p}pfx:1"), @namespace: ""),
            (c, x) => Box(c.GetAsync<string>(x.K("{p}pfx:1"), @namespace: "")),
            "null"),
    ]);

    // An entry written under the plain key ("" namespace), then Clear of the prefix namespace. docs/redis.md:
    // "`Clear("user")` removes it, as the memory backend's does" (the memory backend kept it once, a documented
    // difference that an outside review of the memory backend removed). A two-level cache answers as its L2:
    // docs/multilevel.md "An L1 copy never outlives the entry in L2" and "`Clear` | L2, then L1, then the backplane".
    [Test]
    public Task Two_levels_do_not_serve_a_plain_key_copy_after_Clear_of_its_prefix_namespace_removed_it_from_L2() => Differential(
    [
        Set("{p}pfx:2", "x", ns: ""),
        Get<string>("{p}pfx:2", ns: "", expect: "\"x\""),
        Clear("pfx", expect: "true"),
        new Op("Get(pfx:2, ns \"\") after Clear(pfx)",
            (c, x) => c.Get<string>(x.K("{p}pfx:2"), @namespace: ""),
            (c, x) => Box(c.GetAsync<string>(x.K("{p}pfx:2"), @namespace: "")),
            ExpectedBy: new Dictionary<Kind, string> { [Kind.Memory] = "null", [Kind.Redis] = "null", [Kind.Multi] = "null" }),
        new Op("Exists(pfx:2, ns \"\") after Clear(pfx)",
            (c, x) => c.Exists(x.K("{p}pfx:2"), @namespace: ""),
            (c, x) => Box(c.ExistsAsync(x.K("{p}pfx:2"), @namespace: "")),
            ExpectedBy: new Dictionary<Kind, string> { [Kind.Memory] = "false", [Kind.Redis] = "false", [Kind.Multi] = "false" }),
    ], new Options(Namespace: null));

    // The other way round: an entry of namespace "pfx" read as the plain key "{p}pfx:3", then Clear("") of everything.
    // docs/caches.md "`""` means no namespace" / "on a cache with no namespace it removes everything in the store".
    [Test]
    public Task A_namespaced_entry_read_through_its_plain_key_is_gone_after_clearing_everything() => Differential(
    [
        Set("3", "x", ns: "pfx"),
        Get<string>("{p}pfx:3", ns: "", expect: "\"x\""),
        Get<string>("3", ns: "pfx", expect: "\"x\""),
        Clear(expect: "true"),
        Get<string>("{p}pfx:3", ns: "", expect: "null"),
        Get<string>("3", ns: "pfx", expect: "null"),
    ], new Options(Namespace: null));

    // ---------------------------------------------------------------------------------------------------------------
    // Odd keys
    // ---------------------------------------------------------------------------------------------------------------

    private static readonly string[] OddKeys =
    [
        " ", "a b", ":", "::", "a:b:", "ü", "😀", "\r\n", "x\r\nFLUSHALL\r\n", "*?[]\\", "\t", "k\0z", new string('k', 10_000),
    ];

    // docs/reliability.md: "whitespace, newline, CRLF, unicode, emoji, `:`, `*?[]\` in a key | an ordinary key, stored
    // and read back exactly"; "1 MB key, 1 MB value | stored and read back exactly".
    [Test]
    public Task Odd_keys_are_ordinary_keys_everywhere()
    {
        var ops = new List<Op>();
        for (var i = 0; i < OddKeys.Length; i++)
        {
            ops.Add(Set(OddKeys[i], "v" + i, expect: "true"));
        }

        for (var i = 0; i < OddKeys.Length; i++)
        {
            ops.Add(Get<string>(OddKeys[i], expect: "\"v" + i + "\""));
            ops.Add(Exists(OddKeys[i], expect: "true"));
        }

        ops.Add(MultiGet<string>(OddKeys, expect: "[" + string.Join(", ", OddKeys.Select((_, i) => "\"v" + i + "\"")) + "]"));
        ops.Add(Increment(" ", expect: "!CacheValueNotIntegerException"));
        ops.Add(Increment("😀 counter", expect: "1"));
        ops.Add(Expire(":", Minutes10, expect: "true"));
        for (var i = 0; i < OddKeys.Length; i++)
        {
            ops.Add(Delete(OddKeys[i], expect: "1"));
        }

        ops.Add(MultiTryGet<string>(OddKeys.Take(3).ToArray(), expect: "[miss, miss, miss]"));
        ops.Add(Set(new string('ü', 300_000), "big", expect: "true"));
        ops.Add(Get<string>(new string('ü', 300_000), expect: "\"big\""));
        ops.Add(Set("1MB", new string('v', 1 << 20), expect: "true"));
        ops.Add(new Op("Get(1MB).Length", (c, _) => c.Get<string>("1MB")!.Length, (c, _) => Box(LengthAsync(c)), (1 << 20).ToString(CultureInfo.InvariantCulture)));
        return Differential(ops);

        static async ValueTask<int> LengthAsync(ICache c) => (await c.GetAsync<string>("1MB"))!.Length;
    }

    // Odd keys with a cache namespace of "" (no namespace) and a colon-ended key: same checks.
    [Test]
    public Task Odd_keys_without_a_namespace_agree_everywhere()
    {
        var ops = new List<Op>();
        for (var i = 0; i < OddKeys.Length; i++)
        {
            ops.Add(Set(OddKeys[i], i.ToString(CultureInfo.InvariantCulture), expect: "true"));
            ops.Add(TryGet<string>(OddKeys[i], expect: "hit(\"" + i.ToString(CultureInfo.InvariantCulture) + "\")"));
        }

        ops.Add(Clear(expect: "true"));
        ops.Add(MultiTryGet<string>(OddKeys, expect: "[" + string.Join(", ", OddKeys.Select(_ => "miss")) + "]"));
        return Differential(ops, new Options(Namespace: null));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Delete
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "`Delete(key)` | entries removed (0 or 1) | Deleting a stored `null` counts 1."
    [Test]
    public Task Delete_counts_alike_everywhere() => Differential(
    [
        Delete("absent", expect: "0"),
        Set("a", "v"),
        Delete("a", ns: "other", expect: "0"),
        Delete("a", expect: "1"),
        Delete("a", expect: "0"),
        Set<string?>("n", null),
        Delete("n", expect: "1"),
        Set("e", ""),
        Delete("e", expect: "1"),
        Set("z", 0L),
        Delete("z", expect: "1"),
        Set("f", false),
        Delete("f", expect: "1"),
        Increment("c"),
        Delete("c", expect: "1"),
        Exists("c", expect: "false"),
    ]);

    // ---------------------------------------------------------------------------------------------------------------
    // Cancellation (async twins only)
    // ---------------------------------------------------------------------------------------------------------------

    // docs/caches.md: "A token that is already cancelled comes back in the task, as from .NET's own async APIs: the
    // call returns a cancelled task and does nothing."
    [Test]
    public async Task A_cancelled_token_gives_a_cancelled_task_that_writes_nothing_on_every_backend()
    {
        var problems = new List<string>();
        foreach (var kind in new[] { Kind.Memory, Kind.Redis, Kind.Multi })
        {
            if (kind != Kind.Memory)
            {
                FlushRedis();
            }

            var ctx = new Ctx(_prefix);
            await using var cache = NewCache(kind, ctx, new Options());
            cache.Set("k", "old");
            cache.Set("c", 1L);
            using var cts = new CancellationTokenSource();
            cts.Cancel();
            var token = cts.Token;

            var calls = new (string Name, Func<ValueTask> Call)[]
            {
                ("SetAsync", async () => await cache.SetAsync("k", "new", cancellationToken: token)),
                ("AddAsync", async () => await cache.AddAsync("fresh", "new", cancellationToken: token)),
                ("MultiSetAsync", async () => await cache.MultiSetAsync([new KeyValuePair<string, string>("k", "new"), new("fresh", "new")], cancellationToken: token)),
                ("IncrementAsync", async () => await cache.IncrementAsync("c", cancellationToken: token)),
                ("DeleteAsync", async () => await cache.DeleteAsync("k", cancellationToken: token)),
                ("ExpireAsync", async () => await cache.ExpireAsync("k", TimeSpan.FromMilliseconds(1), cancellationToken: token)),
                ("ClearAsync", async () => await cache.ClearAsync(cancellationToken: token)),
                ("GetAsync", async () => await cache.GetAsync<string>("k", cancellationToken: token)),
                ("ExistsAsync", async () => await cache.ExistsAsync("k", cancellationToken: token)),
                ("MultiGetAsync", async () => await cache.MultiGetAsync<string>(["k"], cancellationToken: token)),
            };
            foreach (var (name, call) in calls)
            {
                try
                {
                    await call();
                    problems.Add($"{kind} {name}: completed with a cancelled token");
                }
                catch (OperationCanceledException)
                {
                }
                catch (Exception ex)
                {
                    problems.Add($"{kind} {name}: {ex.GetType().Name}");
                }
            }

            Thread.Sleep(20);
            var state = $"{cache.Get<string>("k")}|{cache.Exists("fresh")}|{cache.Get<long>("c")}";
            if (state != "old|False|1")
            {
                problems.Add($"{kind}: state after the cancelled calls is {state}, expected old|False|1");
            }
        }

        Assert.That(problems, Is.Empty);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Raw (documented to differ: "the store's answer"; on two levels "L2 only")
    // ---------------------------------------------------------------------------------------------------------------

    // docs/multilevel.md: "`Raw` | L2 only"; docs/caches.md: "`Raw(command, args...)` | the store's answer | No
    // namespace, serializer or key building."
    [Test]
    public async Task Raw_on_two_levels_is_Raw_on_L2()
    {
        FlushRedis();
        var ctx = new Ctx(_prefix);
        await using var redis = NewCache(Kind.Redis, ctx, new Options());
        await using var multi = NewCache(Kind.Multi, ctx, new Options());
        multi.Set("k", "v");
        var key = redis.BuildKey("k");

        var multiGet = Show(multi.Raw("GET", key));
        var redisGet = Show(redis.Raw("GET", key));
        var multiExists = Show(await multi.RawAsync("EXISTS", [key]));
        var redisExists = Show(await redis.RawAsync("EXISTS", [key]));
        var unbuilt = Show(multi.Raw("GET", "k"));
        Assert.Multiple(() =>
        {
            Assert.That(multiGet, Is.EqualTo(redisGet).And.EqualTo("\"\"v\"\""));
            Assert.That(multiExists, Is.EqualTo(redisExists).And.EqualTo("1"));
            Assert.That(unbuilt, Is.EqualTo("null"), "no key building");
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Fixed-seed random sequences
    // ---------------------------------------------------------------------------------------------------------------

    private static readonly string[] ValueKeys = ["a", "b", "c:d", "é", " "];
    private static readonly string[] CounterKeys = ["n1", "n2"];
    private static readonly string?[] Spaces = [null, null, "other", "oth", ""];
    private static readonly TimeSpan?[] Ttls = [null, null, Minutes10, TimeSpan.Zero, Timeout.InfiniteTimeSpan, TimeSpan.FromHours(1)];

    private static List<Op> RandomOps(int seed, int count)
    {
        var random = new Random(seed);
        T Pick<T>(T[] items) => items[random.Next(items.Length)];
        string?[] SomeKeys(string[] from)
        {
            var n = random.Next(0, 5);
            var keys = new string?[n];
            for (var i = 0; i < n; i++)
            {
                keys[i] = Pick(from);
            }

            return keys;
        }

        string? Value() => random.Next(6) switch
        {
            0 => null,
            1 => "",
            _ => "v" + random.Next(100).ToString(CultureInfo.InvariantCulture),
        };

        var ops = new List<Op>(count);
        for (var i = 0; i < count; i++)
        {
            var ns = Pick(Spaces);
            var op = random.Next(16) switch
            {
                0 or 1 => Set(Pick(ValueKeys), Value(), Pick(Ttls), ns),
                2 => Add(Pick(ValueKeys), Value(), Pick(Ttls), ns),
                3 or 4 => Get<string>(Pick(ValueKeys), "dflt", ns),
                5 => TryGet<string>(Pick(ValueKeys), ns),
                6 => MultiGet<string>(SomeKeys(ValueKeys), ns),
                7 => MultiTryGet<string>(SomeKeys(ValueKeys), ns),
                8 => MultiSet(SomeKeys(ValueKeys).Select(k => (k, Value())).ToArray(), Pick(Ttls), ns),
                9 => Exists(random.Next(2) == 0 ? Pick(ValueKeys) : Pick(CounterKeys), ns),
                10 => Increment(Pick(CounterKeys), random.Next(-3, 4), ns),
                11 => Get<long>(Pick(CounterKeys), -1, ns),
                12 => Delete(random.Next(2) == 0 ? Pick(ValueKeys) : Pick(CounterKeys), ns),
                13 => Expire(random.Next(2) == 0 ? Pick(ValueKeys) : Pick(CounterKeys), Pick(Ttls), ns),
                14 => random.Next(4) == 0 ? Clear(random.Next(2) == 0 ? "(none)" : ns) : Add(Pick(CounterKeys), (long)random.Next(10), Pick(Ttls), ns),
                _ => Set(Pick(CounterKeys), (long)random.Next(-5, 5), Pick(Ttls), ns),
            };
            ops.Add(op);
        }

        return ops;
    }

    // README: "All caches share the same minimum interface" and docs/caches.md: "Every command has an async twin".
    // 80 fixed-seed random commands (values and nulls and empty strings, counters, TTLs of none, zero, infinite and
    // long, namespaces of the cache, two others that share a prefix, and none) must give one trace on every backend.
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public async Task Random_sequences_give_one_trace_on_every_backend(int seed) => SaneTrace(await Differential(RandomOps(seed, 80)));

    /// <summary>A random trace that only ever failed, or never hit, would compare nothing: it must hold hits, misses and refusals.</summary>
    private static void SaneTrace(List<string> trace)
    {
        Assert.That(trace.Count(t => t.Contains("hit(", StringComparison.Ordinal) || t.StartsWith('"')), Is.GreaterThan(3), string.Join(" | ", trace));
        Assert.That(trace.Count(t => t.Contains("miss", StringComparison.Ordinal) || t == "null"), Is.GreaterThan(1), string.Join(" | ", trace));
        Assert.That(trace.Count(t => t.StartsWith('!')), Is.LessThan(trace.Count / 2), string.Join(" | ", trace));
    }

    [TestCase(11)]
    [TestCase(12)]
    public async Task Random_sequences_on_a_cache_without_namespace_give_one_trace_on_every_backend(int seed)
        => SaneTrace(await Differential(RandomOps(seed, 80), new Options(Namespace: null)));
}
