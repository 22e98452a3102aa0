using Cached.Capabilities;
using Cached.Tests.Capabilities;

namespace Cached.Tests.Commands;

/// <summary>
/// On a store of UTF-8 keys (<c>StoresKeysAsUtf8</c>, as Redis), a key or namespace with a lone surrogate is a bad
/// argument like a null key (docs/caches.md): it fails the task whatever the token, and inside a batch it names the
/// batch's parameter and the item's index.
/// </summary>
public sealed class Utf8KeyArgumentTests
{
    private const string Lone = "s\ud800";

    private static ShortBackend NewCache() => new() { KeysAsUtf8 = true };

    [Test]
    public void A_lone_surrogate_fails_every_async_command_with_its_ArgumentException_whatever_the_token()
    {
        // Regression (review): the check ran where keys are built, after the token's, so these were cancelled tasks.
        using var cache = NewCache();

        Assert.That(WrongOutcomes(cache), Is.Empty, "each call should fail its task with the ArgumentException of its argument");
        Assert.That(cache.SingleWrites, Is.Zero);
    }

    [Test]
    public void Two_levels_over_a_store_of_UTF8_keys_refuse_a_lone_surrogate_whatever_the_token()
    {
        // Regression: two levels looked at the token first (a cancelled task), and GetOrSetAsync threw from the call.
        var l2 = NewCache();
        using var cache = new MultiLevelCache(new SimpleMemoryCache(), l2);

        Assert.That(WrongOutcomes(cache), Is.Empty, "each call should fail its task with the ArgumentException of its argument");
        Assert.That(l2.SingleWrites, Is.Zero);
    }

    private static List<string> WrongOutcomes(ICache cache)
    {
        var cancelled = new CancellationToken(canceled: true);
        string[] keys = ["ok", Lone];
        KeyValuePair<string, int>[] pairs = [KeyValuePair.Create("ok", 1), KeyValuePair.Create(Lone, 2)];
        var calls = new (string Name, string Refused, Func<Task> Call)[]
        {
            ("AddAsync", "key", () => cache.AddAsync(Lone, 1, cancellationToken: cancelled).AsTask()),
            ("SetAsync", "key", () => cache.SetAsync(Lone, 1, cancellationToken: cancelled).AsTask()),
            ("SetAsync(options)", "key", () => cache.SetAsync(Lone, 1, new CacheEntryOptions { FailSafe = TimeSpan.FromMinutes(1) }, cancellationToken: cancelled).AsTask()),
            ("GetAsync", "key", () => cache.GetAsync<int>(Lone, cancellationToken: cancelled).AsTask()),
            ("TryGetAsync", "key", () => cache.TryGetAsync<int>(Lone, cancellationToken: cancelled).AsTask()),
            ("ExistsAsync", "key", () => cache.ExistsAsync(Lone, cancellationToken: cancelled).AsTask()),
            ("IncrementAsync", "key", () => cache.IncrementAsync(Lone, cancellationToken: cancelled).AsTask()),
            ("DeleteAsync", "key", () => cache.DeleteAsync(Lone, cancellationToken: cancelled).AsTask()),
            ("ExpireAsync", "key", () => cache.ExpireAsync(Lone, TimeSpan.FromMinutes(1), cancellationToken: cancelled).AsTask()),
            ("MultiGetAsync", "keys", () => cache.MultiGetAsync<int>(keys, cancellationToken: cancelled).AsTask()),
            ("MultiTryGetAsync", "keys", () => cache.MultiTryGetAsync<int>(keys, cancellationToken: cancelled).AsTask()),
            ("MultiSetAsync", "pairs", () => cache.MultiSetAsync(pairs, cancellationToken: cancelled).AsTask()),
            ("SetAsync(namespace)", "namespace", () => cache.SetAsync("k", 1, @namespace: Lone, cancellationToken: cancelled).AsTask()),
            ("GetAsync(namespace)", "namespace", () => cache.GetAsync<int>("k", @namespace: Lone, cancellationToken: cancelled).AsTask()),
            ("DeleteAsync(namespace)", "namespace", () => cache.DeleteAsync("k", Lone, cancelled).AsTask()),
            ("MultiGetAsync(namespace)", "namespace", () => cache.MultiGetAsync<int>(["k"], Lone, cancellationToken: cancelled).AsTask()),
            ("MultiSetAsync(namespace)", "namespace", () => cache.MultiSetAsync([KeyValuePair.Create("k", 1)], @namespace: Lone, cancellationToken: cancelled).AsTask()),
            ("ClearAsync(namespace)", "namespace", () => cache.ClearAsync(Lone, cancelled).AsTask()),
            ("OpenFillAsync", "key", () => ((IFencedFillCache)cache).OpenFillAsync(Lone, cancellationToken: cancelled).AsTask()),
            ("OpenFillsAsync", "keys", () => ((IFencedFillCache)cache).OpenFillsAsync(keys, cancellationToken: cancelled).AsTask()),
            ("TryAcquireLockAsync", "key", () => ((ILockingCache)cache).TryAcquireLockAsync(Lone, null, "owner", TimeSpan.FromSeconds(1), cancelled).AsTask()),
            ("IsLockedAsync", "key", () => ((ILockingCache)cache).IsLockedAsync(Lone, null, cancelled).AsTask()),
            ("GetVersionAsync", "key", () => ((IVersionedCache)cache).GetVersionAsync(Lone, null, cancelled).AsTask()),
            ("SetIfVersionAsync", "key", () => ((IVersionedCache)cache).SetIfVersionAsync(Lone, null, null, 1, null, cancelled).AsTask()),
        };

        var wrong = new List<string>();
        foreach (var (name, refused, call) in calls)
        {
            var outcome = Outcome(call);
            if (outcome != "ArgumentException naming " + refused)
            {
                wrong.Add($"{name}: {outcome}");
            }
        }

        return wrong;
    }

    [Test]
    public void A_lone_surrogate_in_a_batch_is_refused_by_the_batchs_parameter_and_the_items_index_and_nothing_is_written()
    {
        // Regression (review): the refusal named "key" and not which item of the batch held it.
        using var cache = NewCache();
        string[] keys = ["ok", "fine", Lone];
        KeyValuePair<string, int>[] pairs = [KeyValuePair.Create("ok", 1), KeyValuePair.Create("fine", 2), KeyValuePair.Create(Lone, 3)];
        var refusals = new (string Name, Func<Task> Call, string Parameter, string Item)[]
        {
            ("MultiGet", () => Task.FromResult(cache.MultiGet<int>(keys)), "keys", "The key at index 2 "),
            ("MultiTryGet", () => Task.FromResult(cache.MultiTryGet<int>(keys)), "keys", "The key at index 2 "),
            ("MultiSet", () => Task.FromResult(cache.MultiSet(pairs)), "pairs", "The key of the pair at index 2 "),
            ("MultiGetAsync", () => cache.MultiGetAsync<int>(keys).AsTask(), "keys", "The key at index 2 "),
            ("MultiTryGetAsync", () => cache.MultiTryGetAsync<int>(keys).AsTask(), "keys", "The key at index 2 "),
            ("MultiSetAsync", () => cache.MultiSetAsync(pairs).AsTask(), "pairs", "The key of the pair at index 2 "),
            ("OpenFills", () => Task.FromResult(((IFencedFillCache)cache).OpenFills(keys)), "keys", "The key at index 2 "),
            ("OpenFillsAsync", () => ((IFencedFillCache)cache).OpenFillsAsync(keys).AsTask(), "keys", "The key at index 2 "),
        };

        Assert.Multiple(() =>
        {
            foreach (var (name, call, parameter, item) in refusals)
            {
                var refused = Assert.ThrowsAsync<ArgumentException>(async () => await call(), name);
                Assert.That(refused!.ParamName, Is.EqualTo(parameter), name);
                Assert.That(refused.Message, Does.StartWith(item).And.Contain("lone surrogate").And.Contain("UTF-8"), name);
            }
        });
        Assert.That(cache.SingleWrites, Is.Zero, "a batch with a refused key writes none of its pairs");
    }

    private static string Outcome(Func<Task> call)
    {
        Task task;
        try
        {
            task = call();
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name} thrown from the call";
        }

        try
        {
            task.Wait();
        }
        catch (AggregateException)
        {
        }

        return task.IsCanceled ? "cancelled task"
            : task.Exception?.InnerException is ArgumentException refused ? $"{refused.GetType().Name} naming {refused.ParamName}"
            : task.Status.ToString();
    }
}
