// pycached's examples/serializer_function.py: a serializer made of two functions (pycached's dumps_fn/loads_fn),
// given to single commands rather than to the cache. Here they write MyType as a small JSON object and read it back.
//
//   dotnet run --project samples/SerializerFunction                                      # the memory backend
//   dotnet run --project samples/SerializerFunction -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using System.Text;
using System.Text.Json.Nodes;
using Cached;
using Cached.Serializers;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name}");

var myTypeJson = new FunctionSerializer<MyType>(
    dumps: value => new JsonObject { ["x"] = value.X, ["y"] = value.Y }.ToJsonString(),
    loads: text => JsonNode.Parse(text) is JsonObject json
        ? new MyType(json["x"]!.GetValue<double>(), json["y"]!.GetValue<double>())
        : throw new FormatException($"'{text}' is not a JSON object."));

cache.Set("key", new MyType(1, 2), serializer: myTypeJson);

var obj = cache.Get<MyType>("key", serializer: myTypeJson)!;
Console.WriteLine($"get key with the functions: x = {obj.X}, y = {obj.Y}");

// What the functions wrote is plain JSON: any JSON reader gets a dictionary out of it.
var plain = cache.Get<Dictionary<string, double>>("key", serializer: new JsonSerializer())!;
Console.WriteLine($"get key as a dictionary: {string.Join(", ", plain.Select(pair => $"{pair.Key} = {pair.Value}"))}");
Console.WriteLine($"stored as: {StoredText(cache, "key")}");

Console.WriteLine($"deleted: {cache.Delete("key")}");

// What the backend holds, read with a raw command on the stored key: bytes in memory, a string in Redis.
static string StoredText(ICache cache, string key) => cache.Raw("get", cache.BuildKey(key)) switch
{
    byte[] bytes => Encoding.UTF8.GetString(bytes),
    var other => other?.ToString() ?? "(nothing)",
};

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
static ICache CreateCache(string[] args)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    return string.IsNullOrEmpty(redisUrl)
        ? new SimpleMemoryCache { Namespace = "main" }
        : Cache.FromUrl($"{redisUrl}{(redisUrl.Contains('?') ? '&' : '?')}namespace=main");
}

/// <summary>A type the cache's own serializer knows nothing about; the two functions do.</summary>
internal sealed class MyType(double x, double y)
{
    public double X { get; } = x;

    public double Y { get; } = y;
}
