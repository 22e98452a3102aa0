using Cached;

var weather = new Weather();
var first = await weather.GetForecastAsync("Lisbon");
var second = await weather.GetForecastAsync("Lisbon");
Console.WriteLine($"{first.City} {first.Celsius} | same: {ReferenceEquals(first, second)} | body calls: {weather.BodyCalls}");

internal sealed record Forecast(string City, double Celsius);

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
