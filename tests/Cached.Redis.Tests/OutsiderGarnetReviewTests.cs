using Cached.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An outsider's check of generated methods on Microsoft Garnet: tagged [Cached] and [MultiCached] methods sync and
/// async (their multi-key fence scripts), [InvalidateTags] from another connection, two levels reading a batch with
/// missing keys, and what a server started without --lua does to them. Uses <see cref="OutsiderCatalog"/>; ignored
/// without the garnet-server tool (see <see cref="GarnetServer"/>).
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class OutsiderGarnetReviewTests
{
    private static readonly int[] s_ids = [.. Enumerable.Range(1, 20)];

    private readonly List<IDisposable> _disposables = [];
    private GarnetServer _garnet = null!;
    private ConnectionMultiplexer _admin = null!;
    private GarnetWithAdmin? _fixture;
    private OutsiderCatalog _catalog = null!;

    private IServer Server => _admin.GetServer(_admin.GetEndPoints()[0]);

    [OneTimeSetUp]
    public void StartGarnet()
    {
        _fixture = GarnetWithAdmin.Start("outsider-garnet-admin");
        (_garnet, _admin) = (_fixture.Garnet, _fixture.Admin);
    }

    [OneTimeTearDown]
    public void StopGarnet() => _fixture?.Dispose();

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        Server.FlushAllDatabases();
        _catalog = new OutsiderCatalog();
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }

        _disposables.Clear();
        Server.FlushAllDatabases();
    }

    private T Track<T>(T disposable)
        where T : IDisposable
    {
        _disposables.Add(disposable);
        return disposable;
    }

    /// <summary>A "process": a cache on a connection of its own to <paramref name="server"/> (this fixture's Garnet unless given).</summary>
    private RedisCache Process(string name, GarnetServer? server = null)
        => Track(new RedisCache { ConnectionString = $"{(server ?? _garnet).ConnectionString},name=outsider-garnet-{name}", Namespace = "outsider" });

    private static void Use(ICache cache) => Caches.AddInstance(OutsiderCatalog.Alias, cache);

    private string[] Expected(IEnumerable<int> ids) => [.. ids.Select(_catalog.Expected)];

    [Test]
    public async Task Tagged_generated_methods_hit_and_miss_after_another_process_invalidates([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        Assert.That(await _catalog.ReadEach(s_ids, async), Is.EqualTo(Expected(s_ids)));
        var filled = _catalog.BodyCalls;
        Assert.That(await _catalog.ReadEach(s_ids, async), Is.EqualTo(Expected(s_ids)));
        Assert.That(_catalog.BodyCalls, Is.EqualTo(filled), "every read hit Garnet");
        Assert.That(Server.Keys(pattern: "*__cached:fence*").Count(), Is.Zero, "every fill removed its fence");

        _catalog.Version = 2;
        await b.InvalidateTagsAsync(["item:3"]);
        var after = await _catalog.ReadEach(s_ids, async);
        Assert.That(after[2], Is.EqualTo("v2-3"));
        Assert.That(after.Where((_, i) => i != 2), Is.All.StartWith("v1-"));

        // The generated [InvalidateTags], run in the other process.
        Use(b);
        _catalog.ForgetAll();
        Use(a);
        _catalog.Version = 3;
        Assert.That(await _catalog.ReadEach(s_ids, async), Is.EqualTo(Expected(s_ids)));
    }

    [Test]
    public async Task A_MultiCached_batch_with_some_hits_returns_every_value_and_stores_the_rest([Values] bool async, [Values] bool tagged)
    {
        Use(Process("a"));
        var even = s_ids.Where(static id => id % 2 == 0).ToArray();
        await _catalog.ReadMany(even, async, tagged);
        _catalog.Version = 2;

        var all = await _catalog.ReadMany(s_ids, async, tagged);
        Assert.That(s_ids.Select(id => all[id]), Is.EqualTo(s_ids.Select(static id => id % 2 == 0 ? $"v1-{id}" : $"v2-{id}")));
        Assert.That(_catalog.BatchesAsked[^1], Is.EquivalentTo(s_ids.Where(static id => id % 2 != 0)), "the body got only the missing keys");

        var again = await _catalog.ReadMany(s_ids, async, tagged);
        Assert.That(_catalog.BatchesAsked, Has.Count.EqualTo(2), "the multi-key fill script stored every computed entry");
        Assert.That(again, Is.EquivalentTo(all));
        Assert.That(Server.Keys(pattern: "*__cached:fence*").Count(), Is.Zero, "and removed their fences");
    }

    [Test]
    public async Task A_tagged_MultiCached_batch_sees_one_items_invalidation_from_another_process([Values] bool async)
    {
        var (a, b) = (Process("a"), Process("b"));
        Use(a);
        await _catalog.ReadMany(s_ids, async);
        _catalog.Version = 2;

        if (async)
        {
            await b.InvalidateTagsAsync(["item:5"]);
        }
        else
        {
            b.InvalidateTags("item:5");
        }

        var after = await _catalog.ReadMany(s_ids, async);
        Assert.That(_catalog.BatchesAsked[^1], Is.EqualTo(new[] { 5 }));
        Assert.That((after[5], after[6]), Is.EqualTo(("v2-5", "v1-6")));
    }

    [Test]
    public async Task Two_levels_read_a_batch_with_missing_keys_from_Garnet([Values] bool async)
    {
        // The sync two-level batch read is a script of GET and PTTL per key; a missing key's GET is a Lua false in it.
        var l2 = Process("l2");
        l2.Set("there", 1, TimeSpan.FromMinutes(1));
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        _disposables.Add(node);

        var values = async ? await node.MultiGetAsync<int?>(["missing", "there", "gone"]) : node.MultiGet<int?>(["missing", "there", "gone"]);

        Assert.That(values, Is.EqualTo(new int?[] { null, 1, null }));
        Assert.That(node.IsInL1("missing") || node.IsInL1("gone"), Is.False, "no copy of a missing key");
    }

    [Test]
    public async Task Two_level_generated_batches_on_Garnet_compute_only_what_L2_lacks([Values] bool async)
    {
        var l2 = Process("l2");
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        _disposables.Add(node);
        Use(node);
        await _catalog.ReadMany([1, 2, 3], async, tagged: false);

        // Another node, with an empty L1, over the same Garnet.
        var other = new MultiLevelCache(new SimpleMemoryCache(), Process("l2-other"));
        _disposables.Add(other);
        Use(other);
        _catalog.Version = 2;
        var all = await _catalog.ReadMany([1, 2, 3, 4], async, tagged: false);

        Assert.That(new[] { all[1], all[2], all[3], all[4] }, Is.EqualTo(new[] { "v1-1", "v1-2", "v1-3", "v2-4" }));
        Assert.That(_catalog.BatchesAsked[^1], Is.EqualTo(new[] { 4 }));
    }

    [Test]
    public async Task Without_lua_generated_tagged_methods_fail_open_with_the_bodys_values([Values] bool async)
    {
        using var plain = GarnetServer.StartOrIgnore(lua: false);
        Use(Process("no-lua", plain));

        Assert.That(await _catalog.Read(1, async), Is.EqualTo("v1-1"));
        var batch = await _catalog.ReadMany([1, 2, 3], async);
        Assert.That(new[] { batch[1], batch[2], batch[3] }, Is.EqualTo(new[] { "v1-1", "v1-2", "v1-3" }));
        _catalog.Version = 2;
        Assert.That(await _catalog.Read(1, async), Is.EqualTo("v2-1"), "nothing was stored, so nothing stale is served");
        if (async)
        {
            await _catalog.ForgetAsync(1);
        }
        else
        {
            _catalog.ForgetAll();
        }
    }

    [Test]
    public async Task Without_lua_a_two_level_batch_read_works_as_a_plain_MultiGet_does([Values] bool async)
    {
        // docs/redis.md: on Garnet without --lua, reads work (Get, MultiGet, Exists). The async two-level batch read
        // (GET and PTTL pipelined) did; the sync one was a script, which such a server refuses, so the same read threw.
        using var plain = GarnetServer.StartOrIgnore(lua: false);
        using var direct = ConnectionMultiplexer.Connect(plain.ConnectionString);
        direct.GetDatabase().StringSet("outsider:there", "1");
        var l2 = Process("no-lua-l2", plain);
        var node = new MultiLevelCache(new SimpleMemoryCache(), l2);
        _disposables.Add(node);
        Assert.That(l2.MultiGet<int?>(["there", "missing"]), Is.EqualTo(new int?[] { 1, null }), "a plain MultiGet works");

        var values = async ? await node.MultiGetAsync<int?>(["there", "missing"]) : node.MultiGet<int?>(["there", "missing"]);

        Assert.That(values, Is.EqualTo(new int?[] { 1, null }));
    }
}
