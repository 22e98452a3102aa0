using Cached.Serializers;
using Cached.Tests.Backends;
using Cached.Tests.Commands;

namespace Cached.Tests.Reliability;

/// <summary>
/// Every kind of bad or odd input, with its documented outcome (docs/reliability.md), on every backend: a clear
/// exception naming the argument, or an exact round trip. Nothing half-written, nothing escaping.
/// </summary>
[TestFixtureSource(typeof(Backends.Backends), nameof(Backends.Backends.All))]
public sealed class BadInputTests(CacheBackend backend) : CommandFixture(backend)
{
    public sealed class Node
    {
        public string Name { get; set; } = "";

        public Node? Next { get; set; }
    }

    private BaseCache JsonCache() => NewCache(new CacheOptions { Namespace = "input", Serializer = new JsonSerializer() });

    [Test]
    public void A_null_key_throws_ArgumentNullException_naming_it_on_every_command()
    {
        var cache = JsonCache();
        var thrown = new List<ArgumentException>
        {
            Assert.Throws<ArgumentNullException>(() => cache.Get<string>(null!))!,
            Assert.Throws<ArgumentNullException>(() => cache.Set(null!, "v"))!,
            Assert.Throws<ArgumentNullException>(() => cache.Add(null!, "v"))!,
            Assert.Throws<ArgumentNullException>(() => cache.Exists(null!))!,
            Assert.Throws<ArgumentNullException>(() => cache.Increment(null!))!,
            Assert.Throws<ArgumentNullException>(() => cache.Delete(null!))!,
            Assert.Throws<ArgumentNullException>(() => cache.Expire(null!, null))!,
            Assert.ThrowsAsync<ArgumentNullException>(async () => await cache.GetAsync<string>(null!))!,
        };

        Assert.That(thrown.Select(static e => e.ParamName), Has.All.EqualTo("key"));
    }

    [Test]
    public void An_empty_key_throws_ArgumentException_and_writes_nothing()
    {
        var cache = JsonCache();

        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<ArgumentException>(() => cache.Set(string.Empty, "v"))!.ParamName, Is.EqualTo("key"));
            Assert.That(Assert.Throws<ArgumentException>(() => cache.MultiSet([new KeyValuePair<string, string>("ok", "v"), new(string.Empty, "v")]))!.ParamName, Is.EqualTo("pairs"));
            Assert.That(cache.Exists("ok"), Is.False, "a batch with a bad key writes none of its keys");
            Assert.That(Assert.Throws<ArgumentException>(() => cache.MultiGet<string>(["ok", null!]))!.ParamName, Is.EqualTo("keys"));
        });
    }

    [TestCase(" ", TestName = "{m}(space)")]
    [TestCase("\t\r\n", TestName = "{m}(whitespace and newline)")]
    [TestCase("line1\r\nline2", TestName = "{m}(CRLF inside)")]
    [TestCase("ключ-键-🔑", TestName = "{m}(unicode and emoji)")]
    [TestCase("a:b:c", TestName = "{m}(separators)")]
    [TestCase("*?[]\\", TestName = "{m}(glob characters)")]
    public void Odd_but_non_empty_keys_are_ordinary_keys_stored_exactly(string key)
    {
        var cache = JsonCache();

        cache.Set(key, "value");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<string>(key), Is.EqualTo("value"));
            Assert.That(cache.Exists(key), Is.True);
            Assert.That(cache.Get<string>(key + "x"), Is.Null, "no prefix or suffix confusion");
            Assert.That(cache.Delete(key), Is.EqualTo(1));
        });
    }

    [Test]
    public void A_one_megabyte_key_and_a_one_megabyte_value_round_trip()
    {
        var cache = JsonCache();
        var key = new string('k', 1 << 20);
        var value = new string('v', 1 << 20);

        cache.Set(key, value);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<string>(key), Is.EqualTo(value));
            Assert.That(cache.Get<string>(key[..^1]), Is.Null);
        });
    }

    [Test]
    public void Null_is_a_cacheable_value_that_TryGet_tells_from_a_miss()
    {
        var cache = JsonCache();

        cache.Set<string?>("nothing", null);

        Assert.Multiple(() =>
        {
            Assert.That(cache.TryGet<string?>("nothing", out var stored), Is.True);
            Assert.That(stored, Is.Null);
            Assert.That(cache.TryGet<string?>("missing", out _), Is.False);
            Assert.That(cache.Get("nothing", "default"), Is.Null, "a stored null is returned, not the default");
        });
    }

    [Test]
    public void A_value_that_cannot_serialize_throws_CacheSerializationException_and_writes_nothing()
    {
        var cache = JsonCache();
        var cycle = new Node { Name = "a" };
        cycle.Next = cycle;
        cache.Set("node", new Node { Name = "before" });

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Set("node", cycle))!;

        Assert.Multiple(() =>
        {
            Assert.That(ex.Message, Does.Contain("node"));
            Assert.That(cache.Get<Node>("node")!.Name, Is.EqualTo("before"), "the previous value stays");
            Assert.Throws<CacheSerializationException>(() => cache.MultiSet([new KeyValuePair<string, Node>("other", new Node()), new("node", cycle)]));
            Assert.That(cache.Exists("other"), Is.False, "a batch with a bad value writes none of its keys");
        });
    }

    [Test]
    public void Negative_ttls_are_refused_naming_the_argument_and_write_nothing()
    {
        var cache = JsonCache();

        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => cache.Set("k", 1, TimeSpan.FromSeconds(-1)))!.ParamName, Is.EqualTo("ttl"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => cache.Expire("k", TimeSpan.FromTicks(-1)))!.ParamName, Is.EqualTo("ttl"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => cache.MultiSet([new KeyValuePair<string, int>("k", 1)], TimeSpan.FromMinutes(-5)))!.ParamName, Is.EqualTo("ttl"));
            Assert.That(cache.Exists("k"), Is.False);
        });
    }

    [Test]
    public void Zero_and_infinite_ttls_mean_no_expiry()
    {
        var cache = JsonCache();

        cache.Set("zero", 1, TimeSpan.Zero);
        cache.Set("infinite", 2, Timeout.InfiniteTimeSpan);
        Backend.Advance(TimeSpan.FromMilliseconds(400));

        Assert.That((cache.Get<int>("zero"), cache.Get<int>("infinite")), Is.EqualTo((1, 2)));
    }

    [Test]
    public void A_huge_ttl_is_kept_and_does_not_overflow_into_the_past()
    {
        var cache = JsonCache();

        cache.Set("century", 1, TimeSpan.FromDays(36_500));
        cache.Set("max", 2, TimeSpan.MaxValue);
        cache.Expire("century", TimeSpan.MaxValue);
        Backend.Advance(TimeSpan.FromMilliseconds(400));

        Assert.That((cache.Get<int>("century"), cache.Get<int>("max")), Is.EqualTo((1, 2)));
    }

    [Test]
    public void MultiGet_keeps_duplicates_and_order()
    {
        var cache = JsonCache();
        cache.Set("a", "A");
        cache.Set("b", "B");

        Assert.That(cache.MultiGet<string>(["b", "a", "missing", "b", "a"]), Is.EqualTo(new[] { "B", "A", null, "B", "A" }));
    }

    [Test]
    public void Increment_past_the_largest_long_throws_OverflowException_and_keeps_the_value()
    {
        var cache = JsonCache();
        cache.Increment("big", long.MaxValue - 1);
        cache.Increment("small", long.MinValue);

        Assert.Multiple(() =>
        {
            Assert.Throws<OverflowException>(() => cache.Increment("big", 2));
            Assert.That(cache.Get<long>("big"), Is.EqualTo(long.MaxValue - 1));
            Assert.Throws<OverflowException>(() => cache.Increment("small", -1));
            Assert.That(cache.Get<long>("small"), Is.EqualTo(long.MinValue));
        });
    }

    [Test]
    public void Increment_on_a_value_that_is_not_an_integer_throws_and_keeps_the_value()
    {
        var cache = JsonCache();
        cache.Set("text", "hello");

        Assert.Multiple(() =>
        {
            Assert.Throws<CacheValueNotIntegerException>(() => cache.Increment("text"));
            Assert.That(cache.Get<string>("text"), Is.EqualTo("hello"));
        });
    }
}
