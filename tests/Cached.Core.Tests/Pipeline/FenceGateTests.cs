using Cached.Pipeline;

namespace Cached.Tests.Pipeline;

/// <summary>
/// The gate of a fill's fence: one party at a time, sync or async, and a waiter cancelled in line passes its turn on
/// instead of taking the gate with it. Held with gates of the tests' own, never with sleeps.
/// </summary>
public sealed class FenceGateTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    [Test]
    public async Task A_second_party_waits_until_the_holder_leaves()
    {
        var fence = new FillFences.Fence(0);
        fence.Enter();

        var waiting = fence.EnterAsync(CancellationToken.None).AsTask();
        Assert.That(waiting.IsCompleted, Is.False, "the gate is held");

        fence.Exit();
        await waiting.WaitAsync(s_limit);
        fence.Exit();
        Assert.That(fence.EnterAsync(CancellationToken.None).IsCompletedSuccessfully, Is.True, "nobody holds the gate any more");
    }

    [Test]
    public async Task A_waiter_cancelled_in_line_passes_its_turn_on_to_the_next()
    {
        var fence = new FillFences.Fence(0);
        fence.Enter();
        using var cancel = new CancellationTokenSource();
        var cancelled = fence.EnterAsync(cancel.Token).AsTask();
        var next = fence.EnterAsync(CancellationToken.None).AsTask();

        await cancel.CancelAsync();
        Assert.That(async () => await cancelled.WaitAsync(s_limit), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(next.IsCompleted, Is.False, "the holder has not left");

        fence.Exit();
        await next.WaitAsync(s_limit);
        fence.Exit();

        var after = fence.EnterAsync(CancellationToken.None);
        Assert.That(after.IsCompletedSuccessfully, Is.True, "the cancelled waiter's turn left nothing held behind");
        fence.Exit();
    }

    [Test]
    public void An_async_enter_with_a_cancelled_token_takes_nothing()
    {
        var fence = new FillFences.Fence(0);
        Assert.That(() => fence.EnterAsync(new CancellationToken(canceled: true)), Throws.InstanceOf<OperationCanceledException>());

        var entered = fence.EnterAsync(CancellationToken.None);
        Assert.That(entered.IsCompletedSuccessfully, Is.True);
        fence.Exit();
    }

    [Test]
    public void Parties_on_two_threads_never_hold_the_gate_together()
    {
        var fence = new FillFences.Fence(0);
        var inside = 0;
        var overlaps = 0;
        void Work()
        {
            for (var i = 0; i < 20_000; i++)
            {
                fence.Enter();
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                Interlocked.Decrement(ref inside);
                fence.Exit();
            }
        }

        var other = Task.Run(Work);
        Work();
        Assert.That(other.Wait(s_limit), Is.True);
        Assert.That(overlaps, Is.Zero);
    }

    [Test]
    public void A_keyed_fence_retires_with_its_last_hold_and_takes_no_hold_after()
    {
        var fence = new FillFences.Fence(-1);
        Assert.That(fence.TryHold(), Is.True);
        Assert.That(fence.TryHold(), Is.True);

        Assert.That(fence.LetGo(), Is.False, "one fill still holds it");
        Assert.That(fence.LetGo(), Is.True, "the last hold retires it");
        Assert.That(fence.TryHold(), Is.False, "a retired fence is replaced, never held again");
    }
}
