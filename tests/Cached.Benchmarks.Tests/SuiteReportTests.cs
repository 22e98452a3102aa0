using Cached.Benchmarks.Infrastructure;

namespace Cached.Benchmarks.Tests;

public sealed class SuiteReportTests
{
    [Test]
    public void Redis_benchmark_figures_are_read_from_its_quiet_output()
    {
        // With -q, progress and result share a line, separated by carriage returns.
        const string output = "GET: rps=0.0 (overall: nan) avg_msec=nan (overall: nan)\rGET: 81234.56 requests per second, p50=0.303 msec\n"
            + "SET: 79999.99 requests per second, p50=0.311 msec\n"
            + "MSET (10 keys): 52000.00 requests per second, p50=0.551 msec\n";

        Assert.Multiple(() =>
        {
            Assert.That(SuiteReport.RequestsPerSecond(output, "GET"), Is.EqualTo(81234.56));
            Assert.That(SuiteReport.RequestsPerSecond(output, "SET"), Is.EqualTo(79999.99));
            Assert.That(SuiteReport.RequestsPerSecond(output, "MSET"), Is.EqualTo(52000.00));
            Assert.That(SuiteReport.RequestsPerSecond(output, "INCR"), Is.Null);
        });
    }

    [Test]
    public void A_run_without_results_says_that_every_target_was_not_measured()
    {
        var text = new SuiteReport([]) { Skipped = ["Redis benchmarks skipped."] }.Render();

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.StartWith("# Benchmark results"));
            Assert.That(text, Does.Contain("**Machine:**"));
            Assert.That(text, Does.Contain("> Redis benchmarks skipped."));
            Assert.That(text, Does.Contain("not measured").And.Not.Contain("| met |").And.Not.Contain("**not met**"));
        });
    }

    [Test]
    public void The_compile_cost_section_of_the_previous_results_is_carried_over_whole()
    {
        const string section = SuiteReport.CompileCostStart + "\n## Compile cost (issue 14)\n\n| a | b |\n" + SuiteReport.CompileCostEnd;
        var previous = "# Benchmark results\n\nold tables\n\n" + section + "\n";

        var carried = SuiteReport.CompileCostOf(previous);
        var text = new SuiteReport([]) { CompileCost = carried }.Render();

        Assert.Multiple(() =>
        {
            Assert.That(carried, Is.EqualTo(section));
            Assert.That(text, Does.Contain(section));
            Assert.That(SuiteReport.CompileCostOf("# Benchmark results\n"), Is.Null);
        });
    }
}
