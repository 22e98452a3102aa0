// pycached/aiocache's framework examples (Sanic, aiohttp, Tornado), as an ASP.NET Core minimal API: named caches from
// appsettings.json, a service whose [Cached] methods the source generator writes, and an endpoint with the cache's
// hit and miss counts.
//
//   dotnet run --project samples/WebApp --urls http://127.0.0.1:5000
//   REDIS_URL=redis://127.0.0.1:6379/0 dotnet run --project samples/WebApp --urls http://127.0.0.1:5000
//
//   curl http://127.0.0.1:5000/users/1            # twice: the second answer comes from the cache
//   curl 'http://127.0.0.1:5000/users?ids=1&ids=2'
//   curl http://127.0.0.1:5000/users              # every user
//   curl -X PUT -H 'Content-Type: application/json' -d '{"name":"Ada King"}' http://127.0.0.1:5000/users/1
//   curl http://127.0.0.1:5000/stats              # store reads: after the PUT, user 1 and the list miss, user 2 hits
//   curl http://127.0.0.1:5000/quotes/ACME         # a source that fails: take it down, the page keeps answering
//   curl -X POST http://127.0.0.1:5000/source/down; sleep 3; curl http://127.0.0.1:5000/quotes/ACME
//   curl http://127.0.0.1:5000/source              # its calls and failures; POST /source/up brings it back
//   curl -c jar -b jar http://127.0.0.1:5000/visits  # a session counter: ASP.NET Core's session, stored in Cached
//
// tests/Cached.Samples.Tests starts it on a free loopback port and checks these answers, on both backends.
using System.Globalization;
using Cached;
using Cached.Plugins;
using WebApp;

var builder = WebApplication.CreateBuilder(args);

// REDIS_URL (from the environment or the command line) moves the "default" and "sessions" aliases to that Redis
// server; their serializer, plugins and other settings stay as appsettings.json gives them.
if (builder.Configuration["REDIS_URL"] is { Length: > 0 } redisUrl)
{
    var url = new Uri(redisUrl);
    var database = url.AbsolutePath.Trim('/') is { Length: > 0 } number ? number : "0";
    foreach (var alias in new[] { "default", "sessions" })
    {
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"Cached:{alias}:Cache"] = "Cached.Redis.RedisCache",
            [$"Cached:{alias}:Endpoint"] = url.Host,
            [$"Cached:{alias}:Port"] = url.Port.ToString(CultureInfo.InvariantCulture),
            [$"Cached:{alias}:Database"] = database,
        });
    }
}

// Every alias of the "Cached" section: ICache is "default"; the generated methods use the same instances.
// AddDistributedCache serves the "sessions" alias as IDistributedCache, so ASP.NET Core's sessions live in Cached
// (namespace "session"): in memory by default, in Redis with REDIS_URL. An alias of their own keeps the session
// middleware's reads out of the user pages' hit and miss counts.
builder.Services.AddCached(cached => cached
    .FromConfiguration(builder.Configuration.GetSection("Cached"))
    .AddDistributedCache("sessions"));
builder.Services.AddSession(session =>
{
    session.IdleTimeout = TimeSpan.FromMinutes(20);
    session.Cookie.Name = ".WebApp.Session";
});
builder.Services.AddSingleton<UserStore>();
builder.Services.AddSingleton<UserService>();
builder.Services.AddSingleton<QuoteSource>();
builder.Services.AddSingleton<QuoteService>();

var app = builder.Build();
app.UseSession();

app.MapGet("/", () => "Cached sample: GET /users/{id}, GET /users?ids=1&ids=2, GET /users, PUT /users/{id}, GET /stats, GET /quotes/{symbol}, GET /source, POST /source/down, POST /source/up, GET /visits");

app.MapGet("/users/{id:int}", async (int id, UserService users, CancellationToken cancellationToken)
    => await users.GetUserAsync(id, cancellationToken) is { } user ? Results.Ok(user) : Results.NotFound());

// With ids, those users by id ([MultiCached]); without, the list of every user.
app.MapGet("/users", async (int[]? ids, UserService users, CancellationToken cancellationToken)
    => ids is { Length: > 0 }
        ? Results.Ok(await users.GetUsersAsync(ids, cancellationToken))
        : Results.Ok(await users.ListUsersAsync(cancellationToken)));

// Renames or adds a user; its tags make that user and the list miss, and only them ([InvalidateTags]).
app.MapPut("/users/{id:int}", async (int id, SaveUserRequest request, UserService users, CancellationToken cancellationToken) =>
{
    await users.SaveUserAsync(id, request.Name, cancellationToken);
    return Results.NoContent();
});

app.MapGet("/stats", (ICache cache, UserStore store) =>
{
    var ratio = cache.Plugins.OfType<HitMissRatioPlugin>().Single();
    return new CacheStats(cache.GetType().Name, store.Reads, ratio.Hits, ratio.Misses, ratio.Total);
});

// The quote page keeps answering while its source is down: the last quote, past its 2 s, is served (fail-safe).
app.MapGet("/quotes/{symbol}", (string symbol, QuoteService quotes, CancellationToken cancellationToken)
    => quotes.GetQuoteAsync(symbol, cancellationToken));

// This browser's visits, counted in its session: the session middleware reads and writes it through IDistributedCache.
app.MapGet("/visits", async (HttpContext context) =>
{
    await context.Session.LoadAsync(context.RequestAborted);
    var visits = (context.Session.GetInt32("visits") ?? 0) + 1;
    context.Session.SetInt32("visits", visits);
    return new Visits(visits);
});

app.MapGet("/source", (QuoteSource source) => new SourceState(source.IsDown, source.Calls, source.Failures));
app.MapPost("/source/down", (QuoteSource source) => source.IsDown = true);
app.MapPost("/source/up", (QuoteSource source) => source.IsDown = false);

app.Run();

internal sealed record SaveUserRequest(string Name);

/// <summary>What /stats answers: the backend, how often the store was read, and the cache's hits and misses.</summary>
internal sealed record CacheStats(string Backend, int StoreReads, long Hits, long Misses, long Total);

/// <summary>What /source answers: whether the quote source is down, its calls and its failures.</summary>
internal sealed record SourceState(bool Down, int Calls, int Failures);

/// <summary>How many times this session asked for /visits.</summary>
internal sealed record Visits(int Count);
