using System.Globalization;
using System.Text.Json.Serialization;
using Cached;
using Cached.Redis;

// With a Redis port (argument or CACHED_REDIS_PORT), the default cache is a RedisCache on the loopback address, with its
// default serializer: JSON, through ConsumerJsonContext under NativeAOT too. Without one, the in-process default.
var port = args.Length > 0 ? args[0] : Environment.GetEnvironmentVariable("CACHED_REDIS_PORT");
if (!string.IsNullOrEmpty(port))
{
    Caches.AddInstance("default", new RedisCache { Endpoint = "127.0.0.1", Port = int.Parse(port, CultureInfo.InvariantCulture) });
}

var weather = new Weather();
var first = await weather.GetForecastAsync("Lisbon");
var second = await weather.GetForecastAsync("Lisbon");
Console.WriteLine($"{first.City} {first.Celsius} | same: {ReferenceEquals(first, second)} | body calls: {weather.BodyCalls}");

internal sealed record Forecast(string City, double Celsius);

#if !WITHOUT_JSON_CONTEXT
// The usual System.Text.Json context, nothing of Cached's: the generator registers it.
[JsonSerializable(typeof(Forecast))]
internal sealed partial class ConsumerJsonContext : JsonSerializerContext;
#endif

internal sealed partial class Weather
{
    public int BodyCalls { get; private set; }

    [Cached(Ttl = 10, Key = "forecast:{city}")]
    public partial Task<Forecast> GetForecastAsync(string city);

    private Task<Forecast> GetForecastAsyncCore(string city)
    {
        BodyCalls++;
        return Task.FromResult(new Forecast(city, 21.5));
    }
}
