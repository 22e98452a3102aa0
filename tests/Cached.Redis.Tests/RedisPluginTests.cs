using System.Diagnostics;
using Cached.Diagnostics;
using Cached.Plugins;
using Cached.Tests.Diagnostics;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Redis.Tests;

/// <summary>Plugins, metrics and traces on a real redis-server, whose async commands complete after they return.</summary>
[TestFixture]
[NonParallelizable]
public sealed class RedisPluginTests
{
    private const string Alias = "redis_plugin_review";

    private sealed class LoggingPlugin : ICachePlugin
    {
        private readonly object _gate = new();
        private readonly List<string> _log = [];

        public IReadOnlyList<string> Log
        {
            get
            {
                lock (_gate)
                {
                    return _log.ToArray();
                }
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _log.Clear();
            }
        }

        public void Pre(CacheCommandContext context)
        {
            lock (_gate)
            {
                _log.Add($"Pre {context.Command} {context.Key ?? string.Join(",", context.Keys ?? [])}");
            }
        }

        public void Post(CacheCommandContext context)
        {
            lock (_gate)
            {
                _log.Add($"Post {context.Command} {context.Key ?? string.Join(",", context.Keys ?? [])} hits={context.Hits}");
            }
        }
    }

    private static TestCaseData Case(string name, string expected, Func<ICache, Task> run) => new TestCaseData(expected, run).SetArgDisplayNames(name);

    private static Func<ICache, Task> Sync(Action<ICache> action) => cache =>
    {
        action(cache);
        return Task.CompletedTask;
    };

    private static IEnumerable<TestCaseData> Commands()
    {
        yield return Case("Add", "Add new", Sync(static c => c.Add("new", "v")));
        yield return Case("Get", "Get existing", Sync(static c => c.Get<string>("existing")));
        yield return Case("MultiGet", "MultiGet existing,absent", Sync(static c => c.MultiGet<string>(["existing", "absent"])));
        yield return Case("Set", "Set existing", Sync(static c => c.Set("existing", "w")));
        yield return Case("MultiSet", "MultiSet m1,m2", Sync(static c => c.MultiSet(new Dictionary<string, string> { ["m1"] = "a", ["m2"] = "b" })));
        yield return Case("Exists", "Exists existing", Sync(static c => c.Exists("existing")));
        yield return Case("Increment", "Increment counter", Sync(static c => c.Increment("counter", 2)));
        yield return Case("Delete", "Delete existing", Sync(static c => c.Delete("existing")));
        yield return Case("Clear", "Clear ", Sync(static c => c.Clear()));
        yield return Case("Expire", "Expire existing", Sync(static c => c.Expire("existing", TimeSpan.FromSeconds(10))));
        yield return Case("Raw", "Raw ", Sync(static c => c.Raw("DBSIZE")));
        yield return Case("AddAsync", "Add new", static async c => await c.AddAsync("new", "v"));
        yield return Case("GetAsync", "Get existing", static async c => await c.GetAsync<string>("existing"));
        yield return Case("TryGetAsync", "Get existing", static async c => await c.TryGetAsync<string>("existing"));
        yield return Case("MultiGetAsync", "MultiGet existing,absent", static async c => await c.MultiGetAsync<string>(["existing", "absent"]));
        yield return Case("SetAsync", "Set existing", static async c => await c.SetAsync("existing", "w"));
        yield return Case("MultiSetAsync", "MultiSet m1,m2", static async c => await c.MultiSetAsync(new Dictionary<string, string> { ["m1"] = "a", ["m2"] = "b" }));
        yield return Case("ExistsAsync", "Exists existing", static async c => await c.ExistsAsync("existing"));
        yield return Case("IncrementAsync", "Increment counter", static async c => await c.IncrementAsync("counter", 2));
        yield return Case("DeleteAsync", "Delete existing", static async c => await c.DeleteAsync("existing"));
        yield return Case("ClearAsync", "Clear ", static async c => await c.ClearAsync());
        yield return Case("ExpireAsync", "Expire existing", static async c => await c.ExpireAsync("existing", TimeSpan.FromSeconds(10)));
        yield return Case("RawAsync", "Raw ", static async c => await c.RawAsync("DBSIZE"));
    }

    private static RedisCache NewCache(params ICachePlugin[] plugins) => new()
    {
        ConnectionString = SharedRedis.Server.ConnectionString,
        Namespace = "plugin-review",
        Serializer = new JsonSerializer(),
        Alias = Alias,
        Plugins = plugins,
    };

    [TestCaseSource(nameof(Commands))]
    public async Task Every_command_on_Redis_runs_one_pre_and_one_post_hook_and_records_one_duration(string expected, Func<ICache, Task> run)
    {
        var plugin = new LoggingPlugin();
        using var cache = NewCache(plugin);
        cache.Clear();
        cache.Set("existing", "value");
        cache.Set("counter", 5L);
        plugin.Clear();
        using var recorder = new CachedMeterRecorder(Alias);

        await run(cache);

        var command = expected.Split(' ')[0];
        Assert.Multiple(() =>
        {
            Assert.That(plugin.Log.Select(static line => line.Split(" hits=")[0]), Is.EqualTo(new[] { $"Pre {expected}", $"Post {expected}" }));
            Assert.That(recorder.Of("cached.command.duration").Select(static m => m["cache.command"]), Is.EqualTo(new[] { command.ToLowerInvariant() }));
            Assert.That(recorder.Of("cached.errors"), Is.Empty);
        });
        cache.Clear();
    }

    [Test]
    public async Task HitMissRatio_and_the_meter_count_each_key_of_a_Redis_MultiGet()
    {
        var ratio = new HitMissRatioPlugin();
        using var cache = NewCache(ratio);
        cache.Clear();
        cache.MultiSet(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2, ["c"] = 3 });
        using var recorder = new CachedMeterRecorder(Alias);

        await cache.MultiGetAsync<int>(["a", "b", "x", "c", "y"]);
        cache.MultiGet<int>(["a", "z"]);
        await cache.GetAsync<int>("a");
        await cache.TryGetAsync<int>("nope");

        Assert.Multiple(() =>
        {
            Assert.That((ratio.Hits, ratio.Misses, ratio.Total), Is.EqualTo((5L, 4L, 9L)));
            Assert.That(recorder.Sum("cached.hits"), Is.EqualTo(5));
            Assert.That(recorder.Sum("cached.misses"), Is.EqualTo(4));
        });
        cache.Clear();
    }

    [Test]
    public async Task A_Redis_TryGetAsync_leaves_the_caller_s_current_activity_as_it_was()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is CachedDiagnostics.ActivitySourceName or "review.app",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var app = new ActivitySource("review.app");
        using var cache = NewCache();
        cache.Set("k", "v");
        using var request = app.StartActivity("request");

        await cache.TryGetAsync<string>("k");
        var afterRead = Activity.Current?.DisplayName;
        using var next = app.StartActivity("next step");

        Assert.Multiple(() =>
        {
            Assert.That(afterRead, Is.EqualTo("request"));
            Assert.That(next?.Parent?.DisplayName, Is.EqualTo("request"), "the request's next span is a child of the request, not of a finished cache get");
        });
        cache.Clear();
    }
}
