using System.Net;
using System.Net.Http.Json;
using Cached.Samples.Tests.Infrastructure;

namespace Cached.Samples.Tests;

/// <summary>
/// samples/WebApp, the ASP.NET Core counterpart of pycached's framework examples: started as a real server on a free
/// loopback port, asked over HTTP, stopped at the end. Repeated requests are answered from the cache (the store is
/// read once) and /stats shows the hits and misses, on the memory backend and on Redis.
/// </summary>
public sealed class WebAppTests
{
    private const int RedisDatabase = 7;

    [TestCase(false, TestName = "{m}_on_the_memory_backend")]
    [TestCase(true, TestName = "{m}_on_Redis")]
    [CancelAfter(120_000)]
    public async Task Answers_repeated_requests_from_the_cache(bool onRedis)
    {
        var cancellation = TestContext.CurrentContext.CancellationToken;
        var environment = new Dictionary<string, string?>();
        if (onRedis)
        {
            SampleRedis.Flush(RedisDatabase);
            environment["REDIS_URL"] = SampleRedis.Url(RedisDatabase);
        }

        // Port 0: Kestrel binds a port the system hands it and logs the address. A port picked by the test and
        // bound later by the app could be taken in between (the other test projects open connections all the time).
        environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        await using var app = SampleProcess.Start("WebApp", ["--urls", "http://127.0.0.1:0"], environment);
        try
        {
            var address = await ListeningAddressAsync(app, cancellation);
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
            {
                BaseAddress = address,
                Timeout = TimeSpan.FromSeconds(30),
            };
            var backend = onRedis ? "RedisCache" : "SimpleMemoryCache";

            // Two requests for one user: the store is read once, the second answer is a hit.
            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada Lovelace"}"""));
            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada Lovelace"}"""));
            Assert.That(await StatsAsync(http, cancellation), Is.EqualTo(new Stats(backend, StoreReads: 1, Hits: 1, Misses: 1, Total: 2)));

            // [MultiCached] shares the keys: user 1 is a hit, only user 2 is read from the store.
            Assert.That(
                await http.GetStringAsync("/users?ids=1&ids=2", cancellation),
                Is.EqualTo("""{"1":{"id":1,"name":"Ada Lovelace"},"2":{"id":2,"name":"Grace Hopper"}}"""));
            Assert.That(await StatsAsync(http, cancellation), Is.EqualTo(new Stats(backend, StoreReads: 2, Hits: 2, Misses: 2, Total: 4)));

            // [InvalidateCache]: after the rename the next read misses and sees the new name.
            using (var rename = await http.PutAsJsonAsync("/users/1", new { name = "Ada King" }, cancellation))
            {
                Assert.That(rename.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            }

            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada King"}"""));
            Assert.That(await StatsAsync(http, cancellation), Is.EqualTo(new Stats(backend, StoreReads: 3, Hits: 2, Misses: 3, Total: 5)));

            // Unknown users are not cached (SkipCacheWhen): each request reads the store.
            using (var missing = await http.GetAsync("/users/99", cancellation))
            {
                Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            }

            using (var missingAgain = await http.GetAsync("/users/99", cancellation))
            {
                Assert.That(missingAgain.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            }

            Assert.That(await StatsAsync(http, cancellation), Is.EqualTo(new Stats(backend, StoreReads: 5, Hits: 2, Misses: 5, Total: 7)));

            if (onRedis)
            {
                Assert.That(SampleRedis.Keys(RedisDatabase), Is.EqualTo(new[] { "webapp:user:1", "webapp:user:2" }), "the entries are in Redis, in the configured namespace");
            }
        }
        catch (Exception ex) when (ex is not AssertionException)
        {
            Assert.Fail($"{ex}\n{app.OutputSoFar}");
        }
        finally
        {
            if (onRedis)
            {
                SampleRedis.Flush(RedisDatabase);
            }
        }
    }

    private static async Task<Stats?> StatsAsync(HttpClient http, CancellationToken cancellationToken)
        => await http.GetFromJsonAsync<Stats>("/stats", cancellationToken);

    /// <summary>The address Kestrel reports once it listens ("Now listening on: http://127.0.0.1:PORT").</summary>
    private static async Task<Uri> ListeningAddressAsync(SampleProcess app, CancellationToken cancellationToken)
    {
        const string Prefix = "Now listening on: ";
        var line = await app.WaitForLineAsync(static line => line.Contains(Prefix, StringComparison.Ordinal), cancellationToken);
        return new Uri(line[(line.IndexOf(Prefix, StringComparison.Ordinal) + Prefix.Length)..].Trim());
    }

    private sealed record Stats(string Backend, int StoreReads, long Hits, long Misses, long Total);
}
