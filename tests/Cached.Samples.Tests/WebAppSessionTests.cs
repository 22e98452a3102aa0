using System.Net;
using System.Net.Http.Json;
using Cached.Samples.Tests.Infrastructure;

namespace Cached.Samples.Tests;

/// <summary>
/// ASP.NET Core's session middleware on Cached (issue 18): samples/WebApp registers the "default" alias as
/// IDistributedCache, and /visits counts a browser's visits in its session. Each browser (cookie jar) has its own
/// count, and on Redis the sessions are entries of the namespace "session" on the server.
/// </summary>
public sealed class WebAppSessionTests
{
    private const int RedisDatabase = 9;

    [TestCase(false, TestName = "{m}_on_the_memory_backend")]
    [TestCase(true, TestName = "{m}_on_Redis")]
    [CancelAfter(120_000)]
    public async Task Each_browser_keeps_its_own_session_in_the_cache(bool onRedis)
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
            var address = await WebAppTests.ListeningAddressAsync(app, cancellation);
            using var first = Browser(address);
            using var second = Browser(address);

            Assert.That(await VisitsAsync(first, cancellation), Is.EqualTo(1));
            Assert.That(await VisitsAsync(first, cancellation), Is.EqualTo(2));
            Assert.That(await VisitsAsync(second, cancellation), Is.EqualTo(1), "another browser, another session");
            Assert.That(await VisitsAsync(first, cancellation), Is.EqualTo(3));

            if (onRedis)
            {
                Assert.That(SampleRedis.Keys(RedisDatabase).Count(static key => key.StartsWith("session:", StringComparison.Ordinal)), Is.EqualTo(2));
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

    private static HttpClient Browser(Uri address)
        => new(new SocketsHttpHandler { UseProxy = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(30),
        };

    private static async Task<int> VisitsAsync(HttpClient browser, CancellationToken cancellation)
        => (await browser.GetFromJsonAsync<Visits>("/visits", cancellation))!.Count;

    private sealed record Visits(int Count);
}
