using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Plugins;

/// <summary>Records every hook call in a shared log, with the store's entry count at that moment.</summary>
public sealed class RecordingPlugin(string name, List<string> log) : ICachePlugin
{
    public List<CacheCommandContext> PreContexts { get; } = [];

    public List<CacheCommandContext> PostContexts { get; } = [];

    public List<int> CountsAtPre { get; } = [];

    public List<int> CountsAtPost { get; } = [];

    public void Pre(CacheCommandContext context)
    {
        log.Add($"{name}.Pre {context.Command}");
        PreContexts.Add(context);
        CountsAtPre.Add(((SimpleMemoryCache)context.Cache).Count);
    }

    public void Post(CacheCommandContext context)
    {
        log.Add($"{name}.Post {context.Command}");
        PostContexts.Add(context);
        CountsAtPost.Add(((SimpleMemoryCache)context.Cache).Count);
    }
}

/// <summary>Overrides every per-command hook of <see cref="CachePlugin"/> and logs its name.</summary>
public sealed class DispatchLoggingPlugin : CachePlugin
{
    public List<string> Log { get; } = [];

    protected override void PreAdd(CacheCommandContext context) => Log.Add("PreAdd");
    protected override void PostAdd(CacheCommandContext context) => Log.Add("PostAdd");
    protected override void PreGet(CacheCommandContext context) => Log.Add("PreGet");
    protected override void PostGet(CacheCommandContext context) => Log.Add("PostGet");
    protected override void PreMultiGet(CacheCommandContext context) => Log.Add("PreMultiGet");
    protected override void PostMultiGet(CacheCommandContext context) => Log.Add("PostMultiGet");
    protected override void PreSet(CacheCommandContext context) => Log.Add("PreSet");
    protected override void PostSet(CacheCommandContext context) => Log.Add("PostSet");
    protected override void PreMultiSet(CacheCommandContext context) => Log.Add("PreMultiSet");
    protected override void PostMultiSet(CacheCommandContext context) => Log.Add("PostMultiSet");
    protected override void PreExists(CacheCommandContext context) => Log.Add("PreExists");
    protected override void PostExists(CacheCommandContext context) => Log.Add("PostExists");
    protected override void PreIncrement(CacheCommandContext context) => Log.Add("PreIncrement");
    protected override void PostIncrement(CacheCommandContext context) => Log.Add("PostIncrement");
    protected override void PreDelete(CacheCommandContext context) => Log.Add("PreDelete");
    protected override void PostDelete(CacheCommandContext context) => Log.Add("PostDelete");
    protected override void PreClear(CacheCommandContext context) => Log.Add("PreClear");
    protected override void PostClear(CacheCommandContext context) => Log.Add("PostClear");
    protected override void PreExpire(CacheCommandContext context) => Log.Add("PreExpire");
    protected override void PostExpire(CacheCommandContext context) => Log.Add("PostExpire");
    protected override void PreRaw(CacheCommandContext context) => Log.Add("PreRaw");
    protected override void PostRaw(CacheCommandContext context) => Log.Add("PostRaw");
}

/// <summary>A user plugin: counts the Set commands that succeeded.</summary>
public sealed class SetCountingPlugin : CachePlugin
{
    private int _sets;

    public int Sets => Volatile.Read(ref _sets);

    public List<string> Keys { get; } = [];

    protected override void PostSet(CacheCommandContext context)
    {
        Interlocked.Increment(ref _sets);
        Keys.Add(context.Key!);
    }
}

/// <summary>Moves a fake clock forward in its hooks.</summary>
public sealed class ClockMovingPlugin(FakeTimeProvider clock, TimeSpan step) : ICachePlugin
{
    public void Pre(CacheCommandContext context) => clock.Advance(step);

    public void Post(CacheCommandContext context) => clock.Advance(step);
}

/// <summary>Throws from its pre hook.</summary>
public sealed class ThrowingPlugin : CachePlugin
{
    protected override void PreSet(CacheCommandContext context) => throw new InvalidOperationException("refused by plugin");
}

public class PluginTests
{
    private static readonly TimeSpan TenSeconds = TimeSpan.FromSeconds(10);

    private static TestCaseData Case(string name, CacheCommand command, Func<ICache, Task> run)
        => new TestCaseData(command, run).SetArgDisplayNames(name);

    private static Func<ICache, Task> Sync(Action<ICache> action) => cache =>
    {
        action(cache);
        return Task.CompletedTask;
    };

    /// <summary>Every command, sync and async, run on a cache holding "existing" = "value" and "counter" = 5.</summary>
    private static IEnumerable<TestCaseData> AllCommands()
    {
        yield return Case("Add", CacheCommand.Add, Sync(c => c.Add("new", "v")));
        yield return Case("Get", CacheCommand.Get, Sync(c => c.Get<string>("existing")));
        yield return Case("TryGet", CacheCommand.Get, Sync(c => c.TryGet<string>("existing", out _)));
        yield return Case("MultiGet", CacheCommand.MultiGet, Sync(c => c.MultiGet<string>(["existing", "absent"])));
        yield return Case("Set", CacheCommand.Set, Sync(c => c.Set("existing", "w")));
        yield return Case("MultiSet", CacheCommand.MultiSet, Sync(c => c.MultiSet(new Dictionary<string, string> { ["m1"] = "a", ["m2"] = "b" })));
        yield return Case("Exists", CacheCommand.Exists, Sync(c => c.Exists("existing")));
        yield return Case("Increment", CacheCommand.Increment, Sync(c => c.Increment("counter", 2)));
        yield return Case("Delete", CacheCommand.Delete, Sync(c => c.Delete("existing")));
        yield return Case("Clear", CacheCommand.Clear, Sync(c => c.Clear()));
        yield return Case("Expire", CacheCommand.Expire, Sync(c => c.Expire("existing", TenSeconds)));
        yield return Case("Raw", CacheCommand.Raw, Sync(c => c.Raw("get", "existing")));
        yield return Case("AddAsync", CacheCommand.Add, async c => await c.AddAsync("new", "v"));
        yield return Case("GetAsync", CacheCommand.Get, async c => await c.GetAsync<string>("existing"));
        yield return Case("TryGetAsync", CacheCommand.Get, async c => await c.TryGetAsync<string>("existing"));
        yield return Case("MultiGetAsync", CacheCommand.MultiGet, async c => await c.MultiGetAsync<string>(["existing", "absent"]));
        yield return Case("SetAsync", CacheCommand.Set, async c => await c.SetAsync("existing", "w"));
        yield return Case("MultiSetAsync", CacheCommand.MultiSet, async c => await c.MultiSetAsync(new Dictionary<string, string> { ["m1"] = "a" }));
        yield return Case("ExistsAsync", CacheCommand.Exists, async c => await c.ExistsAsync("existing"));
        yield return Case("IncrementAsync", CacheCommand.Increment, async c => await c.IncrementAsync("counter", 2));
        yield return Case("DeleteAsync", CacheCommand.Delete, async c => await c.DeleteAsync("existing"));
        yield return Case("ClearAsync", CacheCommand.Clear, async c => await c.ClearAsync());
        yield return Case("ExpireAsync", CacheCommand.Expire, async c => await c.ExpireAsync("existing", TenSeconds));
        yield return Case("RawAsync", CacheCommand.Raw, async c => await c.RawAsync("get", ["existing"]));
    }

    /// <summary>A cache in namespace "ns" with the given plugins.</summary>
    private static SimpleMemoryCache Seeded(params ICachePlugin[] plugins)
        => new() { Plugins = plugins, Namespace = "ns" };

    /// <summary>Stores "existing" = "value" and "counter" = 5; the plugins see these writes, so tests clear their records after.</summary>
    private static void Seed(ICache cache)
    {
        cache.Set("existing", "value");
        cache.Set("counter", 5L);
    }

    // ---- hook order ----

    [TestCaseSource(nameof(AllCommands))]
    public async Task Every_command_runs_each_plugins_pre_then_post_once_in_list_order(CacheCommand command, Func<ICache, Task> run)
    {
        var log = new List<string>();
        var a = new RecordingPlugin("A", log);
        var b = new RecordingPlugin("B", log);
        var c = new RecordingPlugin("C", log);
        var cache = Seeded(a, b, c);
        Seed(cache);
        log.Clear();

        await run(cache);

        Assert.That(log, Is.EqualTo(new[]
        {
            $"A.Pre {command}", $"B.Pre {command}", $"C.Pre {command}",
            $"A.Post {command}", $"B.Post {command}", $"C.Post {command}",
        }));
    }

    [TestCaseSource(nameof(AllCommands))]
    public async Task Every_hook_of_a_command_sees_the_same_context(CacheCommand command, Func<ICache, Task> run)
    {
        var log = new List<string>();
        var a = new RecordingPlugin("A", log);
        var b = new RecordingPlugin("B", log);
        var cache = Seeded(a, b);
        Seed(cache);
        a.PreContexts.Clear();
        a.PostContexts.Clear();
        b.PreContexts.Clear();
        b.PostContexts.Clear();

        await run(cache);

        var context = a.PreContexts.Single();
        Assert.That(context.Command, Is.EqualTo(command));
        Assert.That(context.Cache, Is.SameAs(cache));
        Assert.That(b.PreContexts.Single(), Is.SameAs(context));
        Assert.That(a.PostContexts.Single(), Is.SameAs(context));
        Assert.That(b.PostContexts.Single(), Is.SameAs(context));
    }

    [TestCaseSource(nameof(AllCommands))]
    public async Task CachePlugin_dispatches_each_command_to_its_own_pre_and_post_hooks(CacheCommand command, Func<ICache, Task> run)
    {
        var plugin = new DispatchLoggingPlugin();
        var cache = Seeded(plugin);
        Seed(cache);
        plugin.Log.Clear();

        await run(cache);

        Assert.That(plugin.Log, Is.EqualTo(new[] { $"Pre{command}", $"Post{command}" }));
    }

    [Test]
    public void CachePlugin_hooks_do_nothing_until_overridden()
    {
        var plugin = new SetCountingPlugin();
        var cache = Seeded(plugin);

        cache.Set("k", "v");
        cache.Get<string>("k");
        cache.Delete("k");
        cache.Clear();

        Assert.That(plugin.Sets, Is.EqualTo(1));
        Assert.That(plugin.Keys, Is.EqualTo(new[] { "k" }));
    }

    [Test]
    public void Pre_hooks_run_before_the_backend_and_post_hooks_after()
    {
        var log = new List<string>();
        var plugin = new RecordingPlugin("A", log);
        var cache = Seeded(plugin);

        cache.Add("a", 1);
        cache.Set("b", 2);
        cache.Delete("a");
        cache.Clear();

        Assert.That(plugin.CountsAtPre, Is.EqualTo(new[] { 0, 1, 2, 1 }));
        Assert.That(plugin.CountsAtPost, Is.EqualTo(new[] { 1, 2, 1, 0 }));
    }

    [Test]
    public void A_cache_without_plugins_lists_none_and_one_with_plugins_lists_them_in_order()
    {
        var a = new TimingPlugin();
        var b = new HitMissRatioPlugin();

        Assert.That(new SimpleMemoryCache().Plugins, Is.Empty);
        Assert.That(new SimpleMemoryCache { Plugins = [a, b] }.Plugins, Is.EqualTo(new ICachePlugin[] { a, b }));
    }

    [Test]
    public void A_plugin_list_with_null_is_refused()
    {
        Assert.Throws<ArgumentException>(() => _ = new SimpleMemoryCache { Plugins = [new TimingPlugin(), null!] });
        Assert.Throws<ArgumentNullException>(() => _ = new SimpleMemoryCache { Plugins = null! });
    }

    [Test]
    public void The_plugin_list_is_copied_when_the_cache_is_created()
    {
        var log = new List<string>();
        var list = new List<ICachePlugin> { new RecordingPlugin("A", log) };
        var cache = new SimpleMemoryCache { Plugins = list };

        list.Add(new RecordingPlugin("B", log));
        cache.Exists("k");

        Assert.That(cache.Plugins, Has.Count.EqualTo(1));
        Assert.That(log, Is.EqualTo(new[] { "A.Pre Exists", "A.Post Exists" }));
    }

    // ---- what the hooks see ----

    [Test]
    public void Post_of_a_Get_hit_sees_the_key_namespace_result_and_one_hit()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);
        Seed(cache);

        cache.Get<string>("existing");

        var context = plugin.PostContexts.Last();
        Assert.That(context.Command, Is.EqualTo(CacheCommand.Get));
        Assert.That(context.Key, Is.EqualTo("existing"), "the caller's key, before the namespace");
        Assert.That(context.Keys, Is.Null);
        Assert.That(context.Namespace, Is.EqualTo("ns"));
        Assert.That(context.Result, Is.EqualTo("value"));
        Assert.That(context.Hits, Is.EqualTo(1));
        Assert.That(context.Value, Is.Null);
        Assert.That(context.Ttl, Is.Null);
    }

    [Test]
    public void Post_of_a_Get_miss_sees_no_result_and_no_hit()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);

        cache.Get("absent", "fallback");

        var context = plugin.PostContexts.Single();
        Assert.That(context.Hits, Is.Zero);
        Assert.That(context.Key, Is.EqualTo("absent"));
    }

    [Test]
    public void Pre_of_a_Get_sees_no_result_yet()
    {
        var seen = new List<(object? Result, int Hits)>();
        var cache = new SimpleMemoryCache { Plugins = [new LambdaPlugin(pre: c => seen.Add((c.Result, c.Hits)))] };
        cache.Set("k", "v");
        seen.Clear();

        cache.Get<string>("k");

        Assert.That(seen, Is.EqualTo(new[] { ((object?)null, 0) }));
    }

    [Test]
    public void Post_of_a_Set_sees_the_value_ttl_and_result()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);

        cache.Set("k", "v", ttl: TenSeconds);

        var context = plugin.PostContexts.Single();
        Assert.That(context.Command, Is.EqualTo(CacheCommand.Set));
        Assert.That(context.Key, Is.EqualTo("k"));
        Assert.That(context.Value, Is.EqualTo("v"));
        Assert.That(context.Ttl, Is.EqualTo(TenSeconds));
        Assert.That(context.Result, Is.EqualTo(true));
        Assert.That(context.Namespace, Is.EqualTo("ns"));
    }

    [Test]
    public void The_context_ttl_falls_back_to_the_cache_default()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = new SimpleMemoryCache { Plugins = [plugin], Ttl = TimeSpan.FromSeconds(5) };

        cache.Set("a", 1);
        cache.Set("b", 2, ttl: TimeSpan.Zero);

        Assert.That(plugin.PostContexts[0].Ttl, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(plugin.PostContexts[1].Ttl, Is.Null, "zero means no expiry");
    }

    [Test]
    public void The_context_namespace_is_the_command_argument_when_given()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);

        cache.Set("k", "v", @namespace: "other");
        cache.Set("k", "v", @namespace: "");
        cache.Set("k", "v");

        Assert.That(plugin.PostContexts.Select(c => c.Namespace), Is.EqualTo(new[] { "other", null, "ns" }));
        Assert.That(plugin.PostContexts.Select(c => c.Key), Is.EqualTo(new[] { "k", "k", "k" }));
    }

    [Test]
    public void Post_of_a_MultiGet_sees_the_keys_in_order_the_values_and_the_hits()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);
        cache.Set("a", "1");
        cache.Set<string?>("n", null);

        cache.MultiGet<string>(["a", "absent", "n", "a"]);

        var context = plugin.PostContexts.Last();
        Assert.That(context.Command, Is.EqualTo(CacheCommand.MultiGet));
        Assert.That(context.Key, Is.Null);
        Assert.That(context.Keys, Is.EqualTo(new[] { "a", "absent", "n", "a" }));
        Assert.That(context.Result, Is.EqualTo(new[] { "1", null, null, "1" }));
        Assert.That(context.Hits, Is.EqualTo(3), "a stored null is a hit");
    }

    [Test]
    public void Post_of_a_MultiSet_sees_the_keys_and_the_values_in_key_order()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);

        cache.MultiSet([new KeyValuePair<string, int>("x", 1), new KeyValuePair<string, int>("y", 2)], ttl: TenSeconds);

        var context = plugin.PostContexts.Single();
        Assert.That(context.Keys, Is.EqualTo(new[] { "x", "y" }));
        Assert.That(context.Value, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(context.Ttl, Is.EqualTo(TenSeconds));
        Assert.That(context.Result, Is.EqualTo(true));
    }

    [Test]
    public void Post_of_an_Increment_sees_the_delta_and_the_new_value()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);
        Seed(cache);

        cache.Increment("counter", 3);

        var context = plugin.PostContexts.Last();
        Assert.That(context.Key, Is.EqualTo("counter"));
        Assert.That(context.Value, Is.EqualTo(3L));
        Assert.That(context.Result, Is.EqualTo(8L));
    }

    [Test]
    public void Post_of_Delete_Exists_and_Expire_see_their_results()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);
        Seed(cache);
        plugin.PostContexts.Clear();

        cache.Exists("existing");
        cache.Expire("existing", TenSeconds);
        cache.Delete("existing");
        cache.Delete("existing");
        cache.Exists("existing");

        var results = plugin.PostContexts.Select(c => c.Result).ToArray();
        Assert.That(results, Is.EqualTo(new object[] { true, true, 1, 0, false }));
        Assert.That(plugin.PostContexts[1].Ttl, Is.EqualTo(TenSeconds));
    }

    [Test]
    public void Post_of_Raw_sees_the_arguments_and_the_result()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);
        Seed(cache);

        cache.Raw("get", cache.BuildKey("existing"));

        var context = plugin.PostContexts.Last();
        Assert.That(context.Command, Is.EqualTo(CacheCommand.Raw));
        Assert.That(context.Key, Is.Null);
        Assert.That(context.Value, Is.EqualTo(new object[] { "ns:existing" }));
        Assert.That(context.Result, Is.EqualTo("value"));
    }

    [Test]
    public void Post_of_a_Clear_sees_the_namespace()
    {
        var plugin = new RecordingPlugin("A", []);
        var cache = Seeded(plugin);

        cache.Clear("other");
        cache.Clear();

        Assert.That(plugin.PostContexts.Select(c => c.Namespace), Is.EqualTo(new[] { "other", "ns" }));
        Assert.That(plugin.PostContexts.Select(c => c.Result), Is.EqualTo(new object[] { true, true }));
    }

    // ---- failures ----

    [Test]
    public void Add_on_an_existing_key_runs_the_pre_hooks_but_no_post_hook()
    {
        var log = new List<string>();
        var cache = Seeded(new RecordingPlugin("A", log), new RecordingPlugin("B", log));
        Seed(cache);
        log.Clear();

        Assert.Throws<KeyExistsException>(() => cache.Add("existing", "other"));

        Assert.That(log, Is.EqualTo(new[] { "A.Pre Add", "B.Pre Add" }));
        Assert.That(cache.Get<string>("existing"), Is.EqualTo("value"));
    }

    [Test]
    public void AddAsync_on_an_existing_key_runs_no_post_hook()
    {
        var log = new List<string>();
        var cache = Seeded(new RecordingPlugin("A", log));
        Seed(cache);
        log.Clear();

        Assert.ThrowsAsync<KeyExistsException>(async () => await cache.AddAsync("existing", "other"));

        Assert.That(log, Is.EqualTo(new[] { "A.Pre Add" }));
    }

    [Test]
    public void Increment_of_a_non_integer_runs_no_post_hook()
    {
        var log = new List<string>();
        var cache = Seeded(new RecordingPlugin("A", log));
        Seed(cache);
        log.Clear();

        Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("existing"));

        Assert.That(log, Does.Not.Contain("A.Post Increment"));
    }

    [Test]
    public void A_Get_whose_payload_cannot_be_read_runs_no_post_hook()
    {
        var log = new List<string>();
        var cache = new SimpleMemoryCache { Plugins = [new RecordingPlugin("A", log)] };
        cache.Set("k", 42);
        log.Clear();

        Assert.Throws<CacheSerializationException>(() => cache.Get<string>("k"));

        Assert.That(log, Does.Not.Contain("A.Post Get"));
    }

    [Test]
    public void A_Set_whose_value_cannot_be_serialized_runs_no_post_hook()
    {
        var log = new List<string>();
        var cache = new SimpleMemoryCache { Plugins = [new RecordingPlugin("A", log)], Serializer = new StringSerializer() };
        var functions = new FunctionSerializer<string>(s => s, s => s);

        Assert.Throws<CacheSerializationException>(() => cache.Set("k", 42, serializer: functions));

        Assert.That(log, Does.Not.Contain("A.Post Set"));
    }

    [Test]
    public void An_exception_from_a_pre_hook_propagates_and_the_command_does_not_run()
    {
        var log = new List<string>();
        var after = new RecordingPlugin("after", log);
        var cache = new SimpleMemoryCache { Plugins = [new ThrowingPlugin(), after] };

        Assert.Throws<InvalidOperationException>(() => cache.Set("k", "v"));

        Assert.That(log, Is.Empty, "later pre hooks and every post hook are skipped");
        Assert.That(cache.Exists("k"), Is.False);
    }

    // ---- HitMissRatioPlugin ----

    [Test]
    public void HitMissRatio_starts_at_zero()
    {
        var plugin = new HitMissRatioPlugin();

        Assert.That(plugin.Hits, Is.Zero);
        Assert.That(plugin.Misses, Is.Zero);
        Assert.That(plugin.Total, Is.Zero);
        Assert.That(plugin.HitRatio, Is.Zero);
    }

    [Test]
    public void HitMissRatio_counts_a_get_miss_then_a_hit()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.Get<string>("k");
        Assert.That((plugin.Hits, plugin.Total, plugin.HitRatio), Is.EqualTo((0L, 1L, 0.0)));

        cache.Set("k", "v");
        cache.Get<string>("k");
        Assert.That(plugin.Hits, Is.EqualTo(1));
        Assert.That(plugin.Misses, Is.EqualTo(1));
        Assert.That(plugin.Total, Is.EqualTo(2));
        Assert.That(plugin.HitRatio, Is.EqualTo(0.5));
    }

    [Test]
    public void HitMissRatio_counts_each_key_of_a_multi_get()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.MultiGet<string>(["a", "b"]);
        Assert.That((plugin.Hits, plugin.Total), Is.EqualTo((0L, 2L)));

        cache.MultiSet(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        cache.MultiGet<string>(["a", "b"]);
        Assert.That((plugin.Hits, plugin.Total), Is.EqualTo((2L, 4L)));
        Assert.That(plugin.HitRatio, Is.EqualTo(0.5));

        cache.MultiGet<string>(["a", "absent", "b"]);
        Assert.That((plugin.Hits, plugin.Total, plugin.Misses), Is.EqualTo((4L, 7L, 3L)));
    }

    [Test]
    public void HitMissRatio_counts_a_stored_null_as_a_hit()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };
        cache.Set<string?>("k", null);

        cache.Get<string>("k");
        cache.MultiGet<string>(["k"]);

        Assert.That(plugin.Hits, Is.EqualTo(2));
        Assert.That(plugin.Total, Is.EqualTo(2));
    }

    [Test]
    public void HitMissRatio_counts_a_miss_answered_with_a_default_as_a_miss()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        var value = cache.Get("absent", "fallback");

        Assert.That(value, Is.EqualTo("fallback"));
        Assert.That(plugin.Hits, Is.Zero);
        Assert.That(plugin.Misses, Is.EqualTo(1));
    }

    [Test]
    public async Task HitMissRatio_counts_TryGet_and_the_async_reads()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };
        await cache.SetAsync("k", "v");

        cache.TryGet<string>("k", out _);
        await cache.GetAsync<string>("absent");
        await cache.TryGetAsync<string>("k");
        await cache.MultiGetAsync<string>(["k", "absent"]);

        Assert.That(plugin.Hits, Is.EqualTo(3));
        Assert.That(plugin.Total, Is.EqualTo(5));
    }

    [Test]
    public void HitMissRatio_ignores_commands_that_are_not_reads()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.Set("k", "v");
        cache.Exists("k");
        cache.Exists("absent");
        cache.Raw("get", "k");
        cache.Delete("k");

        Assert.That(plugin.Total, Is.Zero);
    }

    [Test]
    public void HitMissRatio_works_with_a_namespace_argument()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.Set("k", "v", @namespace: "test");
        Assert.That(cache.Get<string>("k", @namespace: "test"), Is.EqualTo("v"));
        Assert.That(cache.Get<string>("k"), Is.Null);

        Assert.That((plugin.Hits, plugin.Total), Is.EqualTo((1L, 2L)));
    }

    [Test]
    public void HitMissRatio_fed_contexts_directly_counts_their_hits()
    {
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache();

        plugin.Post(new CacheCommandContext(cache, CacheCommand.MultiGet, null, ["a", "b"], null, null, null) { Hits = 0 });
        Assert.That((plugin.Hits, plugin.Total), Is.EqualTo((0L, 2L)));

        plugin.Post(new CacheCommandContext(cache, CacheCommand.MultiGet, null, ["a", "b"], null, null, null) { Hits = 2 });
        Assert.That((plugin.Hits, plugin.Total, plugin.HitRatio), Is.EqualTo((2L, 4L, 0.5)));

        plugin.Post(new CacheCommandContext(cache, CacheCommand.Get, "a", null, null, null, null) { Hits = 1 });
        Assert.That((plugin.Hits, plugin.Total), Is.EqualTo((3L, 5L)));
    }

    [Test]
    public void HitMissRatio_totals_are_exact_under_concurrent_gets()
    {
        const int Threads = 8;
        const int GetsPerThread = 10_000;
        var plugin = new HitMissRatioPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };
        cache.Set("hit", "v");
        using var start = new Barrier(Threads);

        var threads = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < GetsPerThread; i++)
            {
                cache.Get<string>(i % 2 == 0 ? "hit" : "miss");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        Assert.That(plugin.Total, Is.EqualTo(Threads * GetsPerThread));
        Assert.That(plugin.Hits, Is.EqualTo(Threads * GetsPerThread / 2));
        Assert.That(plugin.HitRatio, Is.EqualTo(0.5));
    }

    // ---- TimingPlugin ----

    private static CacheCommandContext Timed(CacheCommand command, double seconds)
        => new(new SimpleMemoryCache(), command, "k", null, null, null, null) { Elapsed = TimeSpan.FromSeconds(seconds) };

    [Test]
    public void TimingPlugin_keeps_count_total_min_max_and_average_per_command()
    {
        var plugin = new TimingPlugin();

        plugin.Post(Timed(CacheCommand.Get, 1));
        plugin.Post(Timed(CacheCommand.Get, 2));

        var get = plugin[CacheCommand.Get];
        Assert.That(get.Count, Is.EqualTo(2));
        Assert.That(get.Total, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(get.Min, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(get.Max, Is.EqualTo(TimeSpan.FromSeconds(2)));
        Assert.That(get.Average, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
    }

    [Test]
    public void TimingPlugin_keeps_each_command_apart()
    {
        var plugin = new TimingPlugin();

        plugin.Post(Timed(CacheCommand.Set, 1));
        plugin.Post(Timed(CacheCommand.Set, 2));
        plugin.Post(Timed(CacheCommand.Get, 5));

        Assert.That(plugin[CacheCommand.Set], Is.EqualTo(new CommandTiming(2, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))));
        Assert.That(plugin[CacheCommand.Set].Average, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        Assert.That(plugin[CacheCommand.Get].Count, Is.EqualTo(1));
        Assert.That(plugin[CacheCommand.Delete], Is.EqualTo(default(CommandTiming)));
        Assert.That(plugin[CacheCommand.Delete].Average, Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void TimingPlugin_takes_the_first_sample_as_the_minimum_even_when_it_is_zero()
    {
        var plugin = new TimingPlugin();

        plugin.Post(Timed(CacheCommand.Get, 0));
        plugin.Post(Timed(CacheCommand.Get, 2));
        plugin.Post(Timed(CacheCommand.Set, 3));
        plugin.Post(Timed(CacheCommand.Set, 1));

        Assert.That(plugin[CacheCommand.Get].Min, Is.EqualTo(TimeSpan.Zero), "aiocache would reset a zero minimum");
        Assert.That(plugin[CacheCommand.Set].Min, Is.EqualTo(TimeSpan.FromSeconds(1)));
        Assert.That(plugin[CacheCommand.Set].Max, Is.EqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public void TimingPlugin_refuses_a_value_that_is_not_a_command()
    {
        var plugin = new TimingPlugin();

        Assert.Throws<ArgumentOutOfRangeException>(() => _ = plugin[(CacheCommand)999]);
    }

    [Test]
    public void TimingPlugin_on_a_real_cache_records_the_gets()
    {
        var clock = new FakeTimeProvider();
        var plugin = new TimingPlugin();
        var cache = new SimpleMemoryCache { TimeProvider = clock, Plugins = [plugin] };
        cache.Set("k", "v");
        clock.AutoAdvanceAmount = TimeSpan.FromMilliseconds(250);

        cache.Get<string>("k");
        cache.Get<string>("absent");
        cache.Get<string>("k");

        var get = plugin[CacheCommand.Get];
        Assert.That(get.Count, Is.EqualTo(3));
        Assert.That(get.Min, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "each get spans at least one clock read");
        Assert.That(get.Max, Is.GreaterThanOrEqualTo(get.Min));
        Assert.That(get.Total, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(750)));
        Assert.That(get.Average, Is.EqualTo(get.Total / 3));
        Assert.That(plugin[CacheCommand.Set].Count, Is.EqualTo(1));
        Assert.That(plugin[CacheCommand.Delete].Count, Is.Zero);
    }

    [Test]
    public void Elapsed_runs_from_before_the_pre_hooks_to_the_end_of_the_command_not_the_post_hooks()
    {
        // aiocache's `took`: from before the pre hooks to after the operation (the inventory, 1.4). The plugin moves the
        // clock 5 s in its pre hook (counted) and 5 s in its post hook (not: the time is taken before the post hooks).
        var clock = new FakeTimeProvider();
        var timing = new TimingPlugin();
        var cache = new SimpleMemoryCache
        {
            TimeProvider = clock,
            Plugins = [new ClockMovingPlugin(clock, TimeSpan.FromSeconds(5)), timing],
        };

        cache.Get<string>("k");

        Assert.That(timing[CacheCommand.Get].Count, Is.EqualTo(1));
        Assert.That(timing[CacheCommand.Get].Max, Is.EqualTo(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void TimingPlugin_totals_are_exact_under_concurrent_posts()
    {
        var plugin = new TimingPlugin();
        var cache = new SimpleMemoryCache();

        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                plugin.Post(new CacheCommandContext(cache, CacheCommand.Get, "k", null, null, null, null) { Elapsed = TimeSpan.FromTicks(1 + (i % 3)) });
            }
        });

        var get = plugin[CacheCommand.Get];
        Assert.That(get.Count, Is.EqualTo(80_000));
        Assert.That(get.Total, Is.EqualTo(TimeSpan.FromTicks(8 * ((3334 * 1) + (3333 * 2) + (3333 * 3)))));
        Assert.That(get.Min, Is.EqualTo(TimeSpan.FromTicks(1)));
        Assert.That(get.Max, Is.EqualTo(TimeSpan.FromTicks(3)));
    }

    // ---- user plugins ----

    [Test]
    public void A_user_plugin_counting_sets_sees_every_successful_set()
    {
        var plugin = new SetCountingPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        cache.Set("a", 1);
        cache.Set("b", 2);
        cache.Set("a", 3);
        cache.MultiSet(new Dictionary<string, int> { ["c"] = 4 });
        cache.Add("d", 5);
        cache.Get<int>("a");

        Assert.That(plugin.Sets, Is.EqualTo(3));
        Assert.That(plugin.Keys, Is.EqualTo(new[] { "a", "b", "a" }));
    }

    [Test]
    public async Task A_user_plugin_sees_the_async_sets_too()
    {
        var plugin = new SetCountingPlugin();
        var cache = new SimpleMemoryCache { Plugins = [plugin] };

        await cache.SetAsync("a", 1);
        await cache.SetAsync("b", 2);

        Assert.That(plugin.Sets, Is.EqualTo(2));
    }

    [Test]
    public void One_plugin_instance_can_serve_several_caches()
    {
        var plugin = new HitMissRatioPlugin();
        var first = new SimpleMemoryCache { Plugins = [plugin] };
        var second = new SimpleMemoryCache { Plugins = [plugin] };
        first.Set("k", "v");

        first.Get<string>("k");
        second.Get<string>("k");

        Assert.That((plugin.Hits, plugin.Total), Is.EqualTo((1L, 2L)));
    }

    [Test]
    public void A_hook_that_throws_stops_the_hooks_after_it_and_reaches_the_caller_as_it_is([Values] bool inPre)
    {
        // plugins.md: a pre hook's exception stops the command before it is sent; a post hook's comes after the
        // command succeeded. Either way the plugins after it are not called, and the exception is the hook's own.
        var log = new List<string>();
        var first = new RecordingPlugin("first", log);
        var throwing = inPre
            ? new LambdaPlugin(pre: static context => Refuse(context))
            : new LambdaPlugin(post: static context => Refuse(context));
        var last = new RecordingPlugin("last", log);
        using var cache = new SimpleMemoryCache { Plugins = [first, throwing, last] };

        var error = Assert.Throws<InvalidOperationException>(() => cache.Set("k", "v"));

        Assert.That(error!.Message, Is.EqualTo("refused"));
        Assert.That(log, Is.EqualTo(inPre ? new[] { "first.Pre Set" } : new[] { "first.Pre Set", "last.Pre Set", "first.Post Set" }));
        Assert.That(cache.Exists("k"), Is.EqualTo(!inPre), "the write is made only when the pre hooks let it through");

        static void Refuse(CacheCommandContext context)
        {
            if (context.Command == CacheCommand.Set)
            {
                throw new InvalidOperationException("refused");
            }
        }
    }

    private sealed class LambdaPlugin(Action<CacheCommandContext>? pre = null, Action<CacheCommandContext>? post = null) : ICachePlugin
    {
        public void Pre(CacheCommandContext context) => pre?.Invoke(context);

        public void Post(CacheCommandContext context) => post?.Invoke(context);
    }
}
