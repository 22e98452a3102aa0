// pycached's examples/serializer_class.py: a serializer of your own. This one compresses another serializer's
// payload with zlib, so long values take less room in the store; reads decompress them.
//
//   dotnet run --project samples/SerializerClass                                      # the memory backend
//   dotnet run --project samples/SerializerClass -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends, except those starting with '#'.
using System.Buffers;
using System.IO.Compression;
using System.Text;
using Cached;
using Cached.Serializers;

using var cache = CreateCache(args, new CompressionSerializer(new StringSerializer()));
Console.WriteLine($"backend: {cache.GetType().Name} with {cache.Serializer.GetType().Name}");

const string Text =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt " +
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation " +
    "ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in " +
    "reprehenderit in voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur " +
    "sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit " +
    "anim id est laborum. Lorem ipsum dolor sit amet, consectetur adipiscing elit.";

cache.Set("key", Text);
var readBack = cache.Get<string>("key");
var stored = StoredBytes(cache, "key");
var textBytes = Encoding.UTF8.GetByteCount(Text);
Console.WriteLine($"text: {textBytes} bytes as UTF-8");
Console.WriteLine($"get key returns the same text: {readBack == Text}");
Console.WriteLine($"the store holds fewer bytes than the text: {stored < textBytes}");
Console.WriteLine($"# the store holds {stored} bytes (zlib's output, which may change with its version)");
Console.WriteLine($"deleted: {cache.Delete("key")}");

// The payload's size, asked of the store itself: the memory backend holds the bytes, Redis answers STRLEN.
static long StoredBytes(ICache cache, string key) => cache is SimpleMemoryCache
    ? ((byte[])cache.Raw("get", cache.BuildKey(key))!).Length
    : (long)cache.Raw("strlen", cache.BuildKey(key))!;

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
// A URL names the connection; the serializer, an object rather than text, is given beside it.
static ICache CreateCache(string[] args, ISerializer serializer)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    if (string.IsNullOrEmpty(redisUrl))
    {
        return new SimpleMemoryCache { Namespace = "main", Serializer = serializer };
    }

    return Cache.FromUrl(Namespaced(redisUrl), serializer: serializer);

    static string Namespaced(string url) => $"{url}{(url.Contains('?') ? '&' : '?')}namespace=main";
}

/// <summary>Compresses the payload of another serializer with zlib, and decompresses it on the way back.</summary>
internal sealed class CompressionSerializer(ISerializer inner) : ISerializer
{
    // Compressed bytes are never a value in their own right, even in a cache that could keep references.
    public bool StoresReferences => false;

    public void Serialize<T>(IBufferWriter<byte> destination, T value)
    {
        var plain = new ArrayBufferWriter<byte>();
        inner.Serialize(plain, value);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(plain.WrittenSpan);
        }

        destination.Write(compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
    }

    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
    {
        using var zlib = new ZLibStream(new MemoryStream(payload.ToArray()), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        zlib.CopyTo(plain);
        return inner.Deserialize<T>(new ReadOnlySequence<byte>(plain.GetBuffer(), 0, (int)plain.Length));
    }
}
