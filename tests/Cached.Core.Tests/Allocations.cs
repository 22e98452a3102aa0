namespace Cached.Tests;

/// <summary>What a piece of code allocates on the calling thread, measured so that only its own allocations count.</summary>
internal static class Allocations
{
    /// <summary>
    /// The fewest bytes <paramref name="action"/> allocated in one of up to <paramref name="rounds"/> rounds (it stops
    /// at a round without any). A one-off allocation of the runtime (tiered compilation installing code, a pool
    /// refilled after a collection, a thread's state made on first use) lands in one round and made a single
    /// measurement fail now and then; an allocation of the code itself lands in every round, so it still fails.
    /// </summary>
    public static long Fewest(Action action, int rounds = 5)
    {
        var fewest = long.MaxValue;
        for (var round = 0; round < rounds && fewest > 0; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            action();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return fewest;
    }

    /// <summary>
    /// Calls <paramref name="action"/> in <paramref name="bursts"/> bursts with a pause after each, so that tiered
    /// compilation has installed the optimized code before anything is measured. Code that is not yet optimized can
    /// allocate what the optimized code does not: with dynamic PGO, a miss of a cached method allocated 24 B more in
    /// every round for up to 650 ms after its first call (its instrumented tier), and a test that ran early measured
    /// that. The runtime promotes a method only after a quiet 100 ms, so a tight loop alone does not get there sooner.
    /// </summary>
    public static void WarmUp(Action action, int bursts = 4, int pauseMilliseconds = 150)
    {
        for (var burst = 0; burst < bursts; burst++)
        {
            action();
            Thread.Sleep(pauseMilliseconds);
        }
    }
}
