using Cached.Samples.Tests.Infrastructure;

namespace Cached.Samples.Tests;

/// <summary>
/// Three OS processes on one real redis-server, as a deployment runs: one node watches a key it holds in its own
/// memory, two more processes write it. The watcher sees each write only because the backplane made it drop its copy:
/// its L1 entry has no expiry.
/// </summary>
[NonParallelizable]
public sealed class TwoLevelProcessTests
{
    [Test]
    [CancelAfter(180_000)]
    public async Task A_write_in_one_process_reaches_a_node_in_another(CancellationToken cancellationToken)
    {
        SampleRedis.Flush();
        try
        {
            var url = SampleRedis.Url();
            var first = await SampleProcess.RunAsync("TwoLevel", ["--redis", url, "set", "greeting", "hello"]);
            Assert.That(first.CheckedLines, Is.EqualTo(new[] { "set greeting: hello" }), first.ToString());

            await using var watcher = SampleProcess.Start("TwoLevel", ["--redis", url, "watch", "greeting"]);
            await watcher.WaitForLineAsync(static line => line == "greeting: hello (copy in L1: True)", cancellationToken);

            var second = await SampleProcess.RunAsync("TwoLevel", ["--redis", url, "set", "greeting", "bonjour"]);
            Assert.That(second.ExitCode, Is.Zero, second.ToString());
            await watcher.WaitForLineAsync(static line => line == "greeting: bonjour (copy in L1: True)", cancellationToken);

            var last = await SampleProcess.RunAsync("TwoLevel", ["--redis", url, "set", "greeting", "bye"]);
            Assert.That(last.ExitCode, Is.Zero, last.ToString());
            await watcher.WaitForLineAsync(static line => line.StartsWith("greeting: bye", StringComparison.Ordinal), cancellationToken);
            await watcher.WaitForExitAsync(cancellationToken);
            Assert.That(watcher.ExitCode, Is.Zero, watcher.OutputSoFar);
            Assert.That(SampleRedis.Keys(), Is.Empty, "the watcher deletes the key when it is done");
        }
        finally
        {
            SampleRedis.Flush();
        }
    }
}
