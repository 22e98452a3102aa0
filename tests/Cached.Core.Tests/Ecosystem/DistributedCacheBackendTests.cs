using Cached.Distributed;
using Cached.MultiLevel;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Cached.Tests.Ecosystem;

/// <summary>Any IDistributedCache as a Cached backend, here Microsoft's MemoryDistributedCache: what works, what is refused and why.</summary>
public sealed class DistributedCacheBackendTests
{
    private MemoryDistributedCache _store = null!;
    private DistributedCacheBackend _cache = null!;

    [SetUp]
    public void Create()
    {
        _store = new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions()));
        _cache = new DistributedCacheBackend(_store) { Namespace = "app" };
    }

    [TearDown]
    public void Dispose() => _cache.Dispose();

    [Test]
    public async Task Values_round_trip_as_JSON_under_the_namespaced_key([Values] bool async)
    {
        var order = new Order(7, ["tea", "milk"]);
        if (async)
        {
            await _cache.SetAsync("order:7", order);
        }
        else
        {
            _cache.Set("order:7", order);
        }

        Assert.That(System.Text.Encoding.UTF8.GetString(_store.Get("app:order:7")!), Is.EqualTo("""{"Id":7,"Items":["tea","milk"]}"""));
        Assert.That(async ? await _cache.GetAsync<Order>("order:7") : _cache.Get<Order>("order:7"), Is.EqualTo(order).Using<Order>(Same));
    }

    [Test]
    public async Task Exists_Delete_and_the_batch_commands_work_key_by_key([Values] bool async)
    {
        if (async)
        {
            await _cache.MultiSetAsync<int>([new("a", 1), new("b", 2)]);
            Assert.That(await _cache.MultiGetAsync<int>(["a", "b", "c"]), Is.EqualTo(new[] { 1, 2, 0 }));
            Assert.That(await _cache.ExistsAsync("a"), Is.True);
            Assert.That(await _cache.DeleteAsync("a"), Is.EqualTo(1));
            Assert.That(await _cache.DeleteAsync("a"), Is.EqualTo(0));
            Assert.That(await _cache.ExistsAsync("a"), Is.False);
        }
        else
        {
            _cache.MultiSet<int>([new("a", 1), new("b", 2)]);
            Assert.That(_cache.MultiGet<int>(["a", "b", "c"]), Is.EqualTo(new[] { 1, 2, 0 }));
            Assert.That(_cache.Exists("a"), Is.True);
            Assert.That(_cache.Delete("a"), Is.EqualTo(1));
            Assert.That(_cache.Delete("a"), Is.EqualTo(0));
            Assert.That(_cache.Exists("a"), Is.False);
        }
    }

    [Test]
    public async Task An_entry_expires_with_its_time_to_live()
    {
        _cache.Set("short", 1, TimeSpan.FromMilliseconds(50));
        _cache.Set("long", 2, TimeSpan.FromMinutes(5));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (_cache.Exists("short"))
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the entry never expired");
            await Task.Delay(20);
        }

        Assert.That(_cache.Get<int>("long"), Is.EqualTo(2));
    }

    [Test]
    public async Task GetOrSet_and_its_single_flight_work_over_it()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var callers = Enumerable.Range(0, 6)
            .Select(_ => _cache.GetOrSetAsync("k", async ct => { Interlocked.Increment(ref calls); return await gate.Task; }).AsTask())
            .ToArray();

        gate.SetResult(5);

        Assert.That(await Task.WhenAll(callers), Is.All.EqualTo(5));
        Assert.That(calls, Is.EqualTo(1));
        Assert.That(await _cache.GetAsync<int>("k"), Is.EqualTo(5));
    }

    [TestCase("Add")]
    [TestCase("Increment")]
    [TestCase("Expire")]
    [TestCase("Clear")]
    [TestCase("Raw")]
    [TestCase("AddAsync")]
    [TestCase("IncrementAsync")]
    [TestCase("ExpireAsync")]
    [TestCase("ClearAsync")]
    public void A_command_the_interface_cannot_do_atomically_is_refused_by_name(string command)
    {
        _cache.Set("k", 1);
        Func<Task> call = command switch
        {
            "Add" => () => Task.FromResult(_cache.Add("new", 1)),
            "Increment" => () => Task.FromResult(_cache.Increment("k")),
            "Expire" => () => Task.FromResult(_cache.Expire("k", TimeSpan.FromSeconds(1))),
            "Clear" => () => Task.FromResult(_cache.Clear()),
            "Raw" => () => Task.FromResult(_cache.Raw("get", ["k"])),
            "AddAsync" => async () => await _cache.AddAsync("new", 1),
            "IncrementAsync" => async () => await _cache.IncrementAsync("k"),
            "ExpireAsync" => async () => await _cache.ExpireAsync("k", TimeSpan.FromSeconds(1)),
            _ => async () => await _cache.ClearAsync(),
        };

        var refusal = Assert.ThrowsAsync<NotSupportedException>(() => call());
        Assert.That(refusal!.Message, Does.StartWith("DistributedCacheBackend cannot do").And.Contain(nameof(MemoryDistributedCache)));
        Assert.That(_cache.Get<int>("k"), Is.EqualTo(1), "nothing was changed");
    }

    [Test]
    public void A_tagged_entry_is_refused_and_a_plain_one_still_stored()
    {
        // A tag record must be created only where none is; invalidating a tag (a plain write of a new version) is harmless.
        Assert.That(() => _cache.Set("tagged", 1, new CacheEntryOptions { Tags = ["t"] }), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("tags"));
        Assert.That(async () => await _cache.GetOrSetAsync("tagged", _ => ValueTask.FromResult(1), new CacheEntryOptions { Tags = ["t"] }), Is.EqualTo(1), "read-through fails open");
        Assert.That(_cache.Exists("tagged"), Is.False, "and stores nothing");
        Assert.That(() => _cache.InvalidateTags("t"), Throws.Nothing);
        Assert.That(_cache.Set("plain", 2, new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1) }), Is.True);
        Assert.That(_cache.Get<int>("plain"), Is.EqualTo(2));
    }

    [Test]
    public void A_provider_failure_is_a_CacheBackendException_flagged_unreachable_for_a_socket_error()
    {
        using var cache = new DistributedCacheBackend(new UnreachableStore());

        var failure = Assert.Throws<CacheBackendException>(() => cache.Get<int>("k"));
        Assert.That(failure!.Unreachable, Is.True);
        Assert.That(failure.Message, Does.Contain("'k'"));
        Assert.ThrowsAsync<CacheBackendException>(async () => await cache.SetAsync("k", 1));
    }

    [Test]
    public async Task It_serves_as_the_second_level_of_a_two_level_cache()
    {
        var l2 = new DistributedCacheBackend(_store);
        using var twoLevels = new MultiLevelCache(new SimpleMemoryCache(), l2, new MemoryBackplane());

        await twoLevels.SetAsync("k", "v");
        twoLevels.L1.Clear();

        Assert.That(await twoLevels.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That(twoLevels.L1.Exists("k"), Is.True, "copied into L1");
        Assert.That(await twoLevels.DeleteAsync("k"), Is.EqualTo(1));
        Assert.That(_store.Get("k"), Is.Null);
    }

    [Test]
    public async Task An_L1_copy_of_an_entry_read_from_it_lives_CopyLife_at_most()
    {
        // Regression: the provider cannot tell an entry's remaining life, and a copy kept for ever outlived the entry.
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var twoLevels = new MultiLevelCache(new SimpleMemoryCache { TimeProvider = time }, new DistributedCacheBackend(_store) { CopyLife = TimeSpan.FromSeconds(30) }, new MemoryBackplane());
        await twoLevels.L2.SetAsync("k", "v", TimeSpan.FromMinutes(5));

        Assert.That(await twoLevels.GetAsync<string>("k"), Is.EqualTo("v"));
        Assert.That(twoLevels.L1.Exists("k"), Is.True);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.That(twoLevels.L1.Exists("k"), Is.False);
        Assert.That(() => new DistributedCacheBackend(_store) { CopyLife = TimeSpan.Zero }, Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void The_store_is_disposed_with_the_cache_only_when_asked()
    {
        var kept = new DisposableStore();
        var owned = new DisposableStore();
        new DistributedCacheBackend(kept).Dispose();
        new DistributedCacheBackend(owned) { DisposeStore = true }.Dispose();

        Assert.That(kept.Disposed, Is.False);
        Assert.That(owned.Disposed, Is.True);
        Assert.That(() => new DistributedCacheBackend(null!), Throws.ArgumentNullException.With.Property("ParamName").EqualTo("store"));
    }

    private static bool Same(Order a, Order b) => a.Id == b.Id && a.Items.SequenceEqual(b.Items);

    public sealed record Order(int Id, string[] Items);

    private sealed class DisposableStore : IDistributedCache, IDisposable
    {
        private readonly MemoryDistributedCache _inner = new(Options.Create(new MemoryDistributedCacheOptions()));

        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;

        public byte[]? Get(string key) => _inner.Get(key);

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => _inner.GetAsync(key, token);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _inner.Set(key, value, options);

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) => _inner.SetAsync(key, value, options, token);

        public void Refresh(string key) => _inner.Refresh(key);

        public Task RefreshAsync(string key, CancellationToken token = default) => _inner.RefreshAsync(key, token);

        public void Remove(string key) => _inner.Remove(key);

        public Task RemoveAsync(string key, CancellationToken token = default) => _inner.RemoveAsync(key, token);
    }
}
