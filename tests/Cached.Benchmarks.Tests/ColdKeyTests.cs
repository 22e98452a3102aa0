namespace Cached.Benchmarks.Tests;

/// <summary>The stampede of <see cref="ColdKeyBenchmarks"/>, called directly: the figure it reports must mean what it says.</summary>
public sealed class ColdKeyTests
{
    [Test]
    public async Task A_thousand_callers_on_a_cold_key_make_one_call_of_the_generated_methods_body()
    {
        var benchmarks = new ColdKeyBenchmarks();
        benchmarks.Setup();
        try
        {
            for (var round = 0; round < 3; round++)
            {
                Assert.That(await benchmarks.Generated(), Is.EqualTo(1), $"round {round}");
            }
        }
        finally
        {
            benchmarks.Cleanup();
        }
    }

    [Test]
    public async Task Without_single_flight_the_stampede_reaches_the_body_for_almost_every_caller()
    {
        // Proof that the callers really arrive while the first body call runs; otherwise "1" above would prove nothing.
        var benchmarks = new ColdKeyBenchmarks();
        benchmarks.Setup();
        try
        {
            Assert.That(await benchmarks.MemoryCacheGetOrCreateAsync(), Is.GreaterThan(ColdKeyBenchmarks.Callers / 2));
        }
        finally
        {
            benchmarks.Cleanup();
        }
    }
}
