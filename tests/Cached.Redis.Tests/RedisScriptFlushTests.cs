using Cached.Redis.Tests.Infrastructure;
using Cached.Runtime;
using StackExchange.Redis;

namespace Cached.Redis.Tests;

/// <summary>
/// An invalidation stays final after <c>SCRIPT FLUSH</c>: a write's fence move, sent ahead of its command, must not wait
/// for a <c>NOSCRIPT</c> reply to be sent again, or the command runs first and a fill opened before the write stores
/// its older value in between. The writer's replies are held by a proxy, so the client learns of nothing until the
/// fill has been tried.
/// </summary>
public sealed class RedisScriptFlushTests
{
    private static readonly TimeSpan s_limit = TimeSpan.FromSeconds(10);

    private static async Task<string> Gated(TaskCompletionSource started, TaskCompletionSource release, string value)
    {
        started.TrySetResult();
        await release.Task.WaitAsync(s_limit);
        return value;
    }

    [Test]
    public async Task A_write_after_SCRIPT_FLUSH_still_keeps_a_fill_opened_before_it_from_storing([Values] bool flush)
    {
        var ns = "noscript-" + Guid.NewGuid().ToString("N")[..8];
        using var proxy = new LoopbackProxy(SharedRedis.Server.Port);
        using var reader = new RedisCache { ConnectionString = SharedRedis.Server.ConnectionString + ",name=reader-" + ns, Namespace = ns };
        using var writer = new RedisCache { ConnectionString = proxy.ConnectionString + ",name=writer-" + ns, Namespace = ns };
        using var direct = await ConnectionMultiplexer.ConnectAsync(SharedRedis.Server.ConnectionString);
        var db = direct.GetDatabase();

        // The writer has moved a fence once: from then on its client would send the move by the script's hash.
        await writer.SetAsync("warm", "x");
        var method = new CachedMethod<string>(new CachedMethodOptions { Method = "Tests.Flush.Get", CacheFactory = () => reader, Ttl = 600 });
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leader = method.InvokeAsync("k", (started, release), static (g, _) => new ValueTask<string>(Gated(g.started, g.release, "old")), null, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(s_limit);
        Assert.That(await db.KeyExistsAsync(ns + ":k:__cached:fence"), Is.True, "the fill opened its fence");
        if (flush)
        {
            await db.ExecuteAsync("SCRIPT", "FLUSH");
        }

        proxy.HoldReplies();
        var write = writer.SetAsync("k", "newer").AsTask();
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((string?)await db.StringGetAsync(ns + ":k") != "\"newer\"")
        {
            Assert.That(waited.Elapsed, Is.LessThan(s_limit), "the write's SET ran");
            await Task.Delay(5);
        }

        release.SetResult();
        await leader.WaitAsync(s_limit);
        proxy.ReleaseReplies();
        Assert.That(await write.WaitAsync(s_limit), Is.True);

        Assert.That((string?)await db.StringGetAsync(ns + ":k"), Is.EqualTo("\"newer\""), "the fill that opened before the write did not overwrite it");
    }
}
