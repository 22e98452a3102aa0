using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// A hold for generated bodies: the first body that calls <see cref="Hold"/> signals <see cref="Entered"/> and waits for
/// <see cref="Release"/> (bounded, so a forgotten release fails instead of hanging); later bodies pass through.
/// </summary>
public sealed class InvalidationGate
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);
    private int _taken;

    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => Released.TrySetResult();

    public Task Hold()
    {
        if (Interlocked.Exchange(ref _taken, 1) != 0)
        {
            return Task.CompletedTask;
        }

        Entered.TrySetResult();
        return Released.Task.WaitAsync(s_bound);
    }
}

/// <summary>
/// The generated methods of <see cref="OutsiderInvalidationReviewTests"/>, "process" A: alias <see cref="Alias"/>. Every
/// body answers "v{Version}-{key}" with the version read when the body starts, logs its call in <see cref="Calls"/>,
/// and awaits <see cref="Gate"/> (async bodies) when a test set one.
/// </summary>
public partial class InvalidationCatalogA
{
    public const string Alias = "outsider-invalidation-a";
    public const string SpaceOne = "oir-space-one";
    public const string SpaceTwo = "oir-space-two";

    public int Version { get; set; } = 1;

    public ConcurrentQueue<string> Calls { get; } = new();

    public InvalidationGate? Gate { get; set; }

    /// <summary>Run by <see cref="SaveAsyncCore"/> before it returns.</summary>
    public Action? OnSave { get; set; }

    public int CallsOf(string prefix) => Calls.Count(c => c.StartsWith(prefix + ":", StringComparison.Ordinal));

    private string V(object key) => $"v{Version}-{key}";

    private async Task HoldAsync()
    {
        if (Gate is { } gate)
        {
            await gate.Hold();
        }
    }

    private static string ManyKey(int id) => $"many:{id}";

    private static string UserKey(int id) => $"mu:{id}";

    private static string FoldedKey(string name) => "name:" + name.ToLowerInvariant();

    private static string CustomerKey(int id) => $"customer:{id}";

    // ---- [Cached] targets -------------------------------------------------------------------------------------------

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 60)]
    public partial Task<string> ItemAsync(int id);

    private async Task<string> ItemAsyncCore(int id)
    {
        var value = V(id);
        Calls.Enqueue("item:" + id);
        await HoldAsync();
        return value;
    }

    [Cached(Alias = Alias, Ttl = 60)]
    public partial string Plain(int id, string region);

    private string PlainCore(int id, string region)
    {
        Calls.Enqueue($"plain:{id}{region}");
        return V(id + region);
    }

    [Cached(Alias = Alias, Ttl = 60)]
    public partial string Price(int id);

    private string PriceCore(int id)
    {
        Calls.Enqueue("price-int:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Ttl = 60)]
    public partial string Price(long id);

    private string PriceCore(long id)
    {
        Calls.Enqueue("price-long:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Ttl = 60)]
    public partial string Find(int id);

    private string FindCore(int id)
    {
        Calls.Enqueue("find1:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Ttl = 60)]
    public partial string Find(int id, string region);

    private string FindCore(int id, string region)
    {
        Calls.Enqueue($"find2:{id}{region}");
        return V(id + region);
    }

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 60, Namespace = SpaceOne)]
    public partial string InSpaceOne(int id);

    private string InSpaceOneCore(int id)
    {
        Calls.Enqueue("space1:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 60, Namespace = SpaceTwo)]
    public partial string InSpaceTwo(int id);

    private string InSpaceTwoCore(int id)
    {
        Calls.Enqueue("space2:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Key = "tn:{id}", Ttl = 60)]
    public partial string Untagged(int id);

    private string UntaggedCore(int id)
    {
        Calls.Enqueue("untagged:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Ttl = 60, KeyBuilder = nameof(CustomerKey))]
    public partial string Customer(int id);

    private string CustomerCore(int id)
    {
        Calls.Enqueue("customer:" + id);
        return V(id);
    }

    // ---- [MultiCached] targets --------------------------------------------------------------------------------------

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(ManyKey))]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids);

    private async Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids)
    {
        var values = ids.ToDictionary(static id => id, id => V(id));
        Calls.Enqueue("many:" + string.Join(",", ids.Order()));
        await HoldAsync();
        return values;
    }

    [MultiCached(Alias = Alias, KeysFrom = "names", Ttl = 60, KeyBuilder = nameof(FoldedKey))]
    public partial Dictionary<string, string> Named(string[] names);

    private Dictionary<string, string> NamedCore(string[] names)
    {
        Calls.Enqueue("named:" + string.Join(",", names));
        return names.ToDictionary(static n => n, n => V(n));
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(CustomerKey))]
    public partial Dictionary<int, string> Customers(int[] ids);

    private Dictionary<int, string> CustomersCore(int[] ids)
    {
        Calls.Enqueue("customers:" + string.Join(",", ids.Order()));
        return ids.ToDictionary(static id => id, id => V(id));
    }

    // ---- tagged targets ---------------------------------------------------------------------------------------------

    [Cached(Alias = Alias, Key = "tu:{id}", Ttl = 60, Tags = new[] { "user:{id}", "users" })]
    public partial Task<string> UserAsync(int id);

    private async Task<string> UserAsyncCore(int id)
    {
        var value = V(id);
        Calls.Enqueue("user:" + id);
        await HoldAsync();
        return value;
    }

    [Cached(Alias = Alias, Key = "tp:{id}", Ttl = 60, Tags = new[] { "user:{id}" })]
    public partial string Profile(int id);

    private string ProfileCore(int id)
    {
        Calls.Enqueue("profile:" + id);
        return V(id);
    }

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 60, Namespace = SpaceTwo, Tags = new[] { "spaced:{id}" })]
    public partial string TaggedInSpaceTwo(int id);

    private string TaggedInSpaceTwoCore(int id)
    {
        Calls.Enqueue("tspace2:" + id);
        return V(id);
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(UserKey), Tags = new[] { "user:{ids}", "batch" })]
    public partial Task<Dictionary<int, string>> UsersAsync(IReadOnlyList<int> ids);

    private async Task<Dictionary<int, string>> UsersAsyncCore(IReadOnlyList<int> ids)
    {
        var values = ids.ToDictionary(static id => id, id => V(id));
        Calls.Enqueue("users:" + string.Join(",", ids.Order()));
        await HoldAsync();
        return values;
    }

    // ---- invalidating methods ---------------------------------------------------------------------------------------

    [InvalidateCache(nameof(ItemAsync))]
    public partial Task UpdateItemAsync(int id, CancellationToken ct);

    private Task UpdateItemAsyncCore(int id, CancellationToken ct) => Task.CompletedTask;

    [InvalidateCache(nameof(ItemAsync))]
    public partial void UpdateItem(int id);

    private void UpdateItemCore(int id)
    {
    }

    [InvalidateCache(nameof(ItemAsync))]
    public partial Task UpdateItemThenFailAsync(int id);

    private Task UpdateItemThenFailAsyncCore(int id) => Task.FromException(new InvalidOperationException("the write failed"));

    [InvalidateCache(nameof(Plain))]
    public partial void ForgetPlain(int id, string region);

    private void ForgetPlainCore(int id, string region)
    {
    }

    [InvalidateCache(nameof(Price))]
    public partial void ForgetPrice(int id);

    private void ForgetPriceCore(int id)
    {
    }

    [InvalidateCache(nameof(Price))]
    public partial void ForgetPrice(long id);

    private void ForgetPriceCore(long id)
    {
    }

    [InvalidateCache(nameof(Find))]
    public partial void ForgetFind(int id, string region);

    private void ForgetFindCore(int id, string region)
    {
    }

    [InvalidateCache(nameof(InSpaceOne))]
    public partial void ForgetSpaceOne(int id);

    private void ForgetSpaceOneCore(int id)
    {
    }

    [InvalidateCache(nameof(ManyAsync))]
    public partial Task ForgetManyAsync(IEnumerable<int>? ids, CancellationToken ct);

    private Task ForgetManyAsyncCore(IEnumerable<int>? ids, CancellationToken ct) => Task.CompletedTask;

    [InvalidateCache(nameof(ManyAsync))]
    public partial void ForgetOne(int ids);

    private void ForgetOneCore(int ids)
    {
    }

    [InvalidateCache(nameof(Named))]
    public partial void ForgetNamed(IEnumerable<string> names);

    private void ForgetNamedCore(IEnumerable<string> names)
    {
    }

    [InvalidateCache(nameof(ItemAsync), nameof(ManyAsync))]
    public partial Task ForgetBothAsync(int id, int[] ids, CancellationToken ct);

    private Task ForgetBothAsyncCore(int id, int[] ids, CancellationToken ct) => Task.CompletedTask;

    [InvalidateCache(nameof(Customer))]
    public partial void RenameCustomer(int id);

    private void RenameCustomerCore(int id)
    {
    }

    [InvalidateTags("user:{id}")]
    public partial Task RenameAsync(int id, CancellationToken ct);

    private Task RenameAsyncCore(int id, CancellationToken ct)
    {
        OnSave?.Invoke();
        return Task.CompletedTask;
    }

    [InvalidateTags("user:{id}")]
    public partial void Rename(int id);

    private void RenameCore(int id)
    {
    }

    [InvalidateTags("users")]
    public partial void ForgetAllUsers();

    private void ForgetAllUsersCore()
    {
    }

    [InvalidateTags("spaced:{id}")]
    public partial void ForgetSpaced(int id);

    private void ForgetSpacedCore(int id)
    {
    }

    // After the body: the untagged entry of this id is deleted, then the tag "user:{id}" invalidated.
    [InvalidateCache(nameof(Untagged))]
    [InvalidateTags("user:{id}")]
    public partial Task SaveAsync(int id, CancellationToken ct);

    private Task SaveAsyncCore(int id, CancellationToken ct)
    {
        OnSave?.Invoke();
        return Task.CompletedTask;
    }
}

/// <summary>
/// "Process" B: the same keys, tags and key builders as <see cref="InvalidationCatalogA"/>, on alias
/// <see cref="Alias"/>, which the tests point at a cache with a connection of its own (or at another two-level node).
/// </summary>
public partial class InvalidationCatalogB
{
    public const string Alias = "outsider-invalidation-b";

    public int Version { get; set; } = 1;

    public ConcurrentQueue<string> Calls { get; } = new();

    public int CallsOf(string prefix) => Calls.Count(c => c.StartsWith(prefix + ":", StringComparison.Ordinal));

    private string V(object key) => $"v{Version}-{key}";

    private static string ManyKey(int id) => $"many:{id}";

    [Cached(Alias = Alias, Key = "item:{id}", Ttl = 60)]
    public partial Task<string> ItemAsync(int id);

    private Task<string> ItemAsyncCore(int id)
    {
        Calls.Enqueue("item:" + id);
        return Task.FromResult(V(id));
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, KeyBuilder = nameof(ManyKey))]
    public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids);

    private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids)
    {
        Calls.Enqueue("many:" + string.Join(",", ids.Order()));
        return Task.FromResult(ids.ToDictionary(static id => id, id => V(id)));
    }

    [Cached(Alias = Alias, Key = "tu:{id}", Ttl = 60, Tags = new[] { "user:{id}", "users" })]
    public partial Task<string> UserAsync(int id);

    private Task<string> UserAsyncCore(int id)
    {
        Calls.Enqueue("user:" + id);
        return Task.FromResult(V(id));
    }

    [InvalidateCache(nameof(ItemAsync))]
    public partial Task UpdateItemAsync(int id, CancellationToken ct);

    private Task UpdateItemAsyncCore(int id, CancellationToken ct) => Task.CompletedTask;

    [InvalidateCache(nameof(ManyAsync))]
    public partial Task ForgetManyAsync(IEnumerable<int> ids, CancellationToken ct);

    private Task ForgetManyAsyncCore(IEnumerable<int> ids, CancellationToken ct) => Task.CompletedTask;

    [InvalidateTags("user:{id}")]
    public partial Task RenameAsync(int id, CancellationToken ct);

    private Task RenameAsyncCore(int id, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// An outsider's review of invalidation on a real redis-server (the shared loopback one): <c>[InvalidateCache]</c>
/// naming <c>[Cached]</c> and <c>[MultiCached]</c> targets, <c>[InvalidateTags]</c> and <c>InvalidateTags(Async)</c>,
/// namespaces, fills and batches that race an invalidation (ordered with gates the bodies wait on), two "processes"
/// (caches on connections of their own), two-level nodes with a <see cref="RedisBackplane"/>, and cancelled
/// invalidating calls. Each test cites the sentence of docs/decorators.md, docs/tags.md, docs/reliability.md or
/// docs/multilevel.md it checks.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderInvalidationReviewTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private readonly List<object> _owned = [];
    private ConnectionMultiplexer _direct = null!;
    private RedisCache _a = null!;
    private RedisCache _b = null!;
    private InvalidationCatalogA _catalog = null!;
    private InvalidationCatalogB _other = null!;
    private string _space = null!;

    private static string Server => SharedRedis.Server.ConnectionString;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        _space = "oir" + Guid.NewGuid().ToString("N")[..8];
        _direct = ConnectionMultiplexer.Connect(Server + ",allowAdmin=true,name=oir-direct-" + _space);
        _a = Process("a", _space);
        _b = Process("b", _space);
        Caches.AddInstance(InvalidationCatalogA.Alias, _a);
        Caches.AddInstance(InvalidationCatalogB.Alias, _b);
        _catalog = new InvalidationCatalogA();
        _other = new InvalidationCatalogB();
    }

    [TearDown]
    public async Task TearDown()
    {
        try
        {
            await _direct.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
            using var cleaner = new RedisCache { Connection = _direct };
            foreach (var space in new[] { _space, _space + "-other", InvalidationCatalogA.SpaceOne, InvalidationCatalogA.SpaceTwo })
            {
                await cleaner.ClearAsync(space);
            }
        }
        finally
        {
            Caches.Reset();
            foreach (var owned in Enumerable.Reverse(_owned))
            {
                try
                {
                    switch (owned)
                    {
                        case IAsyncDisposable asyncDisposable:
                            await asyncDisposable.DisposeAsync();
                            break;
                        case IDisposable disposable:
                            disposable.Dispose();
                            break;
                    }
                }
                catch (Exception ex) when (ex is RedisException or ObjectDisposedException or InvalidOperationException)
                {
                    // Already gone.
                }
            }

            _owned.Clear();
            _direct.Dispose();
        }
    }

    private ConnectionMultiplexer Connection(string name)
    {
        var connection = ConnectionMultiplexer.Connect(Server + ",name=oir-" + name + "-" + _space);
        _owned.Add(connection);
        return connection;
    }

    /// <summary>A "process": a RedisCache on a multiplexer of its own.</summary>
    private RedisCache Process(string name, string space)
    {
        var cache = new RedisCache { Connection = Connection(name), Namespace = space, Timeout = TimeSpan.FromSeconds(8) };
        _owned.Add(cache);
        return cache;
    }

    /// <summary>A two-level node: its own L1, L2 connection and backplane.</summary>
    private MultiLevelCache Node(string name)
    {
        var node = new MultiLevelCache(
            new SimpleMemoryCache(),
            new RedisCache { Connection = Connection("l2-" + name), Namespace = _space, Timeout = TimeSpan.FromSeconds(8) },
            new RedisBackplane(Server + ",name=oir-bp-" + name + "-" + _space));
        _owned.Add(node);
        return node;
    }

    private async Task<bool> RawExistsAsync(string key, string? space = null)
        => await _direct.GetDatabase().KeyExistsAsync((space ?? _space) + ":" + key);

    private async Task<string?> RawAsync(string key)
    {
        var value = await _direct.GetDatabase().StringGetAsync(_space + ":" + key);
        return value.IsNull ? null : value.ToString();
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or the bound passes; returns whether it held.</summary>
    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + s_bound;
        while (DateTime.UtcNow < until)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return await condition();
    }

    /// <summary>Pauses every write command (scripts included) on the server for up to 5 s; UNPAUSE ends it early.</summary>
    private Task PauseWritesAsync() => _direct.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "5000", "WRITE");

    private Task UnpauseAsync() => _direct.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");

    private static CacheEntryOptions Tagged(params string[] tags) => new() { Ttl = TimeSpan.FromMinutes(1), Tags = tags };

    // ================================================================================================================
    // [InvalidateCache] naming [Cached] targets
    // ================================================================================================================

    [Test]
    public async Task Async_InvalidateCache_drops_exactly_the_named_key_and_keeps_the_others()
    {
        // decorators.md [InvalidateCache]: "After the body returns (awaited for Task/ValueTask methods), the entries of
        // the named [Cached] methods are deleted, their keys built from this method's parameters".
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        Assert.That(await _catalog.ItemAsync(2), Is.EqualTo("v1-2"));
        _catalog.Version = 2;

        await _catalog.UpdateItemAsync(1, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(await RawExistsAsync("item:1"), Is.False, "the named key is gone from Redis");
            Assert.That(await RawExistsAsync("item:2"), Is.True, "the other key stays");
            Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v2-1"));
            Assert.That(await _catalog.ItemAsync(2), Is.EqualTo("v1-2"));
            Assert.That(_catalog.CallsOf("item"), Is.EqualTo(3));
        });
    }

    [Test]
    public async Task Sync_InvalidateCache_drops_exactly_the_named_key()
    {
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        Assert.That(await _catalog.ItemAsync(2), Is.EqualTo("v1-2"));
        _catalog.Version = 2;

        _catalog.UpdateItem(2);

        Assert.That((await _catalog.ItemAsync(1), await _catalog.ItemAsync(2)), Is.EqualTo(("v1-1", "v2-2")));
    }

    [Test]
    public async Task An_invalidating_body_that_throws_deletes_nothing()
    {
        // decorators.md: "An exception from the body skips the invalidation".
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        _catalog.Version = 2;

        Assert.ThrowsAsync<InvalidOperationException>(() => _catalog.UpdateItemThenFailAsync(1));

        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        Assert.That(_catalog.CallsOf("item"), Is.EqualTo(1));
    }

    [Test]
    public void A_default_key_target_loses_only_the_entry_of_the_same_arguments()
    {
        // decorators.md: the default key is Namespace.Type.Method(args); [InvalidateCache] builds the same key.
        _catalog.Plain(1, "eu");
        _catalog.Plain(1, "us");
        _catalog.Plain(2, "eu");
        _catalog.Version = 2;

        _catalog.ForgetPlain(1, "eu");

        Assert.Multiple(() =>
        {
            Assert.That(_catalog.Plain(1, "eu"), Is.EqualTo("v2-1eu"));
            Assert.That(_catalog.Plain(1, "us"), Is.EqualTo("v1-1us"));
            Assert.That(_catalog.Plain(2, "eu"), Is.EqualTo("v1-2eu"));
            Assert.That(_catalog.CallsOf("plain"), Is.EqualTo(4));
        });
    }

    [Test]
    public void Overloads_by_parameter_type_are_invalidated_each_by_its_own_invalidating_overload()
    {
        // decorators.md Overloads: "Price(int) and Price(long) never share an entry"; each ForgetPrice overload builds
        // the key of the Price overload whose parameters it has (same names and types).
        _catalog.Price(1);
        _catalog.Price(1L);
        _catalog.Version = 2;

        _catalog.ForgetPrice(1);

        Assert.That((_catalog.Price(1), _catalog.Price(1L)), Is.EqualTo(("v2-1", "v1-1")), "only Price(int) was dropped");

        _catalog.Version = 3;
        _catalog.ForgetPrice(1L);

        Assert.That((_catalog.Price(1), _catalog.Price(1L)), Is.EqualTo(("v2-1", "v3-1")), "then only Price(long)");
    }

    [Test]
    public void An_invalidating_method_with_an_overloads_exact_parameters_drops_that_overloads_entry()
    {
        // decorators.md [InvalidateCache]: "the entries of the named [Cached] methods are deleted, their keys built from
        // this method's parameters of the same names and types". ForgetFind(int id, string region) names Find, and
        // Find(int id, string region) has exactly its parameters: that entry must not be served stale afterwards.
        _catalog.Find(1);
        _catalog.Find(1, "eu");
        _catalog.Version = 2;

        _catalog.ForgetFind(1, "eu");

        Assert.That(_catalog.Find(1, "eu"), Is.EqualTo("v2-1eu"), "Find(1, \"eu\") must be recomputed after ForgetFind(1, \"eu\")");
    }

    [Test]
    public void An_invalidation_in_one_namespace_leaves_the_same_key_in_another()
    {
        // decorators.md: the entry "is deleted under the key the target's own calls use (... its Namespace)".
        _catalog.InSpaceOne(1);
        _catalog.InSpaceTwo(1);
        _catalog.Version = 2;

        _catalog.ForgetSpaceOne(1);

        Assert.Multiple(async () =>
        {
            Assert.That(await RawExistsAsync("item:1", InvalidationCatalogA.SpaceOne), Is.False);
            Assert.That(await RawExistsAsync("item:1", InvalidationCatalogA.SpaceTwo), Is.True);
            Assert.That(_catalog.InSpaceOne(1), Is.EqualTo("v2-1"));
            Assert.That(_catalog.InSpaceTwo(1), Is.EqualTo("v1-1"));
        });
    }

    [Test]
    public async Task An_invalidation_on_a_cache_of_one_namespace_leaves_another_caches_namespace()
    {
        // Two applications with their own namespaces on one server: A's [InvalidateCache] deletes in A's namespace only.
        var elsewhere = Process("b2", _space + "-other");
        Caches.AddInstance(InvalidationCatalogB.Alias, elsewhere);
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        Assert.That(await _other.ItemAsync(1), Is.EqualTo("v1-1"));
        _catalog.Version = 2;
        _other.Version = 2;

        await _catalog.UpdateItemAsync(1, CancellationToken.None);

        Assert.That((await _catalog.ItemAsync(1), await _other.ItemAsync(1)), Is.EqualTo(("v2-1", "v1-1")));
    }

    // ================================================================================================================
    // [InvalidateCache] naming [MultiCached] targets
    // ================================================================================================================

    [Test]
    public async Task A_collection_of_keys_drops_those_keys_entries_and_the_batch_recomputes_only_them()
    {
        // decorators.md: "Each key's entry is deleted under the key the target's own calls use (its KeyBuilder, if any,
        // and its Namespace); the other keys' entries stay."
        await _catalog.ManyAsync([1, 2, 3, 4]);
        _catalog.Version = 2;

        await _catalog.ForgetManyAsync([1, 3], CancellationToken.None);

        var again = await _catalog.ManyAsync([1, 2, 3, 4]);
        Assert.Multiple(() =>
        {
            Assert.That(again, Is.EqualTo(new Dictionary<int, string> { [1] = "v2-1", [2] = "v1-2", [3] = "v2-3", [4] = "v1-4" }));
            Assert.That(_catalog.Calls, Is.EqualTo(new[] { "many:1,2,3,4", "many:1,3" }));
        });
    }

    [Test]
    public async Task One_key_of_the_key_type_drops_that_entry_alone()
    {
        await _catalog.ManyAsync([1, 2]);
        _catalog.Version = 2;

        _catalog.ForgetOne(2);

        Assert.That(await RawExistsAsync("many:2"), Is.False);
        Assert.That(await _catalog.ManyAsync([1, 2]), Is.EqualTo(new Dictionary<int, string> { [1] = "v1-1", [2] = "v2-2" }));
    }

    [Test]
    public async Task A_null_collection_drops_nothing()
    {
        // decorators.md: "(IEnumerable<TKey>, an array, a list, a set...; null drops nothing)".
        await _catalog.ManyAsync([1, 2]);
        _catalog.Version = 2;

        await _catalog.ForgetManyAsync(null, CancellationToken.None);

        Assert.That(await _catalog.ManyAsync([1, 2]), Is.EqualTo(new Dictionary<int, string> { [1] = "v1-1", [2] = "v1-2" }));
        Assert.That(_catalog.CallsOf("many"), Is.EqualTo(1));
    }

    [Test]
    public async Task Keys_are_mapped_through_the_targets_KeyBuilder()
    {
        // decorators.md: "Each key's entry is deleted under the key the target's own calls use (its KeyBuilder...)":
        // the builder folds case, so forgetting "ADA" drops the entry "Ada" was stored under.
        _catalog.Named(["Ada", "Bob"]);
        _catalog.Version = 2;

        _catalog.ForgetNamed(["ADA"]);

        Assert.Multiple(async () =>
        {
            Assert.That(await RawExistsAsync("name:ada"), Is.False);
            Assert.That(await RawExistsAsync("name:bob"), Is.True);
            Assert.That(_catalog.Named(["Ada", "Bob"]), Is.EqualTo(new Dictionary<string, string> { ["Ada"] = "v2-Ada", ["Bob"] = "v1-Bob" }));
        });
    }

    [Test]
    public async Task One_method_naming_a_Cached_and_a_MultiCached_target_drops_both_and_nothing_else()
    {
        // decorators.md: "Several methods can be named ... An async method starts all their deletes before it awaits any,
        // the keys of a [MultiCached] target's too".
        await _catalog.ItemAsync(1);
        await _catalog.ItemAsync(2);
        await _catalog.ManyAsync([1, 2]);
        _catalog.Version = 2;

        await _catalog.ForgetBothAsync(1, [2], CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v2-1"));
            Assert.That(await _catalog.ItemAsync(2), Is.EqualTo("v1-2"));
            Assert.That(await _catalog.ManyAsync([1, 2]), Is.EqualTo(new Dictionary<int, string> { [1] = "v1-1", [2] = "v2-2" }));
        });
    }

    [Test]
    public void A_Cached_and_a_MultiCached_method_sharing_a_KeyBuilder_share_the_invalidation()
    {
        // decorators.md "One set of entries": "[InvalidateCache(nameof(Get))] ... Drops CustomerKey(id), the entry both
        // methods read."
        _catalog.Customers([1, 2]);
        Assert.That(_catalog.Customer(1), Is.EqualTo("v1-1"), "the single-key method reads the batch's entry");
        _catalog.Version = 2;

        _catalog.RenameCustomer(1);

        Assert.That(_catalog.Customers([1, 2]), Is.EqualTo(new Dictionary<int, string> { [1] = "v2-1", [2] = "v1-2" }));
        Assert.That(_catalog.Calls, Is.EqualTo(new[] { "customers:1,2", "customers:1" }));
    }

    // ================================================================================================================
    // [InvalidateTags] and InvalidateTags(Async)
    // ================================================================================================================

    [Test]
    public async Task InvalidateTags_drops_the_tagged_entries_of_every_method_and_keeps_other_tags_and_untagged_ones()
    {
        // decorators.md Tags: "After the body runs, the entries tagged "user:{id}" miss, in both methods above; other
        // users' entries stay."
        await _catalog.UserAsync(1);
        await _catalog.UserAsync(2);
        _catalog.Profile(1);
        _catalog.Untagged(1);
        _catalog.Version = 2;

        await _catalog.RenameAsync(1, CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(await _catalog.UserAsync(1), Is.EqualTo("v2-1"));
            Assert.That(_catalog.Profile(1), Is.EqualTo("v2-1"));
            Assert.That(await _catalog.UserAsync(2), Is.EqualTo("v1-2"));
            Assert.That(_catalog.Untagged(1), Is.EqualTo("v1-1"));
        });
    }

    [Test]
    public async Task A_shared_tag_drops_every_entry_that_carries_it_and_no_other()
    {
        await _catalog.UserAsync(1);
        await _catalog.UserAsync(2);
        _catalog.Profile(1);
        _catalog.Version = 2;

        _catalog.ForgetAllUsers();

        Assert.That((await _catalog.UserAsync(1), await _catalog.UserAsync(2), _catalog.Profile(1)), Is.EqualTo(("v2-1", "v2-2", "v1-1")));
    }

    [Test]
    public async Task A_per_key_tag_of_a_MultiCached_batch_drops_that_key_alone()
    {
        // decorators.md Tags: "In a [MultiCached] tag the KeysFrom parameter stands for each entry's own key, so each entry
        // gets a tag of its own."
        await _catalog.UsersAsync([1, 2, 3]);
        _catalog.Version = 2;

        _catalog.Rename(2);

        Assert.That(await _catalog.UsersAsync([1, 2, 3]), Is.EqualTo(new Dictionary<int, string> { [1] = "v1-1", [2] = "v2-2", [3] = "v1-3" }));
        Assert.That(_catalog.Calls, Is.EqualTo(new[] { "users:1,2,3", "users:2" }));
    }

    [Test]
    public void A_tag_invalidation_reaches_a_methods_entries_in_another_namespace_of_the_same_cache()
    {
        // tags.md: InvalidateTags makes every entry that carries the tag a miss, "whatever its key, its method or its namespace".
        _catalog.TaggedInSpaceTwo(1);
        _catalog.TaggedInSpaceTwo(2);
        _catalog.Version = 2;

        _catalog.ForgetSpaced(1);

        Assert.That((_catalog.TaggedInSpaceTwo(1), _catalog.TaggedInSpaceTwo(2)), Is.EqualTo(("v2-1", "v1-2")));
    }

    [Test]
    public async Task The_cache_API_drops_tagged_entries_for_plain_and_read_through_reads_in_both_processes()
    {
        // tags.md "With the cache": "every entry tagged "user:42" misses from now on, in every process on this backend";
        // "null: a plain read of a tagged entry checks its tags too". Other tags and untagged entries stay.
        ICache a = _a;
        ICache b = _b;
        Assert.That(await a.GetOrSetAsync("p:1", static _ => ValueTask.FromResult("one"), Tagged("user:1", "users")), Is.EqualTo("one"));
        a.Set("p:2", "two", Tagged("user:2", "users"));
        a.Set("plain", "three");

        await a.InvalidateTagsAsync(["user:1"]);

        Assert.Multiple(() =>
        {
            Assert.That(a.TryGet<string>("p:1", out _), Is.False, "A: plain read misses the invalidated entry");
            Assert.That(b.TryGet<string>("p:1", out _), Is.False, "B: plain read misses it too");
            Assert.That(b.Get<string>("p:2"), Is.EqualTo("two"), "another tag stays");
            Assert.That(b.Get<string>("plain"), Is.EqualTo("three"), "untagged stays");
            Assert.That(b.MultiGet<string>(["p:1", "p:2", "plain"]), Is.EqualTo(new[] { null, "two", "three" }));
        });

        Assert.That(await b.GetOrSetAsync("p:1", static _ => ValueTask.FromResult("fresh"), Tagged("user:1", "users")), Is.EqualTo("fresh"));

        b.InvalidateTags("users", "users");

        Assert.That((a.TryGet<string>("p:1", out _), a.TryGet<string>("p:2", out _), a.Get<string>("plain")), Is.EqualTo((false, false, "three")));
    }

    [Test]
    public void A_tag_written_under_a_per_call_namespace_is_invalidated_by_the_cache()
    {
        // tags.md: "whatever its key, its method or its namespace".
        ICache a = _a;
        var other = _space + "-other";
        a.Set("k", "v", Tagged("nst"), other);
        Assert.That(a.Get<string>("k", @namespace: other), Is.EqualTo("v"));

        a.InvalidateTags("nst");

        Assert.That(a.TryGet<string>("k", out _, other), Is.False);
    }

    [Test]
    public void InvalidateTags_checks_its_arguments()
    {
        // tags.md: "a null or empty tag throws ArgumentException"; ICache: "none is a no-op".
        ICache a = _a;
        Assert.Multiple(() =>
        {
            Assert.DoesNotThrow(() => a.InvalidateTags());
            Assert.Throws<ArgumentException>(() => a.InvalidateTags("ok", ""));
            Assert.Throws<ArgumentException>(() => a.InvalidateTags("ok", null!));
            Assert.ThrowsAsync<ArgumentNullException>(async () => await a.InvalidateTagsAsync(null!));
        });
    }

    // ================================================================================================================
    // Fills and batches racing an invalidation
    // ================================================================================================================

    [Test]
    public async Task A_tagged_fill_that_began_before_InvalidateTags_does_not_bring_its_value_back()
    {
        // tags.md: "A value computed while its tag is invalidated is never served afterwards ... the value is still
        // returned to its caller ..., but the stored entry is already out of date and the next read misses."
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var fill = _catalog.UserAsync(1);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        await _catalog.RenameAsync(1, CancellationToken.None);
        gate.Release();

        Assert.That(await fill.WaitAsync(s_bound), Is.EqualTo("v1-1"), "the caller gets what it asked for");
        Assert.That(await _catalog.UserAsync(1), Is.EqualTo("v2-1"), "the next read misses");
        Assert.That(await _other.UserAsync(1), Is.EqualTo("v2-1"), "process B reads A's fresh value, or its own");
    }

    [Test]
    public async Task A_fill_that_began_before_InvalidateCache_does_not_store_its_value()
    {
        // reliability.md: "An invalidation is final. A [Cached] ... body that began before ... an [InvalidateCache] ...
        // never stores its result after that command returned".
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var fill = _catalog.ItemAsync(1);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        await _catalog.UpdateItemAsync(1, CancellationToken.None);
        gate.Release();

        Assert.That(await fill.WaitAsync(s_bound), Is.EqualTo("v1-1"));
        Assert.That(await RawAsync("item:1"), Is.Null.Or.Not.Contain("v1-1"), "the old value is not in Redis");
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v2-1"));
    }

    [Test]
    public async Task A_GetOrSet_fill_in_A_raced_by_InvalidateTagsAsync_in_B_is_not_served_afterwards()
    {
        // tags.md: "once InvalidateTags returns, every read that starts afterwards ... misses"; a computation that began
        // before it is never served afterwards, across processes on one Redis.
        ICache a = _a;
        ICache b = _b;
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var fill = a.GetOrSetAsync("g", async _ =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(s_bound);
            return "old";
        }, Tagged("g")).AsTask();
        await entered.Task.WaitAsync(s_bound);

        await b.InvalidateTagsAsync(["g"]);
        release.TrySetResult();

        Assert.That(await fill.WaitAsync(s_bound), Is.EqualTo("old"));
        Assert.Multiple(async () =>
        {
            Assert.That(a.TryGet<string>("g", out _), Is.False, "A misses");
            Assert.That(b.TryGet<string>("g", out _), Is.False, "B misses");
            Assert.That(await b.GetOrSetAsync("g", static _ => ValueTask.FromResult("new"), Tagged("g")), Is.EqualTo("new"));
            Assert.That(await a.GetOrSetAsync("g", static _ => ValueTask.FromResult("newer"), Tagged("g")), Is.EqualTo("new"));
        });
    }

    [Test]
    public async Task A_batch_asked_for_a_key_invalidated_while_another_batch_computes_it_computes_it_anew()
    {
        // decorators.md [MultiCached]: "A key invalidated in this process while it is computed (deleted, ...) is not taken
        // from that computation: a batch asked for it after the invalidation ... computes it anew."
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var first = _catalog.ManyAsync([1, 2]);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        _catalog.ForgetOne(1);
        var second = await _catalog.ManyAsync([1, 3]).WaitAsync(s_bound);
        gate.Release();
        var firstResult = await first.WaitAsync(s_bound);

        Assert.Multiple(async () =>
        {
            Assert.That(second, Is.EqualTo(new Dictionary<int, string> { [1] = "v2-1", [3] = "v2-3" }), "the second batch computed key 1 anew");
            Assert.That(firstResult, Is.EqualTo(new Dictionary<int, string> { [1] = "v1-1", [2] = "v1-2" }), "the first gets its own result");
            Assert.That(_catalog.Calls, Is.EqualTo(new[] { "many:1,2", "many:1,3" }));
            Assert.That(await _catalog.ManyAsync([1, 2, 3]), Is.EqualTo(new Dictionary<int, string> { [1] = "v2-1", [2] = "v1-2", [3] = "v2-3" }), "the first batch's old key 1 was not stored over the newer one");
            Assert.That(_catalog.CallsOf("many"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task A_batch_asked_for_a_key_whose_tag_was_invalidated_while_another_batch_computes_it_computes_it_anew()
    {
        // decorators.md [MultiCached]: "(deleted, written, or one of its tags invalidated)".
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var first = _catalog.UsersAsync([1, 2]);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        await _catalog.RenameAsync(1, CancellationToken.None);
        var second = _catalog.UsersAsync([1, 3]);
        // Gives the second batch time to board the first one's flight for key 1; either way it must not take "v1-1".
        await Task.WhenAny(second, Task.Delay(200));
        gate.Release();
        await first.WaitAsync(s_bound);

        Assert.That(await second.WaitAsync(s_bound), Is.EqualTo(new Dictionary<int, string> { [1] = "v2-1", [3] = "v2-3" }), "key 1 was computed anew");
        // (A tagged batch overtaken on one key's tag stores none of its keys, by design: only key 1's value is checked.)
        Assert.That((await _catalog.UsersAsync([1, 2, 3]))[1], Is.EqualTo("v2-1"), "the first batch's old key 1 is never served");
    }

    [Test]
    public async Task A_caller_joining_a_tagged_flight_after_an_in_process_InvalidateTags_computes_anew()
    {
        // tags.md: "A caller that joins a computation begun before an invalidation this process made ... computes anew
        // once instead of taking its value."
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var leader = _catalog.UserAsync(1);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        await _catalog.RenameAsync(1, CancellationToken.None);
        var joiner = _catalog.UserAsync(1);
        await Task.WhenAny(joiner, Task.Delay(200));
        gate.Release();

        Assert.Multiple(async () =>
        {
            Assert.That(await leader.WaitAsync(s_bound), Is.EqualTo("v1-1"), "the leader's caller gets its own value");
            Assert.That(await joiner.WaitAsync(s_bound), Is.EqualTo("v2-1"), "the joiner computed anew");
            Assert.That(await _catalog.UserAsync(1), Is.EqualTo("v2-1"));
        });
    }

    // ================================================================================================================
    // Two processes
    // ================================================================================================================

    [Test]
    public async Task InvalidateCache_in_B_drops_the_entry_A_filled()
    {
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        Assert.That(await _other.ItemAsync(1), Is.EqualTo("v1-1"), "B reads A's fill");
        Assert.That(_other.CallsOf("item"), Is.Zero);
        _catalog.Version = 2;

        await _other.UpdateItemAsync(1, CancellationToken.None);

        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v2-1"));
    }

    [Test]
    public async Task A_flight_in_A_overtaken_by_InvalidateCache_in_B_answers_a_later_joiner_with_a_fresh_value()
    {
        // reliability.md 1: a body that began before an [InvalidateCache] "never stores its result after that command
        // returned, and no call that began after it returned gets that result ... On Redis this holds across processes.
        // ... if it holds none (a delete), the leader returns its own result and the waiters compute anew, once."
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var leader = _catalog.ItemAsync(1);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        await _other.UpdateItemAsync(1, CancellationToken.None);
        var joiner = _catalog.ItemAsync(1);
        // Gives the joiner time to board the flight; either way it must not get "v1-1" (which is what this test checks).
        await Task.WhenAny(joiner, Task.Delay(200));
        gate.Release();

        Assert.Multiple(async () =>
        {
            Assert.That(await leader.WaitAsync(s_bound), Is.EqualTo("v1-1"), "the leader returns its own result");
            Assert.That(await joiner.WaitAsync(s_bound), Is.EqualTo("v2-1"), "a call that began after B's invalidation returned");
            Assert.That(await RawAsync("item:1"), Is.Null.Or.Not.Contain("v1-1"));
            Assert.That(await _other.ItemAsync(1), Is.Not.EqualTo("v1-1"));
        });
    }

    [Test]
    public async Task A_batch_in_A_overtaken_by_InvalidateCache_in_B_does_not_store_the_invalidated_key()
    {
        // reliability.md 1: "A [Cached] or [MultiCached] body that began before ... an [InvalidateCache] ... never stores its
        // result after that command returned ... On Redis this holds across processes."
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var batch = _catalog.ManyAsync([1, 2]);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;

        await _other.ForgetManyAsync([1], CancellationToken.None);
        gate.Release();

        Assert.That(await batch.WaitAsync(s_bound), Is.EqualTo(new Dictionary<int, string> { [1] = "v1-1", [2] = "v1-2" }));
        Assert.Multiple(async () =>
        {
            Assert.That(await RawExistsAsync("many:1"), Is.False, "key 1 was not stored");
            Assert.That(await RawExistsAsync("many:2"), Is.True, "key 2 was");
            Assert.That(await _catalog.ManyAsync([1, 2]), Is.EqualTo(new Dictionary<int, string> { [1] = "v2-1", [2] = "v1-2" }));
            Assert.That(_catalog.Calls, Is.EqualTo(new[] { "many:1,2", "many:1" }));
        });
    }

    [Test]
    public async Task A_tagged_fill_in_A_overtaken_by_InvalidateTags_in_B_is_a_miss_in_both()
    {
        var gate = new InvalidationGate();
        _catalog.Gate = gate;
        var fill = _catalog.UserAsync(1);
        await gate.Entered.Task.WaitAsync(s_bound);
        _catalog.Version = 2;
        _other.Version = 2;

        await _other.RenameAsync(1, CancellationToken.None);
        gate.Release();

        Assert.That(await fill.WaitAsync(s_bound), Is.EqualTo("v1-1"));
        Assert.That(await _other.UserAsync(1), Is.EqualTo("v2-1"), "B misses A's late value");
        Assert.That(await _catalog.UserAsync(1), Is.EqualTo("v2-1"), "and A reads B's fresh one");
    }

    // ================================================================================================================
    // Two levels with a Redis backplane
    // ================================================================================================================

    [Test]
    public async Task InvalidateCache_on_one_node_drops_the_other_nodes_L1_copy()
    {
        // multilevel.md: each node "hears through a backplane when another node changes a key, so that it drops its copy".
        var one = Node("n1");
        var two = Node("n2");
        Caches.AddInstance(InvalidationCatalogA.Alias, one);
        Caches.AddInstance(InvalidationCatalogB.Alias, two);
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        // multilevel.md: a node's L1 takes copies only once its backplane has subscribed, so node two reads until it
        // holds one (a single read right away failed in one CI run).
        Assert.That(await Eventually(async () => await _other.ItemAsync(1) == "v1-1" && two.L1.TryGet<string>("item:1", out _, _space)), Is.True, "node two holds a copy");
        _catalog.Version = 2;
        _other.Version = 2;

        await _catalog.UpdateItemAsync(1, CancellationToken.None);

        Assert.That(await Eventually(() => Task.FromResult(!two.L1.TryGet<string>("item:1", out _, _space))), Is.True, "node two's copy is dropped");
        Assert.That(await _other.ItemAsync(1), Is.EqualTo("v2-1"));
    }

    [Test]
    public async Task InvalidateTags_on_one_node_makes_the_other_nodes_tagged_copy_miss()
    {
        // tags.md "On two levels": "another node's L1 does as soon as its backplane delivers the message".
        var one = Node("n1");
        var two = Node("n2");
        Caches.AddInstance(InvalidationCatalogA.Alias, one);
        Caches.AddInstance(InvalidationCatalogB.Alias, two);
        await _catalog.UserAsync(1);
        await _catalog.UserAsync(2);
        await _other.UserAsync(1);
        await _other.UserAsync(2);
        Assert.That(_other.CallsOf("user"), Is.Zero, "node two read node one's fills");
        _other.Version = 2;

        await _catalog.RenameAsync(1, CancellationToken.None);

        Assert.That(await Eventually(() => Task.FromResult(!two.L1.TryGet<string>("tu:1", out _, _space))), Is.True);
        Assert.That((await _other.UserAsync(1), await _other.UserAsync(2)), Is.EqualTo(("v2-1", "v1-2")));
    }

    [Test]
    public async Task A_cancelled_InvalidateTagsAsync_on_a_node_still_lands_in_L2_and_on_every_node()
    {
        // tags.md "On two levels": "An async invalidation whose caller cancels while L2 has it goes on without the caller,
        // and every node invalidates again when L2 takes it."
        var one = Node("n1");
        var two = Node("n2");
        ICache plain = _b;
        Assert.That(await one.GetOrSetAsync("t:1", static _ => ValueTask.FromResult("one"), Tagged("t1")), Is.EqualTo("one"));
        Assert.That(await two.GetOrSetAsync("t:1", static _ => ValueTask.FromResult("two"), Tagged("t1")), Is.EqualTo("one"));

        using var cts = new CancellationTokenSource();
        await PauseWritesAsync();
        Task invalidation;
        try
        {
            invalidation = one.InvalidateTagsAsync(["t1"], cts.Token).AsTask();
            cts.Cancel();
            Assert.CatchAsync<OperationCanceledException>(async () => await invalidation.WaitAsync(s_bound));
        }
        finally
        {
            await UnpauseAsync();
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await Eventually(() => Task.FromResult(!plain.TryGet<string>("t:1", out _))), Is.True, "L2 took the invalidation");
            Assert.That(await Eventually(() => Task.FromResult(!two.TryGet<string>("t:1", out _))), Is.True, "node two misses");
            Assert.That(one.TryGet<string>("t:1", out _), Is.False, "node one misses");
        });
    }

    // ================================================================================================================
    // Cancelling an invalidating call
    // ================================================================================================================

    [Test]
    public async Task A_caller_that_cancels_while_InvalidateCache_is_on_its_way_gets_OCE_and_the_delete_lands()
    {
        // decorators.md: "A caller whose token cancels while the invalidation is still on its way stops waiting for it at
        // once (an OperationCanceledException), and the invalidation goes on and lands."
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v1-1"));
        _catalog.Version = 2;
        using var cts = new CancellationTokenSource();

        await PauseWritesAsync();
        try
        {
            var update = _catalog.UpdateItemAsync(1, cts.Token);
            cts.Cancel();
            Assert.CatchAsync<OperationCanceledException>(async () => await update.WaitAsync(s_bound));
            Assert.That(await RawExistsAsync("item:1"), Is.True, "the delete is still held by the pause");
        }
        finally
        {
            await UnpauseAsync();
        }

        Assert.That(await Eventually(async () => !await RawExistsAsync("item:1")), Is.True, "the delete landed");
        Assert.That(await _catalog.ItemAsync(1), Is.EqualTo("v2-1"));
    }

    [Test]
    public async Task A_cancelled_multi_target_InvalidateCache_lands_every_delete()
    {
        // decorators.md: "An async method starts all their deletes before it awaits any, the keys of a [MultiCached]
        // target's too" and the cancellation does not stop them.
        await _catalog.ItemAsync(1);
        await _catalog.ManyAsync([1, 2, 3]);
        using var cts = new CancellationTokenSource();

        await PauseWritesAsync();
        try
        {
            var forget = _catalog.ForgetBothAsync(1, [2, 3], cts.Token);
            cts.Cancel();
            Assert.CatchAsync<OperationCanceledException>(async () => await forget.WaitAsync(s_bound));
        }
        finally
        {
            await UnpauseAsync();
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await Eventually(async () => !await RawExistsAsync("item:1")), Is.True, "item:1 deleted");
            Assert.That(await Eventually(async () => !await RawExistsAsync("many:2") && !await RawExistsAsync("many:3")), Is.True, "many:2 and many:3 deleted");
            Assert.That(await RawExistsAsync("many:1"), Is.True, "many:1 kept");
        });
    }

    [Test]
    public async Task A_cancelled_InvalidateTags_method_still_invalidates_its_tags()
    {
        // decorators.md: "Once the body has returned, the method's CancellationToken no longer stops the invalidation ...
        // The same holds for [InvalidateTags]." The token is cancelled as the body returns.
        await _catalog.UserAsync(1);
        _catalog.Version = 2;
        using var cts = new CancellationTokenSource();
        _catalog.OnSave = cts.Cancel;

        try
        {
            await _catalog.RenameAsync(1, cts.Token).WaitAsync(s_bound);
        }
        catch (OperationCanceledException)
        {
            // Documented: the caller may stop waiting.
        }

        _catalog.OnSave = null;
        Assert.That(await Eventually(async () => await _catalog.UserAsync(1) == "v2-1"), Is.True, "the tag was invalidated");
    }

    [Test]
    public async Task InvalidateCache_with_InvalidateTags_whose_token_cancels_as_the_body_returns_still_invalidates_the_tags()
    {
        // decorators.md: "Once the body has returned, the method's CancellationToken no longer stops the invalidation: the
        // body's change is made, and an entry left behind would be served stale. ... The same holds for [InvalidateTags]."
        // and Tags: "It may stand beside [InvalidateCache] on one method: the body runs, then the keys are deleted, then
        // the tags invalidated."
        _catalog.Untagged(1);
        await _catalog.UserAsync(1);
        _catalog.Version = 2;
        using var cts = new CancellationTokenSource();
        _catalog.OnSave = cts.Cancel;

        try
        {
            await _catalog.SaveAsync(1, cts.Token).WaitAsync(s_bound);
        }
        catch (OperationCanceledException)
        {
            // Documented: the caller stops waiting; the invalidation goes on.
        }

        _catalog.OnSave = null;
        Assert.Multiple(async () =>
        {
            Assert.That(await Eventually(async () => !await RawExistsAsync("tn:1")), Is.True, "the [InvalidateCache] delete landed");
            Assert.That(await Eventually(async () => await _catalog.UserAsync(1) == "v2-1"), Is.True, "the [InvalidateTags] part landed too");
        });
    }

    [Test]
    public async Task InvalidateCache_with_InvalidateTags_cancelled_while_the_delete_is_held_still_invalidates_the_tags()
    {
        // As above, with the caller cancelling while the delete waits on the server (writes paused).
        _catalog.Untagged(1);
        await _catalog.UserAsync(1);
        _catalog.Version = 2;
        using var cts = new CancellationTokenSource();

        await PauseWritesAsync();
        try
        {
            var save = _catalog.SaveAsync(1, cts.Token);
            cts.Cancel();
            Assert.CatchAsync<OperationCanceledException>(async () => await save.WaitAsync(s_bound));
        }
        finally
        {
            await UnpauseAsync();
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await Eventually(async () => !await RawExistsAsync("tn:1")), Is.True, "the delete landed");
            Assert.That(await Eventually(async () => await _catalog.UserAsync(1) == "v2-1"), Is.True, "the tag was invalidated");
        });
    }
}
