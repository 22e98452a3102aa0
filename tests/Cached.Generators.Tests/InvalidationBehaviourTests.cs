using Cached.Generators.Tests.Infrastructure;
using Cached.Generators.Tests.Scenarios;
using Cached.Tests.Commands;

namespace Cached.Generators.Tests;

/// <summary>
/// Generated [InvalidateCache] methods that name several methods: an async one starts every delete before it awaits
/// any, so a backend that is down costs one timeout, not one per method; each fault is survived on its own.
/// </summary>
public sealed class InvalidationBehaviourTests : ScenarioTests<UserService>
{
    protected override UserService Create(CallCounter calls) => new(calls);

    [Test]
    public async Task An_async_method_that_names_three_methods_has_their_three_deletes_in_flight_at_once()
    {
        // Each delete waits at the gate, which opens only when all three wait there; with no timeout, deletes made one
        // after another would wait for ever at the first.
        var cache = new GatedCache { OpensWhenWaiting = 3, Timeout = TimeSpan.Zero };
        Caches.AddInstance(UserService.Alias, cache);

        var forgetting = Service.ForgetAsync(1, CancellationToken.None);
        try
        {
            // Bounded for the failure only: started together, the deletes open the gate at once.
            await Task.WhenAny(forgetting, Task.Delay(TimeSpan.FromSeconds(10)));

            Assert.That(cache.MostWaiting, Is.EqualTo(3), "the three deletes waited at the gate together");
            Assert.That(forgetting.IsCompletedSuccessfully, Is.True);
        }
        finally
        {
            cache.Open();
            await forgetting;
        }
    }

    [Test]
    public async Task The_async_and_sync_methods_delete_the_entries_of_the_three_methods()
    {
        await FillAsync();
        await Service.ForgetAsync(1, CancellationToken.None);
        Assert.That(Entries(), Is.EqualTo((false, false, false)));

        await FillAsync();
        Service.Forget(1);
        Assert.That(Entries(), Is.EqualTo((false, false, false)));
    }

    [Test]
    public async Task A_token_cancelled_once_the_body_returned_does_not_stop_the_deletes()
    {
        await FillAsync();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Service.ForgetAsync(1, cancelled.Token);

        Assert.That(Entries(), Is.EqualTo((false, false, false)));
    }

    [Test]
    public async Task In_an_outage_each_delete_fails_on_its_own_and_the_method_returns()
    {
        var failing = new FailingCache();
        Caches.AddInstance(UserService.Alias, failing);

        await Service.ForgetAsync(1, CancellationToken.None);
        Assert.That(failing.Attempts, Is.EqualTo(3), "each of the three deletes was tried");

        Service.Forget(1);
        Assert.That(failing.Attempts, Is.EqualTo(6));
    }

    private async Task FillAsync()
    {
        Service.GetUser(1);
        await Service.GetUserAsync(1);
        await Service.GetUserValueAsync(1);
        Assert.That(Entries(), Is.EqualTo((true, true, true)));
    }

    private (bool User, bool Async, bool Value) Entries()
        => (Cache.Exists("user:1"), Cache.Exists("user-async:1"), Cache.Exists("user-value:1"));
}
