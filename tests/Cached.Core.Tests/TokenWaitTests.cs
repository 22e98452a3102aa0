using System.Collections.Concurrent;
using Cached.Pipeline;
using static Cached.Tests.Leaks.Internals;

namespace Cached.Tests;

/// <summary>
/// <see cref="TokenWait"/>, the wait of every async path of the library on a caller's token: what it answers, that a
/// cancellation completes it inline, that it leaves no registration on the token, and that a task it stopped waiting
/// for never fails unobserved.
/// </summary>
[NonParallelizable]
public sealed class TokenWaitTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);
    private const string Marker = "token-wait-test";

    [Test]
    public void A_completed_task_or_a_token_that_cannot_cancel_is_answered_as_it_is()
    {
        var done = Task.FromResult(1);
        using var source = new CancellationTokenSource();
        var pending = new TaskCompletionSource<int>().Task;

        Assert.Multiple(() =>
        {
            Assert.That(TokenWait.WaitAsync(done, source.Token), Is.SameAs(done));
            Assert.That(TokenWait.WaitAsync(pending, CancellationToken.None), Is.SameAs(pending));
            Assert.That(TokenWait.WaitAsync((Task)pending, CancellationToken.None), Is.SameAs(pending));
            Assert.That(Registrations(source), Is.Zero);
        });
    }

    [Test]
    public async Task A_task_that_completes_first_answers_its_value_and_leaves_no_registration([Values] bool generic)
    {
        using var source = new CancellationTokenSource();
        var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var wait = Wait(generic, answer.Task, source.Token);
        Assert.That(Registrations(source), Is.EqualTo(1), "registered while it waits");

        answer.SetResult(7);
        await wait.WaitAsync(s_limit);
        Assert.Multiple(() =>
        {
            Assert.That(generic ? ((Task<int>)wait).Result : 7, Is.EqualTo(7));
            Assert.That(Registrations(source), Is.Zero, "let go once the task completed");
        });
    }

    [Test]
    public void A_cancellation_completes_the_wait_inline_with_the_caller_s_token([Values] bool generic)
    {
        using var source = new CancellationTokenSource();
        var never = new TaskCompletionSource<int>();
        var wait = Wait(generic, never.Task, source.Token);
        var ranInline = false;
        _ = wait.ContinueWith(_ => ranInline = true, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        source.Cancel();

        Assert.Multiple(() =>
        {
            Assert.That(ranInline, Is.True, "the waiter's way out ran before Cancel returned");
            Assert.That(wait.IsCanceled, Is.True);
            var thrown = Assert.CatchAsync<OperationCanceledException>(async () => await wait);
            Assert.That(thrown!.CancellationToken, Is.EqualTo(source.Token));
            Assert.That(Registrations(source), Is.Zero);
        });
    }

    [Test]
    public async Task A_task_that_fails_or_is_cancelled_passes_its_own_outcome_on([Values] bool generic)
    {
        using var source = new CancellationTokenSource();
        var failing = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var failed = Wait(generic, failing.Task, source.Token);
        failing.SetException(new InvalidOperationException(Marker));
        var thrown = Assert.CatchAsync<InvalidOperationException>(async () => await failed.WaitAsync(s_limit));
        Assert.That(thrown!.Message, Is.EqualTo(Marker));

        using var own = new CancellationTokenSource();
        var cancelling = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = Wait(generic, cancelling.Task, source.Token);
        await own.CancelAsync();
        cancelling.SetCanceled(own.Token);
        var stopped = Assert.CatchAsync<OperationCanceledException>(async () => await cancelled.WaitAsync(s_limit));
        Assert.Multiple(() =>
        {
            Assert.That(stopped!.CancellationToken, Is.EqualTo(own.Token), "the task's own token, not the caller's");
            Assert.That(Registrations(source), Is.Zero);
        });
    }

    [Test]
    public async Task A_task_that_fails_after_its_caller_left_is_observed()
    {
        var unobserved = new ConcurrentQueue<Exception>();
        void OnUnobserved(object? sender, UnobservedTaskExceptionEventArgs e)
        {
            if (e.Exception.ToString().Contains(Marker, StringComparison.Ordinal))
            {
                unobserved.Enqueue(e.Exception);
            }
        }

        TaskScheduler.UnobservedTaskException += OnUnobserved;
        try
        {
            await LeaveThenFail();
            for (var i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }

            Assert.That(unobserved, Is.Empty);
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= OnUnobserved;
        }
    }

    /// <summary>The generic wait, or the plain one over the same task.</summary>
    private static Task Wait(bool generic, Task<int> task, CancellationToken cancellationToken)
        => generic ? TokenWait.WaitAsync(task, cancellationToken) : TokenWait.WaitAsync((Task)task, cancellationToken);

    private static async Task LeaveThenFail()
    {
        using var source = new CancellationTokenSource();
        var late = new TaskCompletionSource<int>();
        var wait = TokenWait.WaitAsync(Fails(late.Task), source.Token);
        await source.CancelAsync();
        Assert.That(wait.IsCanceled, Is.True);
        late.SetResult(0);
        await Task.Yield();
    }

    private static async Task<int> Fails(Task<int> after)
    {
        await after.ConfigureAwait(false);
        throw new InvalidOperationException(Marker);
    }
}
