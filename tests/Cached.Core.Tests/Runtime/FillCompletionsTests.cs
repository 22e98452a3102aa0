using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>
/// <see cref="FillCompletions"/>: a leader's completion tells a caller of the same key's stripe to read again, and no
/// one else.
/// </summary>
public sealed class FillCompletionsTests
{
    private static string KeyIn(int stripe, string prefix)
        => Enumerable.Range(0, 100_000).Select(i => prefix + i).First(key => FillCompletions.StripeOf(key) == stripe);

    [Test]
    public void A_completion_counts_for_the_keys_of_its_stripe_after_the_note_and_for_no_one_after_a_later_note()
    {
        var completions = new FillCompletions();
        var key = KeyIn(7, "a");
        var sameStripe = KeyIn(7, "b");
        var otherStripe = KeyIn(8, "c");

        var noted = completions.Note();
        Assert.That(completions.MayHaveStored(key, noted), Is.False, "nothing completed");
        completions.Record(key);

        Assert.Multiple(() =>
        {
            Assert.That(completions.MayHaveStored(key, noted), Is.True);
            Assert.That(completions.MayHaveStored(sameStripe, noted), Is.True, "a key of the same stripe cannot be told apart");
            Assert.That(completions.MayHaveStored(otherStripe, noted), Is.False);
            Assert.That(completions.MayHaveStored(key, completions.Note()), Is.False, "noted after the completion");
        });
    }

    [Test]
    public void Two_leaders_of_one_stripe_completing_together_leave_the_later_number_whatever_order_they_write_in()
    {
        // Each completion takes its number, then writes it in its stripe: the one that took the lower number may write
        // last. A caller that noted between the two numbers must still be told to read again.
        var completions = new FillCompletions();
        var first = KeyIn(3, "a");
        var second = KeyIn(3, "b");
        const int Rounds = 50_000;
        using var barrier = new Barrier(2);
        var other = new Thread(() =>
        {
            for (var round = 0; round < Rounds; round++)
            {
                barrier.SignalAndWait();
                completions.Record(second);
                barrier.SignalAndWait();
            }
        }) { IsBackground = true };
        other.Start();

        for (var round = 0; round < Rounds; round++)
        {
            barrier.SignalAndWait();
            completions.Record(first);
            barrier.SignalAndWait();

            var last = completions.Note();
            Assert.That(completions.MayHaveStored(first, last - 1), Is.True, $"round {round}: the stripe lost completion {last}");
        }
    }
}
