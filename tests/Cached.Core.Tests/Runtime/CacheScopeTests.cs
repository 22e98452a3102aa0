namespace Cached.Tests.Runtime;

/// <summary>Scopes apply to their own flow only, nest, and end when disposed, however many are open elsewhere.</summary>
[NonParallelizable]
public sealed class CacheScopeTests
{
    [Test]
    public void A_scope_on_another_thread_does_not_skip_reads_here()
    {
        using var opened = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            using (CacheScope.Bypass())
            {
                opened.Set();
                release.Wait(TimeSpan.FromSeconds(10));
            }
        });
        other.Start();
        opened.Wait(TimeSpan.FromSeconds(10));

        var here = (CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped);
        release.Set();
        other.Join();

        Assert.That(here, Is.EqualTo((false, false)));
    }

    [Test]
    public async Task Scopes_nest_flow_into_awaits_and_end_when_disposed()
    {
        var outer = CacheScope.SkipRead();
        var inner = CacheScope.SkipWrite();
        await Task.Yield();
        var both = (CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped);
        inner.Dispose();
        var afterInner = (CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped);
        inner.Dispose();
        outer.Dispose();

        Assert.Multiple(() =>
        {
            Assert.That(both, Is.EqualTo((true, true)));
            Assert.That(afterInner, Is.EqualTo((true, false)));
            Assert.That((CacheScope.IsReadSkipped, CacheScope.IsWriteSkipped), Is.EqualTo((false, false)), "disposing twice changes nothing");
        });
    }

    [Test]
    public async Task A_flow_started_in_a_scope_follows_it_while_it_is_open_and_not_after_whatever_else_is_open([Values] bool anotherScopeOpen)
    {
        // The flow a call starts keeps its scope; once the scope is disposed it counts for nobody. Before, the answer
        // after the dispose depended on whether an unrelated scope was open anywhere in the process.
        var elsewhere = anotherScopeOpen ? await Task.Run(CacheScope.Bypass) : null;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<(bool Before, bool After)> flow;
        using (CacheScope.SkipWrite())
        {
            flow = Task.Run(async () =>
            {
                var before = CacheScope.IsWriteSkipped;
                started.SetResult();
                await disposed.Task;
                return (before, CacheScope.IsWriteSkipped);
            });
            await started.Task;
        }

        disposed.SetResult();
        var (before, after) = await flow.WaitAsync(TimeSpan.FromSeconds(10));
        elsewhere?.Dispose();

        Assert.That((before, after), Is.EqualTo((true, false)));
    }
}
