// pycached's examples/python_object.py: store an object, read the same object back. pycached pickles it; here
// JsonSerializer (System.Text.Json) writes records and plain classes as JSON, which any reader (a Python service
// included) understands, and stored bytes never choose the type that is created.
//
//   dotnet run --project samples/PythonObject                                      # the memory backend
//   dotnet run --project samples/PythonObject -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=redis://...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using System.Text;
using Cached;
using Cached.Serializers;

using var cache = CreateCache(args);
Console.WriteLine($"backend: {cache.GetType().Name} with {cache.Serializer.GetType().Name}");

// A record: pycached's namedtuple MyObject(x, y).
var myObject = new MyObject(X: 1, Y: 2);
cache.Set("key", myObject);
var readBack = cache.Get<MyObject>("key");
Console.WriteLine($"get key: {readBack}");
Console.WriteLine($"equal: {readBack == myObject}, same instance: {ReferenceEquals(readBack, myObject)}");
Console.WriteLine($"stored as: {StoredText(cache, "key")}");

// A plain class with nested objects works the same way.
var order = new Order
{
    Id = 42,
    Customer = "Ada",
    PlacedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
    Lines = [new OrderLine("tea", 2), new OrderLine("scone", 1)],
};
cache.Set("order:42", order);
var storedOrder = cache.Get<Order>("order:42")!;
Console.WriteLine($"get order:42: #{storedOrder.Id} for {storedOrder.Customer}, {storedOrder.Lines.Count} lines: {string.Join(", ", storedOrder.Lines)}");
Console.WriteLine($"stored as: {StoredText(cache, "order:42")}");

Console.WriteLine($"deleted: {cache.Delete("key") + cache.Delete("order:42")}");

// What the backend holds, read with a raw command on the stored key: bytes in memory, a string in Redis.
static string StoredText(ICache cache, string key) => cache.Raw("get", cache.BuildKey(key)) switch
{
    byte[] bytes => Encoding.UTF8.GetString(bytes),
    var other => other?.ToString() ?? "(nothing)",
};

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server. The memory
// cache keeps references unless told to serialize; RedisCache serializes with JsonSerializer by default.
static ICache CreateCache(string[] args)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    return string.IsNullOrEmpty(redisUrl)
        ? new SimpleMemoryCache { Namespace = "main", Serializer = new JsonSerializer() }
        : Cache.FromUrl($"{redisUrl}{(redisUrl.Contains('?') ? '&' : '?')}namespace=main");
}

internal sealed record MyObject(int X, int Y);

internal sealed record OrderLine(string Product, int Quantity);

internal sealed class Order
{
    public int Id { get; init; }

    public required string Customer { get; init; }

    public DateTimeOffset PlacedAt { get; init; }

    public List<OrderLine> Lines { get; init; } = [];
}
