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

            // [InvalidateTags]: after the rename the next read misses and sees the new name. From here on the store's
            // reads count the misses: HitMissRatioPlugin counts keys found, and an entry whose tag was invalidated is
            // found, then refused. WebAppTagTests has the rest of the tags.
            using (var rename = await http.PutAsJsonAsync("/users/1", new { name = "Ada King" }, cancellation))
            {
                Assert.That(rename.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            }

            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada King"}"""));
            Assert.That((await StatsAsync(http, cancellation))!.StoreReads, Is.EqualTo(3));

            // Unknown users are not cached (SkipCacheWhen): each request reads the store.
            using (var missing = await http.GetAsync("/users/99", cancellation))
            {
                Assert.That(missing.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            }

            using (var missingAgain = await http.GetAsync("/users/99", cancellation))
            {
                Assert.That(missingAgain.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            }

            Assert.That((await StatsAsync(http, cancellation))!.StoreReads, Is.EqualTo(5));

            if (onRedis)
            {
                // Beside the entries, one record per tag: written with the tagged entries, or by the rename's invalidation.
                Assert.That(
                    SampleRedis.Keys(RedisDatabase),
                    Is.EqualTo(new[] { "webapp:__cached:tag:user:1", "webapp:__cached:tag:user:2", "webapp:__cached:tag:users", "webapp:user:1", "webapp:user:2" }),
                    "the entries and the tags' records are in Redis, in the configured namespace");
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

    [TestCase(false, TestName = "{m}_on_the_memory_backend")]
    [TestCase(true, TestName = "{m}_on_Redis")]
    [CancelAfter(120_000)]
    public async Task The_quote_page_keeps_answering_while_its_source_is_down(bool onRedis)
    {
        var cancellation = TestContext.CurrentContext.CancellationToken;
        var environment = new Dictionary<string, string?> { ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information" };
        if (onRedis)
        {
            SampleRedis.Flush(RedisDatabase);
            environment["REDIS_URL"] = SampleRedis.Url(RedisDatabase);
        }

        await using var app = SampleProcess.Start("WebApp", ["--urls", "http://127.0.0.1:0"], environment);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false })
            {
                BaseAddress = await ListeningAddressAsync(app, cancellation),
                Timeout = TimeSpan.FromSeconds(30),
            };
            // A first request of another symbol warms the new process (JIT, the cache, the source): the quote's 2 s
            // HardTimeout is then the source's alone, not a cold start's on a loaded machine.
            Assert.That((await http.GetFromJsonAsync<Quote>("/quotes/WARM", cancellation))!.Symbol, Is.EqualTo("WARM"));
            var first = await http.GetFromJsonAsync<Quote>("/quotes/ACME", cancellation);
            Assert.That(first!.Symbol, Is.EqualTo("ACME"));

            using (var down = await http.PostAsync("/source/down", null, cancellation))
            {
                Assert.That(down.IsSuccessStatusCode, Is.True);
            }

            // Past the quote's 2 s: every request still answers, with the last quote; the source is tried once per
            // 5 s throttle, not once per request.
            await Task.Delay(TimeSpan.FromSeconds(2.5), cancellation);
            for (var i = 0; i < 10; i++)
            {
                using var page = await http.GetAsync("/quotes/ACME", cancellation);
                Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK), await page.Content.ReadAsStringAsync(cancellation));
                Assert.That(await page.Content.ReadFromJsonAsync<Quote>(cancellation), Is.EqualTo(first));
            }

            var source = await http.GetFromJsonAsync<SourceState>("/source", cancellation);
            Assert.That(source, Is.EqualTo(new SourceState(Down: true, Calls: 3, Failures: 1)), "WARM's, ACME's, and one try of the source past ACME's 2 s");

            // Back up: once the throttle is over, the next request fetches a new quote.
            using (var up = await http.PostAsync("/source/up", null, cancellation))
            {
                Assert.That(up.IsSuccessStatusCode, Is.True);
            }

            await Task.Delay(TimeSpan.FromSeconds(5), cancellation);
            var fresh = await http.GetFromJsonAsync<Quote>("/quotes/ACME", cancellation);
            Assert.That(fresh!.Price, Is.Not.EqualTo(first.Price));
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

    private sealed record Quote(string Symbol, decimal Price, DateTimeOffset At);

    private sealed record SourceState(bool Down, int Calls, int Failures);

    private static async Task<Stats?> StatsAsync(HttpClient http, CancellationToken cancellationToken)
        => await http.GetFromJsonAsync<Stats>("/stats", cancellationToken);

    /// <summary>The address Kestrel reports once it listens ("Now listening on: http://127.0.0.1:PORT").</summary>
    internal static async Task<Uri> ListeningAddressAsync(SampleProcess app, CancellationToken cancellationToken)
    {
        const string Prefix = "Now listening on: ";
        var line = await app.WaitForLineAsync(static line => line.Contains(Prefix, StringComparison.Ordinal), cancellationToken);
        return new Uri(line[(line.IndexOf(Prefix, StringComparison.Ordinal) + Prefix.Length)..].Trim());
    }

    private sealed record Stats(string Backend, int StoreReads, long Hits, long Misses, long Total);
}
