using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Configuration;

/// <summary>
/// What becomes of an instance <see cref="Caches"/> made once a change replaces it: it serves its holders through
/// <see cref="Caches.ReplacedInstanceGrace"/>, then is disposed between commands; instances that are someone else's
/// are never disposed by <see cref="Caches"/>.
/// </summary>
[NonParallelizable]
public class ReplacedInstanceTests
{
    private const string Memory = "Cached.SimpleMemoryCache";
    private static readonly string s_connected = typeof(ConnectedBackend).FullName!;

    /// <summary>Only ends a wait for a disposal that will never come; not a timing claim.</summary>
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(30);

    private FakeTimeProvider _time = null!;

    [SetUp]
    public void SetUp()
    {
        Caches.Reset();
        ConnectedBackend.Made.Clear();
        _time = new FakeTimeProvider();
        Caches.TimeProvider = _time;
    }

    [TearDown]
    public void TearDown()
    {
        Caches.Reset();
        ConnectedBackend.Made.Clear();
    }

    private static CacheConfig Connected(string @namespace = "ns") => new() { Cache = s_connected, ["Namespace"] = @namespace };

    private static void Configure(params (string Alias, CacheConfig Config)[] aliases)
    {
        var config = new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory } };
        foreach (var (alias, entry) in aliases)
        {
            config[alias] = entry;
        }

        Caches.SetConfig(config);
    }

    private void EndTheGracePeriod() => _time.Advance(Caches.ReplacedInstanceGrace);

    [Test]
    public void Three_hundred_changes_dispose_every_instance_Caches_made_and_replaced_and_only_those()
    {
        Configure(("main", Connected("0")));
        var memories = new List<SimpleMemoryCache> { (SimpleMemoryCache)Caches.Get() };
        Caches.Get("main").Set("k", 0);

        for (var change = 1; change <= 300; change++)
        {
            switch (change % 3)
            {
                case 0:
                    // Names both aliases: both instances are dropped.
                    Configure(("main", Connected(change.ToString(System.Globalization.CultureInfo.InvariantCulture))));
                    break;
                case 1:
                    // As in pycached, the instance already made keeps being served.
                    Caches.Add("main", Connected("added"));
                    break;
                default:
                    Caches.Add("other", Connected("other"));
                    break;
            }

            Caches.Get("main").Set("k", change);
            var memory = (SimpleMemoryCache)Caches.Get();
            if (!memories.Contains(memory))
            {
                memories.Add(memory);
            }
        }

        EndTheGracePeriod();

        var made = ConnectedBackend.Made.ToList();
        TestContext.Out.WriteLine($"300 changes: {made.Count} instances made, {made.Count(c => c.DisposeCount > 0)} disposed; {memories.Count} memory caches made, {memories.Count(m => m.IsDisposed)} disposed");
        Assert.Multiple(() =>
        {
            Assert.That(made, Has.Count.EqualTo(101), "one to start with, one per SetConfig");
            Assert.That(made.SkipLast(1).Select(c => c.DisposeCount), Is.All.EqualTo(1), "every replaced instance, once");
            Assert.That(made[^1].DisposeCount, Is.Zero, "the current instance stays");
            Assert.That(Caches.Get("main"), Is.SameAs(made[^1]));
            Assert.That(memories, Has.Count.EqualTo(101));
            Assert.That(memories.SkipLast(1).Select(m => m.IsDisposed), Is.All.True);
            Assert.That(memories[^1].IsDisposed, Is.False);
        });
    }

    [Test]
    public async Task A_command_running_on_a_replaced_instance_finishes_and_the_instance_is_disposed_after_it()
    {
        Configure(("main", Connected()));
        var old = (ConnectedBackend)Caches.Get("main");
        old.Set("k", "v");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        old.ReadGate = gate.Task;
        var running = old.GetAsync<string>("k").AsTask();
        Assert.That(running.IsCompleted, Is.False, "the read waits inside the backend");

        Configure(("main", Connected()));
        EndTheGracePeriod();

        Assert.That(old.DisposeCount, Is.Zero, "not while a command runs on it");
        gate.SetResult();
        Assert.That(await running, Is.EqualTo("v"), "the command finishes on its connection");
        await Caches.WhenDisposed(old).WaitAsync(s_limit);
        Assert.That(old.DisposeCount, Is.EqualTo(1), "disposed once the command ended");
    }

    [Test]
    public void A_caller_that_fetched_the_instance_before_the_change_is_served_until_the_grace_period_ends()
    {
        Configure(("main", Connected()));
        var fetched = Caches.Get("main");

        Configure(("main", Connected()));

        Assert.That(Caches.Get("main"), Is.Not.SameAs(fetched));
        Assert.That(fetched.Set("k", "v"), Is.True, "served after the change");
        _time.Advance(Caches.ReplacedInstanceGrace - TimeSpan.FromTicks(1));
        Assert.That(fetched.Get<string>("k"), Is.EqualTo("v"), "served through the grace period");
        Assert.That(((ConnectedBackend)fetched).DisposeCount, Is.Zero);

        _time.Advance(TimeSpan.FromTicks(1));

        Assert.That(((ConnectedBackend)fetched).DisposeCount, Is.EqualTo(1), "idle once the grace period ends: disposed then");
        var late = Assert.Throws<ObjectDisposedException>(() => fetched.Get<string>("k"));
        Assert.That(late!.Message, Does.Contain("alias 'main' was replaced").And.Contain("Caches.Get(\"main\")"));
    }

    [Test]
    public void An_instance_passed_to_AddInstance_is_never_disposed_and_the_made_one_it_replaces_is()
    {
        Configure(("main", Connected()), ("mine", Connected()));
        var made = (ConnectedBackend)Caches.Get("main");
        var mine = new ConnectedBackend();
        var adopted = (ConnectedBackend)Caches.Get("mine");

        Caches.AddInstance("main", mine);
        Caches.AddInstance("mine", adopted);
        Configure(("main", Connected()), ("mine", Connected()));
        _ = Caches.Get("main");
        Caches.AddInstance("main", mine);
        EndTheGracePeriod();

        Assert.Multiple(() =>
        {
            Assert.That(made.DisposeCount, Is.EqualTo(1), "made by Caches and replaced by AddInstance");
            Assert.That(mine.DisposeCount, Is.Zero, "yours, though replaced by SetConfig");
            Assert.That(adopted.DisposeCount, Is.Zero, "made by Caches, but passed back with AddInstance: yours");
            Assert.That(ConnectedBackend.Made.Where(c => c != mine && c != adopted && c != made).Select(c => c.DisposeCount), Is.All.EqualTo(1));
            Assert.That(Caches.Get("main"), Is.SameAs(mine));
        });
        Assert.That(mine.Get<string>("absent"), Is.Null, "still usable");
    }

    [Test]
    public void An_alias_a_change_does_not_name_keeps_its_instance_undisposed()
    {
        Configure(("main", Connected()), ("other", Connected()));
        var main = (ConnectedBackend)Caches.Get("main");
        var other = (ConnectedBackend)Caches.Get("other");

        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = new() { Cache = Memory }, ["main"] = Connected() });
        Caches.Add("other", Connected("changed"));
        EndTheGracePeriod();

        Assert.Multiple(() =>
        {
            Assert.That(main.DisposeCount, Is.EqualTo(1));
            Assert.That(other.DisposeCount, Is.Zero);
            Assert.That(Caches.Get("other"), Is.SameAs(other));
        });
    }

    [Test]
    public void A_cache_the_container_handed_out_lives_as_long_as_the_container_not_as_the_configuration()
    {
        var services = new ServiceCollection();
        services.AddCached(cached => cached.AddCache("main", Connected()).AddCache("other", Connected()));
        var provider = services.BuildServiceProvider();
        var handedOut = (ConnectedBackend)provider.GetRequiredKeyedService<ICache>("main");
        var forGeneratedCode = (ConnectedBackend)Caches.Get("other");

        Configure(("main", Connected()), ("other", Connected()));
        EndTheGracePeriod();

        Assert.Multiple(() =>
        {
            Assert.That(handedOut.DisposeCount, Is.Zero, "the container's until it is disposed");
            Assert.That(forGeneratedCode.DisposeCount, Is.EqualTo(1), "made by Caches for nobody else: disposed when replaced");
        });
        var freshMain = (ConnectedBackend)Caches.Get("main");
        provider.Dispose();
        Assert.Multiple(() =>
        {
            Assert.That(handedOut.DisposeCount, Is.EqualTo(1), "disposed with the container");
            Assert.That(freshMain.DisposeCount, Is.Zero, "not the container's: made for the configuration set after it");
        });
    }
}
