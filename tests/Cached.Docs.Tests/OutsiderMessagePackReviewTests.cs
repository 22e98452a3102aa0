using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Cached;
using Cached.Redis;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;
using MessagePackSerializer = Cached.Serializers.MessagePackSerializer;

namespace Cached.Docs.Tests;

// Lives in Cached.Docs.Tests: the only test project that references Cached.Redis, Cached.MessagePack and the generator
// together (Cached.MessagePack.Tests has no Redis, Cached.Redis.Tests no MessagePack). It starts its own redis-server.

public sealed record MpOrder(int Id, string Name, decimal Price, DateTime At, DateTimeOffset Offset, List<string> Lines, string? Note);

internal sealed record MpHidden(int Id);

public partial class OutsiderMpCatalog
{
    public const string Alias = "outsider-msgpack-review";

    private int _calls;
    private int _batchCalls;

    public int Calls => Volatile.Read(ref _calls);

    public int BatchCalls => Volatile.Read(ref _batchCalls);

    public bool Fail { get; set; }

    // 3 s, not 1: the test's second call, a hit, must come before the entry is stale, on a loaded CI machine too.
    [Cached(Alias = Alias, Key = "order:{id}", Ttl = 3, FailSafe = 600, Tags = new[] { "order:{id}", "orders" })]
    public partial Task<MpOrder> GetOrderAsync(int id);

    private Task<MpOrder> GetOrderAsyncCore(int id)
    {
        Interlocked.Increment(ref _calls);
        return Fail ? throw new InvalidOperationException("source down") : Task.FromResult(OutsiderMessagePackReviewTests.Order(id));
    }

    [Cached(Alias = Alias, Key = "eager:{id}", Ttl = 60, EagerRefresh = 0.5, SoftTimeout = 0.5, HardTimeout = 5, FailSafe = 60)]
    public partial MpOrder GetEager(int id);

    private MpOrder GetEagerCore(int id)
    {
        Interlocked.Increment(ref _calls);
        return OutsiderMessagePackReviewTests.Order(id);
    }

    [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Namespace = "mpbatch", FailSafe = 600, Tags = new[] { "orders" })]
    public partial Dictionary<int, MpOrder> GetOrders(IReadOnlyList<int> ids);

    private Dictionary<int, MpOrder> GetOrdersCore(IReadOnlyList<int> ids)
    {
        Interlocked.Increment(ref _batchCalls);
        return ids.ToDictionary(id => id, OutsiderMessagePackReviewTests.Order);
    }
}

[NonParallelizable]
public sealed class OutsiderMessagePackReviewTests
{
    private Process? _redis;
    private int _port;
    private string _space = "";

    public static MpOrder Order(int id) => new(
        id,
        $"order-{id}",
        12.340m,
        new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc).AddTicks(id),
        new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(5.5)),
        ["tea", "milk"],
        null);

    public static string D(MpOrder? o) => o is null ? "null" : FormattableString.Invariant($"{o.Id}|{o.Name}|{o.Price}|{o.At:O}|{o.At.Kind}|{o.Offset:O}|{string.Join(",", o.Lines)}|{o.Note ?? "<null>"}");

    private static object? Outcome<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    [OneTimeSetUp]
    public void StartRedis()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--dir", Path.GetTempPath() })
        {
            start.ArgumentList.Add(a);
        }

        _redis = Process.Start(start)!;
        _redis.OutputDataReceived += (_, _) => { };
        _redis.ErrorDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();
        _redis.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, _port);
                using var stream = client.GetStream();
                stream.Write("PING\r\n"u8);
                var buffer = new byte[16];
                if (stream.Read(buffer) > 0)
                {
                    break;
                }
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }

            Thread.Sleep(50);
        }
    }

    [OneTimeTearDown]
    public void StopRedis()
    {
        if (_redis is { } redis)
        {
            try
            {
                redis.Kill();
                redis.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }

            redis.Dispose();
        }
    }

    [SetUp]
    public void SetUp()
    {
        _space = "mp" + Guid.NewGuid().ToString("N")[..8];
    }

    private RedisCache Redis(ISerializer serializer) => new() { Endpoint = "127.0.0.1", Port = _port, Namespace = _space, Serializer = serializer };

    private static MessagePackSerializer Mp() => new();

    private MultiLevelCache TwoLevels(ISerializer serializer)
        => new(new SimpleMemoryCache(), Redis(serializer), new RedisBackplane($"127.0.0.1:{_port}"));

    // ---------------------------------------------------------------- mixed readers: silently wrong values

    // A single byte from '0' to '9' is a whole value in both formats (JSON's 5 is MessagePack's 53): serializers.md says
    // that every reader of a key must use one serializer. Only payloads one format cannot read are refused, below.

    [Test]
    public void Other_mixed_reads_fail_with_the_key_and_type()
    {
        using var json = Redis(new JsonSerializer());
        using var mp = Redis(Mp());
        json.Set("j-rec", Order(1));
        json.Set("j-str", "hello");
        json.Set<string?>("j-null", null);
        json.Set("j-big", 12345);
        mp.Set("m-rec", Order(1));
        mp.Set("m-str", "hello");
        mp.Set<string?>("m-null", null);
        mp.Set("m-int", 5);
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(5), FailSafe = TimeSpan.FromMinutes(5) };
        mp.Set("m-stamped", Order(2), options);
        json.Set("j-stamped", Order(2), options);

        Assert.Multiple(() =>
        {
            foreach (var key in new[] { "j-rec", "j-str", "j-null" })
            {
                Assert.That(() => mp.Get<MpOrder>(key), Throws.InstanceOf<CacheSerializationException>().With.Property("Key").Contains(key).And.Property("ValueType").EqualTo(typeof(MpOrder)), key);
            }

            Assert.That(() => mp.Get<int>("j-big"), Throws.InstanceOf<CacheSerializationException>(), "j-big");
            foreach (var key in new[] { "m-rec", "m-str", "m-null", "m-stamped" })
            {
                Assert.That(() => json.Get<MpOrder>(key), Throws.InstanceOf<CacheSerializationException>().With.Property("Key").Contains(key), key);
            }

            Assert.That(() => json.Get<int>("m-int"), Throws.InstanceOf<CacheSerializationException>(), "m-int");
            Assert.That(() => mp.Get<MpOrder>("j-stamped"), Throws.InstanceOf<CacheSerializationException>(), "j-stamped");
        });
    }

    // ---------------------------------------------------------------- stamped entries with MessagePack

    [Test]
    public async Task A_fail_safe_entry_written_with_MessagePack_reads_back_plain_and_through_GetOrSet_and_as_a_last_value()
    {
        using var mp = Redis(Mp());
        // 3 s: the checks before the stale read (the first MessagePack reads of the type, JIT included) must end while the
        // entry is fresh, on a loaded CI machine too.
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromSeconds(3), FailSafe = TimeSpan.FromMinutes(5) };
        var local = Order(3) with { At = new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Local), Lines = [], Note = "" };
        mp.Set("o", local, options);

        var expected = local with { At = local.At.ToUniversalTime() };
        var plain = mp.Get<MpOrder>("o");
        Assert.That(plain, Is.Not.Null);
        Assert.That(D(plain), Is.EqualTo(D(expected)));
        Assert.That(plain!.Lines, Is.Empty);
        Assert.That(plain.At.Kind, Is.EqualTo(DateTimeKind.Utc));
        Assert.That(plain.Price.ToString(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("12.340"));
        Assert.That(plain.Offset.Offset, Is.EqualTo(TimeSpan.FromHours(5.5)));
        var calls = 0;
        var hit = await mp.GetOrSetAsync("o", _ => { calls++; return ValueTask.FromResult(Order(99)); }, options);
        Assert.That(hit.Id, Is.EqualTo(3));
        Assert.That(calls, Is.Zero);

        await Task.Delay(3300);
        Assert.That(mp.Get<MpOrder>("o"), Is.Null, "a plain read of a stale entry is a miss");
        var last = mp.GetOrSet<MpOrder>("o", _ => throw new InvalidOperationException("down"), options);
        Assert.That(D(last), Is.EqualTo(D(expected)), "the last value");
    }

    [Test]
    public async Task A_last_value_served_by_fail_safe_is_written_back_so_the_next_call_is_a_hit()
    {
        // resilience.md: "The factory throws: the call returns the last value ... The entry is written back fresh for
        // FailSafeThrottle, so the next calls are hits". MpOrder holds a List, so two reads of its bytes are not Equal.
        using var mp = Redis(Mp());
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMilliseconds(600), FailSafe = TimeSpan.FromMinutes(5) };
        mp.Set("o", Order(3), options);
        mp.Set("s", "three", options);
        await Task.Delay(900);
        var calls = 0;
        MpOrder Down(CancellationToken _) { calls++; throw new InvalidOperationException("down"); }
        string DownText(CancellationToken _) { calls++; throw new InvalidOperationException("down"); }

        Assert.That(mp.GetOrSet("s", DownText, options), Is.EqualTo("three"));
        Assert.That(mp.GetOrSet("s", DownText, options), Is.EqualTo("three"));
        Assert.That(calls, Is.EqualTo(1), "a string's last value is written back: the second call is a hit");

        calls = 0;
        Assert.That(mp.GetOrSet("o", Down, options).Id, Is.EqualTo(3));
        Assert.That(D(mp.Get<MpOrder>("o")), Is.EqualTo(D(Order(3))), "a plain read after the last value was served (written back fresh for the throttle)");
        Assert.That(mp.GetOrSet("o", Down, options).Id, Is.EqualTo(3));
        Assert.That(calls, Is.EqualTo(1), "the record's last value must be written back too, so the failing source is called once per throttle");
    }

    [Test]
    public void A_stamped_null_and_a_stamped_empty_collection_round_trip_with_MessagePack()
    {
        using var mp = Redis(Mp());
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(5), FailSafe = TimeSpan.FromMinutes(5), EagerRefresh = 0.9 };
        mp.Set<MpOrder?>("null", null, options);
        mp.Set("empty", new List<MpOrder>(), options);
        mp.Set("big", new string('x', 2_000_000), options);

        Assert.That(mp.TryGet<MpOrder?>("null", out var n), Is.True);
        Assert.That(n, Is.Null);
        var calls = 0;
        Assert.That(mp.GetOrSet<MpOrder?>("null", _ => { calls++; return Order(1); }, options), Is.Null);
        Assert.That(mp.GetOrSet("empty", _ => { calls++; return new List<MpOrder> { Order(1) }; }, options), Is.Empty);
        Assert.That(mp.Get<string>("big")!.Length, Is.EqualTo(2_000_000));
        Assert.That(calls, Is.Zero);
    }

    [Test]
    public void A_non_public_type_fails_at_Set_with_the_key_and_nothing_is_written_and_GetOrSet_fails_open()
    {
        using var mp = Redis(Mp());
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(5), FailSafe = TimeSpan.FromMinutes(5), Tags = ["t"] };

        Assert.That(() => mp.Set("hidden", new MpHidden(1), options), Throws.InstanceOf<CacheSerializationException>().With.Property("Key").Contains("hidden"));
        Assert.That(mp.Exists("hidden"), Is.False);
        Assert.That(mp.GetOrSet("hidden", _ => new MpHidden(2), options), Is.EqualTo(new MpHidden(2)));
        Assert.That(mp.Exists("hidden"), Is.False);
    }

    // ---------------------------------------------------------------- tags

    [Test]
    public async Task Tagged_MessagePack_entries_read_back_and_miss_after_their_tag_is_invalidated()
    {
        using var writer = Redis(Mp());
        using var reader = Redis(Mp());
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(5), Tags = ["orders", "order:4"] };
        var first = await writer.GetOrSetAsync("t", _ => ValueTask.FromResult(Order(4)), options);
        Assert.That(first.Id, Is.EqualTo(4));

        Assert.That(reader.Get<MpOrder>("t")?.Id, Is.EqualTo(4));
        var calls = 0;
        Assert.That(reader.GetOrSet("t", _ => { calls++; return Order(5); }, options).Id, Is.EqualTo(4));
        Assert.That(calls, Is.Zero);

        await writer.InvalidateTagsAsync(["order:4"]);
        Assert.That(reader.Get<MpOrder>("t"), Is.Null);
        Assert.That(reader.GetOrSet("t", _ => { calls++; return Order(5); }, options).Id, Is.EqualTo(5));
        Assert.That(calls, Is.EqualTo(1));
    }

    // ---------------------------------------------------------------- two levels

    [Test]
    public async Task Two_level_caches_share_stamped_and_tagged_MessagePack_values_through_L2()
    {
        using var a = TwoLevels(Mp());
        using var b = TwoLevels(Mp());
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(5), FailSafe = TimeSpan.FromMinutes(5), Tags = ["ml"] };
        a.Set("plain", Order(6));
        a.Set("stamped", Order(7), options);

        Assert.That(b.Get<MpOrder>("plain")?.Id, Is.EqualTo(6));
        Assert.That(b.Get<MpOrder>("stamped")?.Id, Is.EqualTo(7));
        var calls = 0;
        Assert.That((await b.GetOrSetAsync("stamped", _ => { calls++; return ValueTask.FromResult(Order(8)); }, options)).Id, Is.EqualTo(7));
        Assert.That(calls, Is.Zero);

        // The backplane delivers in the background: polled, with a limit far below the entries' 5 minutes, rather than a
        // fixed wait that a loaded CI machine can outlast.
        a.Set("plain", Order(60));
        await Until(() => b.Get<MpOrder>("plain")?.Id == 60, "the backplane dropped b's L1 copy");

        await a.InvalidateTagsAsync(["ml"]);
        await Until(() => b.Get<MpOrder>("stamped") is null, "the tag's invalidation reached b's L1");
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.That(waited.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), what);
            await Task.Delay(20);
        }
    }

    // ---------------------------------------------------------------- generated methods

    [Test]
    public async Task A_generated_fail_safe_tagged_method_on_MessagePack_serves_its_value_and_its_last_value()
    {
        using var mp = Redis(Mp());
        Caches.AddInstance(OutsiderMpCatalog.Alias, mp);
        var catalog = new OutsiderMpCatalog();

        Assert.That((await catalog.GetOrderAsync(1)).Id, Is.EqualTo(1));
        Assert.That((await catalog.GetOrderAsync(1)).Id, Is.EqualTo(1));
        Assert.That(catalog.Calls, Is.EqualTo(1));

        await Task.Delay(3300);
        catalog.Fail = true;
        Assert.That(D(await catalog.GetOrderAsync(1)), Is.EqualTo(D(Order(1))), "the last value, decoded with MessagePack");
        Assert.That(catalog.Calls, Is.EqualTo(2));

        catalog.Fail = false;
        mp.InvalidateTags("order:1");
        Assert.That((await catalog.GetOrderAsync(1)).Id, Is.EqualTo(1));
        Assert.That(catalog.Calls, Is.EqualTo(3));
    }

    [Test]
    public void A_generated_eager_refresh_method_and_a_MultiCached_batch_on_MessagePack_hit()
    {
        using var mp = Redis(Mp());
        Caches.AddInstance(OutsiderMpCatalog.Alias, mp);
        var catalog = new OutsiderMpCatalog();

        Assert.That(D(catalog.GetEager(2)), Is.EqualTo(D(Order(2))));
        Assert.That(D(catalog.GetEager(2)), Is.EqualTo(D(Order(2))));
        Assert.That(catalog.Calls, Is.EqualTo(1));

        var first = catalog.GetOrders([1, 2, 3]);
        var second = catalog.GetOrders([3, 2, 1]);
        Assert.That(first.Values.Select(o => o.Id).Order(), Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(D(second[2]), Is.EqualTo(D(Order(2))));
        Assert.That(catalog.BatchCalls, Is.EqualTo(1));
    }
}
