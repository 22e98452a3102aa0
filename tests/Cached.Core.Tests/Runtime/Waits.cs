using System.Diagnostics;

namespace Cached.Tests.Runtime;

/// <summary>Waits that gate a race in a test: until a condition holds, or until threads are blocked in their waits.</summary>
internal static class Waits
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test, naming <paramref name="what"/>, after <paramref name="limit"/>.</summary>
    public static void Until(Func<bool> condition, string what, TimeSpan limit)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > limit)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Waits until every thread is blocked (seen three times in a row), so none is between its read and its flight.</summary>
    public static void UntilAllBlocked(IReadOnlyList<Thread> threads, TimeSpan limit)
    {
        var stable = 0;
        Until(() =>
        {
            stable = threads.All(t => (t.ThreadState & System.Threading.ThreadState.WaitSleepJoin) != 0) ? stable + 1 : 0;
            return stable >= 3;
        }, "every thread is blocked", limit);
    }
}
