using System.Net;
using System.Net.Http.Json;
using Cached.Samples.Tests.Infrastructure;

namespace Cached.Samples.Tests;

/// <summary>
/// The tags of samples/WebApp's user pages (issue 17): each user's entry is tagged <c>user:{id}</c>, the list
/// <c>users</c>, and a save invalidates both for its user. The store's read count, from /stats, tells a miss from a
/// hit: a save makes that user and the list read the store again, and leaves the other users' entries hits. On the
/// memory backend and on Redis, each test with its own server process.
/// </summary>
public sealed class WebAppTagTests
{
    private const int RedisDatabase = 8;

    [TestCase(false, TestName = "{m}_on_the_memory_backend")]
    [TestCase(true, TestName = "{m}_on_Redis")]
    [CancelAfter(120_000)]
    public async Task A_save_makes_that_user_and_the_list_miss(bool onRedis)
    {
        await WithWebAppAsync(onRedis, async (http, cancellation) =>
        {
            // The first read of a user and of the list reads the store; the second is a hit.
            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada Lovelace"}"""));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(1));
            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada Lovelace"}"""));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(1), "the second read of user 1 is a hit");

            Assert.That(await http.GetStringAsync("/users", cancellation), Is.EqualTo(List("Ada Lovelace")));
            Assert.That(await http.GetStringAsync("/users", cancellation), Is.EqualTo(List("Ada Lovelace")));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(2), "the list is read once");

            await SaveAsync(http, 1, "Ada King", cancellation);
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(2), "a save reads nothing");

            // [InvalidateTags("user:{id}", "users")]: both entries miss once, then hit again.
            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada King"}"""));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(3), "user 1 missed");
            Assert.That(await http.GetStringAsync("/users", cancellation), Is.EqualTo(List("Ada King")));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(4), "the list missed");
            Assert.That(await http.GetStringAsync("/users/1", cancellation), Is.EqualTo("""{"id":1,"name":"Ada King"}"""));
            Assert.That(await http.GetStringAsync("/users", cancellation), Is.EqualTo(List("Ada King")));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(4), "the entries stored after the save hit");
        });
    }

    [TestCase(false, TestName = "{m}_on_the_memory_backend")]
    [TestCase(true, TestName = "{m}_on_Redis")]
    [CancelAfter(120_000)]
    public async Task A_save_of_user_1_leaves_the_other_users_entries_hits(bool onRedis)
    {
        await WithWebAppAsync(onRedis, async (http, cancellation) =>
        {
            // User 2 through GET /users/{id}, user 3 through the [MultiCached] batch: each entry carries its own tag.
            await http.GetStringAsync("/users/1", cancellation);
            await http.GetStringAsync("/users/2", cancellation);
            await http.GetStringAsync("/users?ids=3", cancellation);
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(3));

            await SaveAsync(http, 1, "Ada King", cancellation);

            Assert.That(await http.GetStringAsync("/users/2", cancellation), Is.EqualTo("""{"id":2,"name":"Grace Hopper"}"""));
            Assert.That(
                await http.GetFromJsonAsync<Dictionary<int, User>>("/users?ids=2&ids=3", cancellation),
                Is.EquivalentTo(new Dictionary<int, User> { [2] = new(2, "Grace Hopper"), [3] = new(3, "Alan Turing") }));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(3), "users 2 and 3 hit after the save of user 1");

            Assert.That(
                await http.GetFromJsonAsync<Dictionary<int, User>>("/users?ids=1&ids=2", cancellation),
                Is.EquivalentTo(new Dictionary<int, User> { [1] = new(1, "Ada King"), [2] = new(2, "Grace Hopper") }));
            Assert.That(await StoreReadsAsync(http, cancellation), Is.EqualTo(4), "only user 1 was read again");
        });
    }

    /// <summary>The JSON of GET /users, with user 1 named <paramref name="first"/>.</summary>
    private static string List(string first)
        => $$"""[{"id":1,"name":"{{first}}"},{"id":2,"name":"Grace Hopper"},{"id":3,"name":"Alan Turing"}]""";

    private static async Task SaveAsync(HttpClient http, int id, string name, CancellationToken cancellationToken)
    {
        using var save = await http.PutAsJsonAsync($"/users/{id}", new { name }, cancellationToken);
        Assert.That(save.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
    }

    private static async Task<int> StoreReadsAsync(HttpClient http, CancellationToken cancellationToken)
        => (await http.GetFromJsonAsync<Stats>("/stats", cancellationToken))!.StoreReads;

    /// <summary>Starts the sample on a free loopback port (on Redis, on an empty database), runs <paramref name="body"/>, stops it.</summary>
    private static async Task WithWebAppAsync(bool onRedis, Func<HttpClient, CancellationToken, Task> body)
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
                BaseAddress = await WebAppTests.ListeningAddressAsync(app, cancellation),
                Timeout = TimeSpan.FromSeconds(30),
            };
            await body(http, cancellation);
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

    private sealed record Stats(int StoreReads);

    private sealed record User(int Id, string Name);
}
