using Cached.Pipeline;

namespace Cached.Tests.Pipeline;

/// <summary>
/// A store in this process has a fixed set of fences: a key picks one by a hash that is the same in every process, a
/// fill opens and closes on it without allocating, a write of its key (or of a key that shares it) refuses the fill,
/// and a write of a key on another fence does not. A remote store keeps a fence per key, as its fills hold the gate for
/// a round trip.
/// </summary>
public sealed class FenceStripeTests
{
    /// <summary>Two keys on different fences, and a key sharing the first one's, found by the same hash the cache uses.</summary>
    private static (string Key, string Apart, string Sharing) Keys()
    {
        const string key = "user:42";
        var stripe = FillFences.StripeOf(key);
        var apart = Enumerable.Range(0, 10_000).Select(static i => $"other:{i}").First(k => FillFences.StripeOf(k) != stripe);
        var sharing = Enumerable.Range(0, 100_000).Select(static i => $"other:{i}").First(k => FillFences.StripeOf(k) == stripe);
        return (key, apart, sharing);
    }

    [Test]
    public void A_key_picks_the_same_fence_in_every_process()
    {
        // FNV-1a over the UTF-16 code units, folded to 1,024 stripes: not string.GetHashCode, randomized per process,
        // which would make the keys that share a fence, and so a test that writes one while another fills, vary by run.
        Assert.Multiple(() =>
        {
            Assert.That(FillFences.StripeOf("user:42"), Is.EqualTo(233));
            Assert.That(FillFences.StripeOf("user:1"), Is.EqualTo(977));
            Assert.That(FillFences.StripeOf("user:2"), Is.EqualTo(580));
        });
    }

    [Test]
    public void A_fill_is_refused_by_a_write_of_its_key_and_not_by_writes_of_other_keys_the_fence_can_tell_apart()
    {
        var (key, apart, sharing) = Keys();
        var fences = new FillFences(striped: true);

        var fill = fences.Open(key);
        fences.Move(apart);
        fences.Move(sharing);
        Assert.That(FillFences.IsCurrent(fill), Is.True, "a key elsewhere, and one sharing the fence whose hash differs");
        fences.Move(key);
        Assert.That(FillFences.IsCurrent(fill), Is.False, "its own key");
        fences.Move(sharing);
        Assert.That(FillFences.IsCurrent(fill), Is.False, "still refused after later writes of other keys");
        fences.Close(fill);

        var again = fences.Open(key);
        Assert.That(again.Fence, Is.SameAs(fill.Fence), "a fence is kept, not made per fill");
        Assert.That(FillFences.IsCurrent(again), Is.True, "a fill opened after the writes sees them as the past");
        fences.Close(again);
    }

    [Test]
    public void A_fill_is_refused_once_more_writes_of_sharing_keys_land_than_the_fence_remembers()
    {
        // Regression: any write of a key sharing the fence refused the fill, so a key written every 100 ms starved a
        // key sharing its fence whose body takes 200 ms: never cached, and its flight overtaken on every write.
        var (key, _, sharing) = Keys();
        var fences = new FillFences(striped: true);
        var fill = fences.Open(key);

        for (var i = 0; i < FillFences.RecentMoves - 1; i++)
        {
            fences.Move(sharing);
        }

        Assert.That(FillFences.IsCurrent(fill), Is.True, $"{FillFences.RecentMoves - 1} writes of another key: all remembered");
        fences.Move(sharing);
        Assert.That(FillFences.IsCurrent(fill), Is.False, $"{FillFences.RecentMoves}: the fence no longer knows every key, so it refuses");
        fences.Close(fill);
    }

    [Test]
    public void With_no_fill_open_a_write_moves_nothing()
    {
        var fences = new FillFences(striped: true);
        var closed = fences.Open("k");
        fences.Close(closed);

        fences.Move("k");
        fences.MoveAll();

        Assert.That(FillFences.IsCurrent(closed), Is.True, "no fill was open, so the writes skipped the fences");
    }

    [Test]
    public void A_clear_refuses_every_open_fill()
    {
        var (key, apart, _) = Keys();
        var fences = new FillFences(striped: true);
        var first = fences.Open(key);
        var second = fences.Open(apart);

        fences.MoveAll();

        Assert.That((FillFences.IsCurrent(first), FillFences.IsCurrent(second)), Is.EqualTo((false, false)));
        fences.Close(first);
        fences.Close(second);
    }

    [Test]
    public void Opening_and_closing_a_fill_allocates_nothing_once_its_fence_is_made()
    {
        var fences = new FillFences(striped: true);
        fences.Close(fences.Open("user:42"));

        var allocated = Allocations.Fewest(() =>
        {
            for (var i = 0; i < 1_000; i++)
            {
                fences.Close(fences.Open("user:42"));
            }
        });

        // A fence and its dictionary node per fill were about 90 B a miss.
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void Writes_of_a_key_sharing_the_fence_refuse_a_fill_on_a_store_in_this_process_only_past_what_it_remembers()
    {
        var (key, _, sharing) = Keys();
        using var memory = new SimpleMemoryCache();
        using var remote = new Cached.Tests.Runtime.TestBackend();

        bool Stored(BaseCache cache, int writes)
        {
            Cached.Capabilities.IFencedFillCache fills = cache;
            using var fill = fills.OpenFill(key);
            for (var i = 0; i < writes; i++)
            {
                cache.Set(sharing, i);
            }

            return fills.TryFill(fill, "computed", null, null);
        }

        Assert.Multiple(() =>
        {
            Assert.That(Stored(memory, 1), Is.True, "striped: one write of a key it tells apart");
            Assert.That(Stored(memory, FillFences.RecentMoves), Is.False, "striped: more writes than it remembers");
            Assert.That(Stored(remote, FillFences.RecentMoves), Is.True, "keyed: only a write of the key itself moves its fence");
            Assert.That(memory.Get<string>(key), Is.EqualTo("computed"));
        });
    }

    [Test]
    public void A_keyed_fence_retires_with_its_last_fill_and_the_next_fill_opens_a_new_one_that_sees_later_moves()
    {
        var fences = new FillFences(striped: false);
        var first = fences.Open("k");
        var second = fences.Open("k");
        Assert.That(second.Fence, Is.SameAs(first.Fence), "two fills of one key share its fence");
        fences.Close(first);
        fences.Close(second);

        var third = fences.Open("k");
        Assert.That(third.Fence, Is.Not.SameAs(first.Fence), "the retired fence is not reused");
        Assert.That(FillFences.IsCurrent(third), Is.True);
        fences.Move("other");
        Assert.That(FillFences.IsCurrent(third), Is.True, "another key has a fence of its own");
        fences.Move("k");
        Assert.That(FillFences.IsCurrent(third), Is.False, "a write after the open moves the fence the fill holds");
        fences.Close(third);
    }

    [Test]
    public void A_batch_takes_the_gates_of_keys_sharing_a_fence_once()
    {
        var (key, _, sharing) = Keys();
        var fences = new FillFences(striped: true);
        var tickets = new[] { fences.Open(key), fences.Open(sharing) };

        var stored = FillFences.StoreCurrent(tickets, 0, static (_, current) => current.Count(static c => c));

        Assert.That(stored, Is.EqualTo(2), "one gate, entered once: a second Enter on it would wait for ever");
        fences.Close(tickets[0]);
        fences.Close(tickets[1]);
    }
}
