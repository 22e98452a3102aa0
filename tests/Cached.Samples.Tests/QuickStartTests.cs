using Cached.Samples.Tests.Infrastructure;

namespace Cached.Samples.Tests;

/// <summary>samples/QuickStart, the README's quick start, runs and prints what the README promises.</summary>
public sealed class QuickStartTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Prints_the_quick_start_lines()
    {
        var run = await SampleProcess.RunAsync("QuickStart");

        Assert.That(run.ExitCode, Is.Zero, run.ToString());
        Assert.That(run.Errors, Is.Empty, run.ToString());
        Assert.That(run.Output, Has.Count.EqualTo(7), run.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(run.Output[0], Is.EqualTo("set: True"));
            Assert.That(run.Output[1], Is.EqualTo("get: value"));
            // One body call for three calls: the sleep is printed once.
            Assert.That(run.Output[2], Is.EqualTo("Sleeping for one second zzzz....."));
            // The duration varies from run to run: only its shape is checked.
            Assert.That(run.Output[3], Does.Match(@"^cached_call: 3 calls, 1 body call, \d+\.\d s$"));
            Assert.That(run.Output[4], Is.EqualTo("default alias: value (same instance: True)"));
            Assert.That(run.Output[5], Is.EqualTo("memory_alt alias: Forecast { City = Lisbon, Celsius = 21.5 } via JsonSerializer, plugins: HitMissRatioPlugin, TimingPlugin"));
            Assert.That(run.Output[6], Is.EqualTo("visits: 1"));
        });
    }
}
