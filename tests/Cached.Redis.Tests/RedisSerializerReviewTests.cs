using System.Buffers;
using Cached.Redis.Tests.Infrastructure;
using Cached.Serializers;
using StackExchange.Redis;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>An outsider's probes of serializers on a real redis-server: awkward values, per-call serializers, corrupt entries.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisSerializerReviewTests
{
    private static readonly FunctionSerializer<string> Shout = new(static s => s.ToUpperInvariant(), static s => s);

    private ConnectionMultiplexer _admin = null!;
    private readonly List<IDisposable> _disposables = [];

    private IDatabase Raw => _admin.GetDatabase(0);

    [OneTimeSetUp]
    public void ConnectAdmin()
        => _admin = ConnectionMultiplexer.Connect($"{SharedRedis.Server.ConnectionString},allowAdmin=true,name=cached-tests-review");

    [OneTimeTearDown]
    public void DisconnectAdmin() => _admin.Dispose();

    [SetUp]
    public void FlushBefore() => _admin.GetServer(_admin.GetEndPoints()[0]).FlushAllDatabases();

    [TearDown]
    public void Dispose()
    {
        foreach (var disposable in Enumerable.Reverse(_disposables))
        {
            disposable.Dispose();
        }

        _disposables.Clear();
    }

    private RedisCache NewCache(ISerializer serializer)
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "review", Serializer = serializer };
        _disposables.Add(cache);
        return cache;
    }

    /// <summary>Every byte value, so a backend that decodes payloads as text before reading them would spoil it.</summary>
    private sealed class BinarySerializer : ISerializer
    {
        public bool StoresReferences => false;

        public void Serialize<T>(IBufferWriter<byte> destination, T value) => destination.Write((byte[])(object)value!);

        public T? Deserialize<T>(ReadOnlySequence<byte> payload) => (T)(object)payload.ToArray();
    }

    [Test]
    public void A_binary_serializer_s_bytes_come_back_unchanged()
    {
        var cache = NewCache(new BinarySerializer());
        var bytes = Enumerable.Range(0, 256).Select(static i => (byte)i).Concat(new byte[] { 0xC3, 0x28, 0xFF, 0xFE }).ToArray();

        cache.Set("k", bytes);

        Assert.That(cache.Get<byte[]>("k"), Is.EqualTo(bytes));
    }

    [Test]
    public void Awkward_values_round_trip_through_Json_String_and_Null_serializers()
    {
        var json = NewCache(new JsonSerializer());
        var text = NewCache(new StringSerializer());
        var plain = NewCache(NullSerializer.Instance);
        var big = new string('é', 700_000) + "😀𝄞" + new string('x', 700_000);
        var local = new DateTime(2024, 3, 1, 10, 0, 0, DateTimeKind.Local).AddTicks(1234567);

        json.Set("big", big);
        text.Set("big2", big);
        plain.Set("big3", big);
        json.Set<string?>("null", null);
        text.Set<string?>("null2", null);
        json.Set("empty", "");
        text.Set("empty2", "");
        plain.Set("empty3", "");
        plain.Set("bytes", Array.Empty<byte>());
        json.Set("local", local);
        text.Set("local2", local);
        json.Set("dec", 79228162514264337593543950335m);
        json.Set<long?>("nl", null);

        Assert.That(json.Get<string>("big"), Is.EqualTo(big));
        Assert.That(text.Get<string>("big2"), Is.EqualTo(big));
        Assert.That(plain.Get<string>("big3"), Is.EqualTo(big));
        Assert.That(json.TryGet<string>("null", out var n1) && n1 is null, Is.True);
        Assert.That(text.TryGet<string>("null2", out var n2) && n2 is null, Is.True);
        Assert.That(json.TryGet<string>("empty", out var e1) && e1 == "", Is.True);
        Assert.That(text.TryGet<string>("empty2", out var e2) && e2 == "", Is.True);
        Assert.That(plain.TryGet<string>("empty3", out var e3) && e3 == "", Is.True);
        Assert.That(plain.TryGet<byte[]>("bytes", out var b) && b!.Length == 0, Is.True);
        Assert.That(json.Get<DateTime>("local"), Is.EqualTo(local));
        Assert.That(json.Get<DateTime>("local").Kind, Is.EqualTo(DateTimeKind.Local));
        Assert.That(text.Get<DateTime>("local2").Kind, Is.EqualTo(DateTimeKind.Local));
        Assert.That(json.Get<decimal>("dec"), Is.EqualTo(79228162514264337593543950335m));
        Assert.That(json.TryGet<long?>("nl", out var nl) && nl is null, Is.True);
        Assert.That(json.TryGet<string>("missing", out _), Is.False);
    }

    [Test]
    public void NullSerializer_refuses_null_on_Redis_and_writes_nothing()
    {
        var plain = NewCache(NullSerializer.Instance);

        var ex = Assert.Throws<CacheSerializationException>(() => plain.Set<string?>("k", null));
        Assert.That(ex!.IsUnsupportedType, Is.False);
        Assert.That(plain.Exists("k"), Is.False);
    }

    [Test]
    public void NullSerializer_on_Redis_stores_a_string_exactly_or_not_at_all()
    {
        var plain = NewCache(NullSerializer.Instance);
        const string lone = "a\uD800b";

        try
        {
            plain.Set("k", lone);
        }
        catch (CacheSerializationException)
        {
            Assert.That(plain.Exists("k"), Is.False);
            return;
        }

        Assert.That(plain.Get<string>("k"), Is.EqualTo(lone), "stored, so it must read back as it was");
    }

    [Test]
    public void NullSerializer_on_Redis_does_not_read_binary_bytes_as_text_with_U_FFFD()
    {
        var plain = NewCache(NullSerializer.Instance);
        Raw.StringSet("review:k", new byte[] { 0x93, 0xA3, 0x41, 0xFF, 0xC0 });

        Assert.That(plain.Get<byte[]>("k"), Is.EqualTo(new byte[] { 0x93, 0xA3, 0x41, 0xFF, 0xC0 }));
        Assert.That(() => plain.Get<string>("k"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void Per_call_serializer_is_used_by_Add_MultiSet_and_MultiGet_on_Redis()
    {
        var cache = NewCache(new JsonSerializer());

        cache.Add("a", "hello", serializer: Shout);
        cache.MultiSet(new Dictionary<string, string> { ["b"] = "x", ["c"] = "y" }, serializer: Shout);

        Assert.That((string?)Raw.StringGet("review:a"), Is.EqualTo("HELLO"));
        Assert.That(cache.MultiGet<string>(["a", "b", "c", "d"], serializer: Shout), Is.EqualTo(new[] { "HELLO", "X", "Y", null }));
    }

    [Test]
    public void Increment_counts_on_a_value_stored_by_String_or_Json_on_Redis([Values] bool json)
    {
        var cache = NewCache(json ? new JsonSerializer() : new StringSerializer());
        cache.Set("n", 10);

        Assert.That(cache.Increment("n", 5), Is.EqualTo(15));
        Assert.That(cache.Get<int>("n"), Is.EqualTo(15));
    }

    private sealed class ThrowsOnSecond : ISerializer
    {
        private int _calls;

        public bool StoresReferences => false;

        public void Serialize<T>(IBufferWriter<byte> destination, T value)
        {
            if (Interlocked.Increment(ref _calls) == 2)
            {
                throw new FormatException("second value");
            }

            destination.Write("1"u8);
        }

        public T? Deserialize<T>(ReadOnlySequence<byte> payload) => default;
    }

    [Test]
    public void A_serializer_throwing_in_MultiSet_writes_nothing_on_Redis()
    {
        var cache = NewCache(new ThrowsOnSecond());

        var ex = Assert.Throws<CacheSerializationException>(() => cache.MultiSet(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3 }));

        Assert.That(ex!.Key, Is.EqualTo("b"));
        Assert.That(ex.InnerException, Is.InstanceOf<FormatException>());
        Assert.That(Raw.KeyExists(["review:a", "review:b", "review:c"]), Is.Zero);
    }

    [Test]
    public void A_payload_with_text_after_its_JSON_value_is_a_CacheSerializationException_on_Redis()
    {
        var cache = NewCache(new JsonSerializer());
        // What a Python StringSerializer (or a person with redis-cli) leaves under a key a JSON reader shares.
        Raw.StringSet("review:k", "42 apples");

        Assert.That(() => cache.Get<int>("k"), Throws.InstanceOf<CacheSerializationException>());
    }

    [Test]
    public void A_two_level_cache_over_Redis_keeps_the_value_in_L1_while_a_per_call_serializer_shapes_L2s_bytes()
    {
        // multilevel.md, "What L1 holds": every other node reads L2's bytes; this node's L1 holds the value written.
        var l2 = NewCache(new JsonSerializer());
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "review" });

        cache.Set("greeting", "hello", serializer: Shout);

        Assert.That(l2.Get<string>("greeting", serializer: Shout), Is.EqualTo("HELLO"), "what every other node reads");
        Assert.That(cache.Get<string>("greeting", serializer: Shout), Is.EqualTo("hello"), "this node's L1 copy");
    }
}
