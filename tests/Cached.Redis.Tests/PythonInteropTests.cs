using System.Text;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>
/// Values exchanged with a Python service through a real redis-server: the bytes aiocache 0.12.3 and pycached 0.0.9
/// write (their <c>StringSerializer</c> stores <c>str(value)</c>, their <c>JsonSerializer</c> <c>json.dumps(value)</c>,
/// redis-py encodes the text as UTF-8) are written with <c>Raw("set", ...)</c> and read through <see cref="RedisCache"/>,
/// and what <see cref="RedisCache"/> writes is read back with <c>Raw("get", ...)</c>, which decodes UTF-8 as aiocache's
/// Redis backend does before its serializer's <c>loads</c>. Python cannot be installed where the tests run, so its output
/// is pinned as literals, each with the Python that produced it.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class PythonInteropTests
{
    private readonly List<RedisCache> _caches = [];

    public sealed record Measurement(string Name, double Value, List<double> Samples, int Count);

    [TearDown]
    public void DisposeAndFlush()
    {
        foreach (var cache in _caches)
        {
            cache.Clear();
            cache.Dispose();
        }

        _caches.Clear();
    }

    private RedisCache NewCache(ISerializer serializer)
    {
        var cache = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString, Namespace = "py", Serializer = serializer };
        _caches.Add(cache);
        return cache;
    }

    [Test]
    public void What_Python_writes_reads_back_as_the_value_Python_meant()
    {
        var text = NewCache(new StringSerializer());
        var json = NewCache(new JsonSerializer());
        text.Raw("set", "py:none", "None");                       // StringSerializer().dumps(None) == str(None) == 'None'
        text.Raw("set", "py:inf", "inf");                         // str(float('inf')) == 'inf'
        json.Raw("set", "py:whole", "2.0");                       // json.dumps(2.0) == '2.0'
        json.Raw("set", "py:big", "1e+16");                       // json.dumps(1e16) == '1e+16'
        json.Raw("set", "py:nan", "NaN");                         // json.dumps(float('nan')) == 'NaN'
        // json.dumps({"Name": "t", "Value": 2.0, "Samples": [1.5, float("inf"), float("-inf")], "Count": 2})
        json.Raw("set", "py:m", """{"Name": "t", "Value": 2.0, "Samples": [1.5, Infinity, -Infinity], "Count": 2}""");

        Assert.Multiple(() =>
        {
            Assert.That(text.TryGet<string>("none", out var none), Is.True, "Python's None is a stored value");
            Assert.That(none, Is.Null);
            Assert.That(text.Get<int?>("none"), Is.Null);
            Assert.Throws<CacheSerializationException>(() => text.Get<int>("none"), "an int cannot be None");
            Assert.That(text.Get<double>("inf"), Is.EqualTo(double.PositiveInfinity));
            Assert.That(json.Get<double>("whole"), Is.EqualTo(2.0));
            Assert.That(json.Get<double>("big"), Is.EqualTo(1e16));
            Assert.That(double.IsNaN(json.Get<double>("nan")), Is.True);
            var m = json.Get<Measurement>("m")!;
            Assert.That(m.Value, Is.EqualTo(2.0));
            Assert.That(m.Samples, Is.EqualTo(new[] { 1.5, double.PositiveInfinity, double.NegativeInfinity }));
            Assert.That(m.Count, Is.EqualTo(2));
        });
    }

    [Test]
    public async Task What_we_write_is_the_text_Python_writes_for_the_same_value()
    {
        var text = NewCache(new StringSerializer());
        var json = NewCache(new JsonSerializer());

        await text.SetAsync<string?>("none", null);
        await json.SetAsync("whole", 2.0);
        await json.SetAsync("big", 1e16);
        await json.SetAsync("nan", double.NaN);
        await json.SetAsync("m", new Measurement("t", 2.0, [1.5, double.PositiveInfinity, double.NegativeInfinity], 2));
        var refused = Assert.ThrowsAsync<CacheSerializationException>(async () => await text.SetAsync("word", "None"));

        Assert.Multiple(() =>
        {
            Assert.That(text.Raw("get", "py:none"), Is.EqualTo("None"), "str(None)");
            Assert.That(json.Raw("get", "py:whole"), Is.EqualTo("2.0"), "json.dumps(2.0): json.loads reads a float, not the int 2");
            Assert.That(json.Raw("get", "py:big"), Is.EqualTo("1e+16"), "json.dumps(1e16)");
            Assert.That(json.Raw("get", "py:nan"), Is.EqualTo("NaN"), "json.dumps(float('nan'))");
            // json.dumps writes '{"Name": "t", "Value": 2.0, "Samples": [1.5, Infinity, -Infinity], "Count": 2}':
            // the same tokens, without the spaces, and json.loads reads both alike.
            Assert.That(json.Raw("get", "py:m"), Is.EqualTo("""{"Name":"t","Value":2.0,"Samples":[1.5,Infinity,-Infinity],"Count":2}"""));
            Assert.That(refused!.IsUnsupportedType, Is.False, "the string \"None\" would read back as null: that value is not stored");
            Assert.That(text.Raw("exists", "py:word"), Is.EqualTo(0L));
        });
        Assert.That(Encoding.UTF8.GetBytes((string)text.Raw("get", "py:none")!), Is.EqualTo(new byte[] { 0x4E, 0x6F, 0x6E, 0x65 }));
    }
}
