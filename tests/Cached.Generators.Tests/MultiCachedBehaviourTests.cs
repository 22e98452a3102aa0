using Cached.Generators.Tests.Scenarios;
using Cached.Plugins;

namespace Cached.Generators.Tests;

/// <summary>Generated [MultiCached] methods against SimpleMemoryCache (aiocache's multi_cached, with master's key fix).</summary>
public sealed class MultiCachedBehaviourTests
{
    private sealed class CommandCounter : CachePlugin
    {
        public int MultiGets;
        public int MultiSets;

        protected override void PostMultiGet(CacheCommandContext context) => MultiGets++;

        protected override void PostMultiSet(CacheCommandContext context) => MultiSets++;
    }

    private SimpleMemoryCache _cache = null!;
    private CommandCounter _commands = null!;
    private ForecastService _service = null!;

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        _commands = new CommandCounter();
        _cache = new SimpleMemoryCache { Plugins = [_commands] };
        Caches.AddInstance(UserService.Alias, _cache);
        _service = new ForecastService(new CallCounter());
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    [Test]
    public void A_cold_call_passes_every_key_and_stores_the_results_with_one_MultiSet()
    {
        var result = _service.ByArray(["Lisbon", "Oslo"]);

        Assert.That(result, Is.EquivalentTo(new Dictionary<string, double> { ["Lisbon"] = 6, ["Oslo"] = 4 }));
        Assert.That(_service.Requests.Single(), Is.EqualTo(new[] { "Lisbon", "Oslo" }));
        Assert.That((_commands.MultiGets, _commands.MultiSets), Is.EqualTo((1, 1)));
        Assert.That(_cache.Get<double>("Lisbon"), Is.EqualTo(6));
    }

    [Test]
    public void When_every_key_hits_the_body_is_not_called()
    {
        _service.ByArray(["Lisbon", "Oslo"]);

        var result = _service.ByArray(["Oslo", "Lisbon"]);

        Assert.That(result, Is.EquivalentTo(new Dictionary<string, double> { ["Lisbon"] = 6, ["Oslo"] = 4 }));
        Assert.That(_service.Requests, Has.Count.EqualTo(1));
        Assert.That(_commands.MultiGets, Is.EqualTo(2));
    }

    [Test]
    public void Only_the_missing_keys_reach_the_body_in_a_collection_of_the_declared_type()
    {
        _service.ByArray(["Lisbon"]);

        var result = _service.ByArray(["Lisbon", "Oslo", "Rome", "Oslo"]);

        Assert.That(_service.Requests[1], Is.EqualTo(new[] { "Oslo", "Rome" }), "missing keys, in order, once each");
        Assert.That(result.Keys, Is.EquivalentTo(new[] { "Lisbon", "Oslo", "Rome" }));
    }

    [Test]
    public void Keys_the_body_does_not_return_are_not_stored()
    {
        var result = _service.ByArray(["Atlantis", "Oslo"]);

        Assert.That(result.ContainsKey("Atlantis"), Is.False);
        Assert.That(_cache.Exists("Atlantis"), Is.False);
        _service.ByArray(["Atlantis", "Oslo"]);
        Assert.That(_service.Requests[1], Is.EqualTo(new[] { "Atlantis" }), "asked again, since it was never stored");
    }

    [Test]
    public void List_IReadOnlyList_and_interface_returns_work()
    {
        var list = _service.ByList(["a", "bb"]);
        _service.ByList(["a", "bb", "ccc"]);
        var readOnly = _service.ByReadOnlyList(["dddd"]);

        Assert.That(list["bb"], Is.EqualTo(2));
        Assert.That(_service.Requests[1], Is.EqualTo(new[] { "ccc" }));
        Assert.That(readOnly["dddd"], Is.EqualTo(4));
        Assert.That(_cache.Exists("a", @namespace: "list"), Is.True);
        Assert.That(_cache.Exists("dddd", @namespace: "readonly"), Is.True);
    }

    [Test]
    public async Task Async_methods_with_a_set_a_key_builder_and_SkipCacheWhen_work()
    {
        var result = await _service.BySetAsync([1, 2, -3], CancellationToken.None);

        Assert.That(result, Is.EquivalentTo(new Dictionary<int, double> { [1] = 1, [2] = 2, [-3] = -3 }));
        Assert.That(_cache.Exists("id-1", @namespace: "set"), Is.True, "stored under the key builder's key");
        Assert.That(_cache.Exists("id--3", @namespace: "set"), Is.False, "SkipCacheWhen kept the negative value out");

        await _service.BySetAsync([1, 2, -3], CancellationToken.None);
        Assert.That(_service.Requests[1], Is.EqualTo(new[] { "-3" }), "the body gets the original keys, not the built ones");
    }

    [Test]
    public async Task A_cancelled_token_comes_back_as_a_cancelled_task_without_running_the_body()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Task<Dictionary<int, double>> call = null!;
        Assert.DoesNotThrow(() => call = _service.BySetAsync([1, 2], cancelled.Token));
        Assert.That(() => call, Throws.InstanceOf<OperationCanceledException>());
        Assert.That(call.IsCanceled, Is.True);
        Assert.That(_service.Requests, Is.Empty, "the body did not run");
        Assert.That(() => _service.BySetAsync([], cancelled.Token), Throws.InstanceOf<OperationCanceledException>(), "not even for no keys");
        Assert.That(_service.Requests, Is.Empty);

        await _service.BySetAsync([1, 2], CancellationToken.None);
        Assert.That(() => _service.BySetAsync([1, 2], cancelled.Token), Throws.InstanceOf<OperationCanceledException>(), "nor does a hit answer it");
    }

    [Test]
    public void A_set_of_keys_reaches_the_body_with_the_callers_comparer()
    {
        var result = _service.ByCodeSet(new HashSet<string>(["ab", "xy"], StringComparer.OrdinalIgnoreCase));

        Assert.That(_service.SetComparers, Is.EqualTo(new[] { StringComparer.OrdinalIgnoreCase }), "the missing keys keep the caller's comparer");
        Assert.That(result, Is.EqualTo(new Dictionary<string, int> { ["ab"] = 2 }), "the body's Contains answered as the caller's set would");
    }

    [Test]
    public async Task ValueTask_of_an_interface_dictionary_works_and_hits_complete_synchronously()
    {
        var cold = await _service.ByEnumerableAsync(["x", "yy"]);
        var hit = _service.ByEnumerableAsync(["yy", "x"]);

        Assert.That(cold["yy"], Is.EqualTo(2));
        Assert.That(hit.IsCompletedSuccessfully, Is.True);
        Assert.That((await hit)["x"], Is.EqualTo(1));
        Assert.That(_service.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public void An_empty_key_list_calls_the_body_without_reading_the_cache()
    {
        var result = _service.ByArray([]);

        Assert.That(result, Is.Empty);
        Assert.That(_service.Requests.Single(), Is.Empty);
        Assert.That(_commands.MultiGets, Is.EqualTo(0));
    }

    [Test]
    public void An_invalidator_with_a_collection_of_keys_drops_the_entries_of_those_keys_only()
    {
        _service.ByArray(["Lisbon", "Oslo", "Rome"]);

        _service.Refresh(["Lisbon", "Oslo", "Lisbon"]);
        _service.ByArray(["Lisbon", "Oslo", "Rome"]);

        Assert.That(_service.Requests[1], Is.EqualTo(new[] { "Lisbon", "Oslo" }), "the dropped keys are computed again");
        Assert.That(_cache.Exists("Rome"), Is.True);
    }

    [Test]
    public async Task An_async_invalidator_with_one_key_drops_the_entry_under_the_key_builder_key()
    {
        await _service.BySetAsync([1, 2], CancellationToken.None);

        await _service.ForgetAsync(1, CancellationToken.None);

        Assert.That(_cache.Exists("id-1", @namespace: "set"), Is.False);
        Assert.That(_cache.Exists("id-2", @namespace: "set"), Is.True);
        await _service.BySetAsync([1, 2], CancellationToken.None);
        Assert.That(_service.Requests[1], Is.EqualTo(new[] { "1" }));
    }

    [Test]
    public async Task An_async_invalidator_of_two_methods_drops_the_keys_entries_of_both()
    {
        _service.ByArray(["Lisbon", "Oslo"]);
        _service.ByList(["Lisbon", "Oslo"]);

        await _service.RefreshAsync(["Lisbon"]);

        Assert.That((_cache.Exists("Lisbon"), _cache.Exists("Lisbon", @namespace: "list")), Is.EqualTo((false, false)));
        Assert.That((_cache.Exists("Oslo"), _cache.Exists("Oslo", @namespace: "list")), Is.EqualTo((true, true)));
    }
}
