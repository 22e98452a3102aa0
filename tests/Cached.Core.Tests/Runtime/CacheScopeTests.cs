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
}
