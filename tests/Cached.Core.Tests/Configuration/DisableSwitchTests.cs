using Cached.Plugins;

namespace Cached.Tests.Configuration;

public class DisableSwitchTests
{
    private CountingPlugin _plugin = null!;
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        Environment.SetEnvironmentVariable(Cache.DisableVariable, null);
        Cache.Disabled = false;
        _plugin = new CountingPlugin();
        _cache = new SimpleMemoryCache { Plugins = [_plugin] };
    }

    [TearDown]
    public void TearDown()
    {
        Environment.SetEnvironmentVariable(Cache.DisableVariable, null);
        Cache.Disabled = false;
        _cache.Dispose();
    }

    /// <summary>Stores "existing" = "value" and "counter" = 5 while caching is on, then resets the plugin's counts.</summary>
    private void Seed()
    {
        _cache.Set("existing", "value");
        _cache.Set("counter", 5L);
        _plugin.Reset();
    }

    /// <summary>Turns caching back on and checks the store holds exactly what <see cref="Seed"/> wrote.</summary>
    private void AssertStoreUnchanged()
    {
        Cache.Disabled = false;
        Assert.That(_cache.Count, Is.EqualTo(2));
        Assert.That(_cache.Get<string>("existing"), Is.EqualTo("value"));
        Assert.That(_cache.Get<long>("counter"), Is.EqualTo(5L));
        Assert.That(_cache.Exists("new"), Is.False);
        Assert.That(_cache.Exists("m1"), Is.False);
    }

    [Test]
    public void The_switch_is_off_by_default_in_tests()
    {
        Cache.ReloadDisableVariable();

        Assert.That(Cache.Disabled, Is.False);
        Assert.That(_cache.Set("k", "v"), Is.True);
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v"));
    }

    [Test]
    public void Get_returns_the_given_default_even_for_a_stored_key()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Get<string>("existing"), Is.Null);
        Assert.That(_cache.Get("existing", "fallback"), Is.EqualTo("fallback"));
        Assert.That(_cache.Get("absent", 42), Is.EqualTo(42));
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void TryGet_reports_a_miss_even_for_a_stored_key()
    {
        Seed();
        Cache.Disabled = true;

        var found = _cache.TryGet<string>("existing", out var value);

        Assert.That(found, Is.False);
        Assert.That(value, Is.Null);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Set_answers_true_and_writes_nothing()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Set("new", "v"), Is.True);
        Assert.That(_cache.Set("existing", "replaced"), Is.True);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Add_answers_true_and_writes_nothing_even_on_an_existing_key()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Add("new", "v"), Is.True);
        Assert.That(_cache.Add("existing", "other"), Is.True, "no KeyExistsException while disabled");
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void MultiSet_answers_true_and_writes_nothing()
    {
        Seed();
        Cache.Disabled = true;

        var stored = _cache.MultiSet(new Dictionary<string, string> { ["m1"] = "a", ["existing"] = "b" });

        Assert.That(stored, Is.True);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void MultiGet_returns_one_default_per_key()
    {
        Seed();
        Cache.Disabled = true;

        var values = _cache.MultiGet<string>(["existing", "absent", "existing"]);

        Assert.That(values, Is.EqualTo(new string?[] { null, null, null }));
        Assert.That(_cache.MultiGet<long>(["counter", "absent"]), Is.EqualTo(new[] { 0L, 0L }));
        Assert.That(_cache.MultiGet<string>([]), Is.Empty);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Exists_answers_false_for_a_stored_key()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Exists("existing"), Is.False);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Expire_answers_false_and_leaves_the_expiry()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var cache = new SimpleMemoryCache { TimeProvider = clock, Plugins = [_plugin] };
        cache.Set("existing", "value");
        _plugin.Reset();
        Cache.Disabled = true;

        Assert.That(cache.Expire("existing", TimeSpan.FromSeconds(1)), Is.False);
        Assert.That(_plugin.Calls, Is.Zero);

        Cache.Disabled = false;
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.That(cache.Get<string>("existing"), Is.EqualTo("value"), "the expiry was not applied");
    }

    [Test]
    public void Delete_answers_zero_and_removes_nothing()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Delete("existing"), Is.Zero);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Increment_answers_1_as_aiocache_fakes_it_and_leaves_the_counter()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Increment("counter", 3), Is.EqualTo(1));
        Assert.That(_cache.Increment("new"), Is.EqualTo(1));
        Assert.That(_cache.Increment("existing", -4), Is.EqualTo(1), "no CacheValueNotIntegerException while disabled");
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Clear_answers_true_and_removes_nothing()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Clear(), Is.True);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Raw_answers_null_and_runs_nothing()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(_cache.Raw("get", "existing"), Is.Null);
        Assert.That(_cache.Raw("clear"), Is.Null);
        Assert.That(_cache.Raw("set", "new", "v"), Is.Null);
        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public async Task Async_commands_return_the_fake_results_and_touch_nothing()
    {
        Seed();
        Cache.Disabled = true;

        Assert.That(await _cache.GetAsync<string>("existing"), Is.Null);
        Assert.That(await _cache.GetAsync("existing", "fallback"), Is.EqualTo("fallback"));
        var tried = await _cache.TryGetAsync<string>("existing");
        Assert.That(tried.Found, Is.False);
        Assert.That(tried.Value, Is.Null);
        Assert.That(await _cache.SetAsync("new", "v"), Is.True);
        Assert.That(await _cache.SetAsync("existing", "replaced"), Is.True);
        Assert.That(await _cache.AddAsync("existing", "other"), Is.True);
        Assert.That(await _cache.MultiSetAsync(new Dictionary<string, string> { ["m1"] = "a" }), Is.True);
        Assert.That(await _cache.MultiGetAsync<string>(["existing", "absent"]), Is.EqualTo(new string?[] { null, null }));
        Assert.That(await _cache.ExistsAsync("existing"), Is.False);
        Assert.That(await _cache.ExpireAsync("existing", TimeSpan.FromSeconds(1)), Is.False);
        Assert.That(await _cache.DeleteAsync("existing"), Is.Zero);
        Assert.That(await _cache.IncrementAsync("counter", 7), Is.EqualTo(1));
        Assert.That(await _cache.ClearAsync(), Is.True);
        Assert.That(await _cache.RawAsync("get", ["existing"]), Is.Null);
        Assert.That(await _cache.RawAsync("clear"), Is.Null);

        Assert.That(_plugin.Calls, Is.Zero);
        AssertStoreUnchanged();
    }

    [Test]
    public void Turning_the_switch_off_again_restores_normal_behaviour()
    {
        Cache.Disabled = true;
        _cache.Set("k", "v");
        Cache.Disabled = false;

        Assert.That(_cache.Get<string>("k"), Is.Null, "the write made while disabled was dropped");
        _cache.Set("k", "v");
        Assert.That(_cache.Get<string>("k"), Is.EqualTo("v"));
        Assert.That(_plugin.Calls, Is.EqualTo(6), "pre and post of one Get, one Set and one Get");
    }

    [Test]
    public async Task A_lock_is_taken_at_once_without_touching_the_store_and_one_taken_before_is_still_released([Values] bool async)
    {
        // As aiocache's add answers true while disabled: a lock held in the store does not hold anyone off, since
        // nothing is cached. A lock taken while caching was on is released all the same, or it would block for its lease.
        using var before = new RedLock(_cache, "held", TimeSpan.FromMinutes(1));
        Assert.That(before.IsAcquired, Is.True);
        _plugin.Reset();
        Cache.Disabled = true;

        // Bounded: a lock attempt that asks the store waits out the held lease (a minute).
        var taking = Task.Run(async () => async ? await RedLock.AcquireAsync(_cache, "held", TimeSpan.FromMinutes(1)) : new RedLock(_cache, "held", TimeSpan.FromMinutes(1)));
        await using (var off = await taking.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.That(off.IsAcquired, Is.True, "taken at once, though the store holds another lock");
            Assert.That(_plugin.Calls, Is.Zero, "the store was not asked");
        }

        before.Dispose();
        Cache.Disabled = false;
        Assert.That(_cache.Exists("held-lock"), Is.False, "the lock taken while on was released while off");
    }

    [Test]
    public void The_switch_applies_to_every_cache_instance()
    {
        var other = new SimpleMemoryCache { Namespace = "other" };
        other.Set("k", "v");
        Cache.Disabled = true;

        Assert.That(other.Get<string>("k"), Is.Null);
        Assert.That(other.Exists("k"), Is.False);
    }

    [Test]
    public void Setting_CACHE_DISABLE_to_1_and_reloading_disables_caching()
    {
        Seed();

        Environment.SetEnvironmentVariable("CACHE_DISABLE", "1");
        Cache.ReloadDisableVariable();

        Assert.That(Cache.Disabled, Is.True);
        Assert.That(_cache.Get("existing", "fallback"), Is.EqualTo("fallback"));
        Assert.That(_plugin.Calls, Is.Zero);

        Environment.SetEnvironmentVariable("CACHE_DISABLE", null);
        Cache.ReloadDisableVariable();

        Assert.That(Cache.Disabled, Is.False);
        Assert.That(_cache.Get<string>("existing"), Is.EqualTo("value"));
    }

    [TestCase("0")]
    [TestCase("true")]
    [TestCase("")]
    [TestCase("yes")]
    public void Only_the_value_1_disables_caching(string value)
    {
        Cache.Disabled = true;
        Environment.SetEnvironmentVariable("CACHE_DISABLE", value);

        Cache.ReloadDisableVariable();

        Assert.That(Cache.Disabled, Is.False);
    }

    [Test]
    public void The_variable_name_is_CACHE_DISABLE()
    {
        Assert.That(Cache.DisableVariable, Is.EqualTo("CACHE_DISABLE"));
    }

    private sealed class CountingPlugin : ICachePlugin
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public void Reset() => Volatile.Write(ref _calls, 0);

        public void Pre(CacheCommandContext context) => Interlocked.Increment(ref _calls);

        public void Post(CacheCommandContext context) => Interlocked.Increment(ref _calls);
    }
}
