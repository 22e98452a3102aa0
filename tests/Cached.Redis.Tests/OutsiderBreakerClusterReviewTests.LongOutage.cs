namespace Cached.Redis.Tests;

/// <summary>
/// A promise of docs/resilience.md on a cluster with one primary hung, which the breaker broke until its probe was taken
/// on the primary that failed (this case failed 3 of 3 runs before: events (4, 3), 6 commands waited the timeout).
/// </summary>
public sealed partial class OutsiderBreakerClusterReviewTests
{
    [Test]
    public async Task A_long_outage_of_one_primary_logs_one_pair_and_costs_at_most_one_timeout_per_duration()
    {
        // docs/resilience.md, "Circuit breaker": set CircuitBreakerDuration "to pay it once" (the timeout); "a failed probe
        // opens it again without another event 14, so a long outage logs one pair"; "Only the probe decides. A command
        // sent before the breaker opened that answers late does not close it (with one cluster primary hung ... the
        // others answer)". The first command after the duration is a read of a key on a primary that answers, as most of
        // an application's traffic is when one primary of three hangs: were it the probe, its answer would close the
        // breaker though the hung primary still hangs, every command for that primary would wait the whole timeout again
        // (all of them sent until one times out), and the next timeout would open it again with another event 14.
        var cache = OnTestClock();
        var (hung, healthy) = (KeyOn(Hung, "h"), KeyOn(Healthy[1], "g"));
        await cache.SetAsync(hung, "H");
        await cache.SetAsync(healthy, "G");
        await OpenOnTheHungPrimary(cache, hung);

        var waitedOnTheHungPrimary = 0;
        for (var round = 0; round < 3; round++)
        {
            _time.Advance(s_open);
            await Observe(cache.GetAsync<string>(healthy)); // the first command after the duration; its primary answers at once
            var calls = new[] { cache.GetAsync<string>(hung), cache.GetAsync<string>(hung) };
            waitedOnTheHungPrimary += calls.Count(static c => !c.IsCompleted);
            _time.Advance(s_timeout);
            foreach (var call in calls)
            {
                await Observe(call);
            }
        }

        var (opened, closed) = (Logged(14), Logged(15));
        _proxy.Release();
        _time.Advance(s_open);
        Assert.Multiple(() =>
        {
            Assert.That((opened, closed), Is.EqualTo((1, 0)), "one outage of one primary, three durations long: one event 14, and no event 15 while it still hangs");
            Assert.That(waitedOnTheHungPrimary, Is.LessThanOrEqualTo(3), "commands for the hung primary that waited the timeout: at most one per duration");
        });
    }

    private static async Task Observe(ValueTask<string?> call)
    {
        try
        {
            await call;
        }
        catch (Exception down) when (down is TimeoutException or CacheBackendException { Unreachable: true })
        {
        }
    }
}
