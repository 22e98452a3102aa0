using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary><see cref="Invalidations.WhenAll"/>: the started deletes of an async [InvalidateCache] method, awaited together.</summary>
public sealed class InvalidationsTests
{
    [Test]
    public async Task WhenAll_ends_when_the_last_invalidation_ends()
    {
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();

        var all = Invalidations.WhenAll(new ValueTask(first.Task), new ValueTask(second.Task)).AsTask();
        second.SetResult();
        Assert.That(all.IsCompleted, Is.False, "the first is still in flight");

        first.SetResult();
        await all;
    }

    [Test]
    public void WhenAll_awaits_every_invalidation_then_rethrows_the_first_exception()
    {
        var failed = new InvalidOperationException("first");
        var later = new TaskCompletionSource();

        var all = Invalidations.WhenAll(
            ValueTask.FromException(failed),
            new ValueTask(later.Task),
            ValueTask.FromException(new InvalidOperationException("third"))).AsTask();
        Assert.That(all.IsCompleted, Is.False, "an exception does not end it before the others");

        later.SetResult();
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () => await all);
        Assert.That(thrown, Is.SameAs(failed));
    }

    [Test]
    public async Task WhenAll_of_none_ends_at_once()
    {
        var all = Invalidations.WhenAll();

        Assert.That(all.IsCompletedSuccessfully, Is.True);
        await all;
    }
}
