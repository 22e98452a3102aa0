using Cached.Runtime;

namespace Cached.Tests.Resilience;

/// <summary>
/// A [MultiCached] body owns the keys it is handed: it may sort, shrink or clear that list (use it as a work queue)
/// without changing what the runtime answers, stores or serves with fail-safe. Regressions of a review: the body was
/// handed the runtime's own working list, which the runtime read again after the body returned.
/// </summary>
public sealed class MultiCachedBodyArgumentTests : ResilienceFixture
{
    private static IEnumerable<KeyValuePair<int, string>> Load(List<int> ids, Action<List<int>> change)
    {
        var loaded = ids.ToDictionary(static id => id, static id => "v" + id);
        change(ids);
        return loaded;
    }

    [Test]
    public async Task A_caller_waiting_on_a_batch_whose_body_reorders_or_empties_its_keys_gets_each_key_s_own_value([Values] bool async, [Values("sort", "remove", "clear")] string change)
    {
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Users.GetMany", CacheFactory = () => Cache, Ttl = 60 });
        Action<List<int>> mutate = change switch
        {
            "sort" => static ids => ids.Sort(static (x, y) => y.CompareTo(x)),
            "remove" => static ids => ids.RemoveAt(0),
            _ => static ids => ids.Clear(),
        };
        using var entered = new ManualResetEventSlim();
        using var gate = new ManualResetEventSlim();
        var leader = Task.Run(() => method.Invoke([1, 2, 3], 0, static (_, id) => "u:" + id, (_, ids) =>
        {
            entered.Set();
            gate.Wait(Limit);
            return Load(ids, mutate);
        }));
        Assert.That(entered.Wait(Limit), Is.True);

        var waiter = async
            ? method.InvokeAsync([3, 2, 4], 0, static (_, id) => "u:" + id, static (_, ids, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(Load(ids, static _ => { })), null, CancellationToken.None).AsTask()
            : Task.Run(() => method.Invoke([3, 2, 4], 0, static (_, id) => "u:" + id, static (_, ids) => Load(ids, static _ => { })));
        var deadline = DateTime.UtcNow + Limit;
        while (method.WaitingBatches == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.That(method.WaitingBatches, Is.EqualTo(1), "the second call waits for keys 3 and 2 of the first batch");
        gate.Set();

        Assert.That(await leader.WaitAsync(Limit), Is.EqualTo(new Dictionary<int, string> { [1] = "v1", [2] = "v2", [3] = "v3" }));
        Assert.That(await waiter.WaitAsync(Limit), Is.EqualTo(new Dictionary<int, string> { [3] = "v3", [2] = "v2", [4] = "v4" }));
    }

    [Test]
    public async Task With_fail_safe_a_body_that_empties_its_keys_and_fails_is_answered_with_the_last_values_or_fails_the_call([Values] bool async)
    {
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Users.GetSafe", CacheFactory = () => Cache, Ttl = 10, FailSafe = 60 });
        ValueTask<Dictionary<int, string>> Call(Func<List<int>, IEnumerable<KeyValuePair<int, string>>> body, params int[] ids)
            => async
                ? method.InvokeAsync(ids, body, static (_, id) => "s:" + id, static (b, missing, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(b(missing)), null, CancellationToken.None)
                : new ValueTask<Dictionary<int, string>>(method.Invoke(ids, body, static (_, id) => "s:" + id, static (b, missing) => b(missing)));

        await Call(static ids => Load(ids, static _ => { }), 5, 6, 7);
        Time.Advance(TimeSpan.FromSeconds(11));

        Assert.That(
            await Call(static ids => { ids.Clear(); throw new InvalidOperationException("source down"); }, 5, 6),
            Is.EqualTo(new Dictionary<int, string> { [5] = "v5", [6] = "v6" }),
            "the last values of every key asked, not an empty answer");
        Assert.ThrowsAsync<InvalidOperationException>(
            async () => await Call(static ids => { ids.Remove(8); throw new InvalidOperationException("source down"); }, 8, 7),
            "key 8 has no last value: the failure is the call's");
    }

    [Test]
    public async Task A_tagged_body_that_empties_its_keys_still_has_its_entries_stored([Values] bool async)
    {
        var method = new MultiCachedMethod<int, string>(new CachedMethodOptions { Method = "Tests.Users.GetTagged", CacheFactory = () => Cache, Ttl = 60 });
        var calls = 0;
        IEnumerable<KeyValuePair<int, string>> Body(List<int> ids)
        {
            calls++;
            return Load(ids, static ids => ids.Clear());
        }

        Task<Dictionary<int, string>> Call() => async
            ? method.InvokeAsync([1, 2], 0, static (_, id) => "t:" + id, (_, ids, _) => new ValueTask<IEnumerable<KeyValuePair<int, string>>?>(Body(ids)), null, static (_, id) => ["t:" + id], CancellationToken.None).AsTask()
            : Task.FromResult(method.Invoke([1, 2], 0, static (_, id) => "t:" + id, (_, ids) => Body(ids), null, static (_, id) => ["t:" + id]));

        Assert.That(await Call(), Is.EqualTo(new Dictionary<int, string> { [1] = "v1", [2] = "v2" }));
        Assert.That(await Call(), Is.EqualTo(new Dictionary<int, string> { [1] = "v1", [2] = "v2" }));
        Assert.That(calls, Is.EqualTo(1), "the second call hit");
    }
}
