using Cached.Redis.Tests.Infrastructure;

namespace Cached.Redis.Tests;

/// <summary>The version-skew review's cases of tags added in v2, and of two levels with the Redis backplane.</summary>
public sealed partial class OutsiderVersionSkewReviewTests
{
    // ---------------------------------------------------------------------------------------------------------------
    // Tags added in v2
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>
    /// v1 cached the method without tags; v2 added <c>Tags</c>. v2 read v1's untagged entry as a hit, and its own tag's
    /// invalidation could not reach that entry: v2 served v1's value after <c>[InvalidateTags]</c> returned, until the
    /// TTL (forever without one). A tagged call now reads an entry without tags as a miss and stores its own, tagged.
    /// </summary>
    [Test]
    public async Task V2_s_tag_invalidation_is_not_outlived_by_an_untagged_entry_v1_wrote([Values] bool sync)
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().TaggedAsync(9);
        Assert.That(sync ? new SkewV2().Tagged(9) : await new SkewV2().TaggedAsync(9), Is.EqualTo("v2:9"), "v1's entry cannot be invalidated by v2's tag");
        Assert.That(sync ? new SkewV2().Tagged(9) : await new SkewV2().TaggedAsync(9), Is.EqualTo("v2:9"));
        Assert.That(SkewSource.Calls("v2:" + (sync ? nameof(SkewV2.Tagged) : nameof(SkewV2.TaggedAsync))), Is.EqualTo(1), "v2's tagged entry replaced v1's and then hits");

        await new SkewV1().TaggedAsync(9);
        Assert.That(SkewSource.Calls("v1:" + nameof(SkewV1.TaggedAsync)), Is.EqualTo(1), "v1 reads v2's tagged entry as its value");
        await new SkewV2().ChangedAsync(9);

        Assert.That(sync ? new SkewV2().Tagged(9) : await new SkewV2().TaggedAsync(9), Is.EqualTo("v2:9"));
        Assert.That(SkewSource.Calls("v2:" + (sync ? nameof(SkewV2.Tagged) : nameof(SkewV2.TaggedAsync))), Is.EqualTo(2), "the invalidation reached the entry");
    }

    /// <summary>The batch form of the case above: a tagged <c>[MultiCached]</c> served v1's untagged entries after the invalidation.</summary>
    [Test]
    public async Task A_tagged_MultiCached_replaces_untagged_entries_so_that_its_invalidation_reaches_them()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV1().TaggedManyAsync([11, 12]);

        Assert.That(new SkewV2().TaggedMany([11, 12]), Is.EqualTo(new Dictionary<int, string> { [11] = "v2:11", [12] = "v2:12" }));
        Assert.That(new SkewV2().TaggedMany([11, 12]), Is.EqualTo(new Dictionary<int, string> { [11] = "v2:11", [12] = "v2:12" }));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.TaggedMany)), Is.EqualTo(1), "v2's tagged entries replaced v1's and then hit");
        await new SkewV2().ChangedAsync(12);

        new SkewV2().TaggedMany([11, 12]);
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.TaggedMany)), Is.EqualTo(2), "the invalidation of 12 reached its entry");
    }

    [Test]
    public async Task A_tagged_method_whose_tags_come_out_empty_still_hits_its_own_untagged_entries()
    {
        Version(SkewV2.Alias);
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await new SkewV2().GroupAsync([]), Is.EqualTo("group of 0"));
        }

        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.GroupAsync)), Is.EqualTo(1));
    }

    [Test]
    public async Task GetOrSet_with_tags_replaces_an_untagged_entry_so_that_their_invalidation_reaches_it([Values] bool async)
    {
        var cache = Version(SkewV2.Alias);
        cache.Set("t", "plain");
        var options = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(1), Tags = ["t"] };
        var calls = 0;
        string Read() => async
            ? cache.GetOrSetAsync("t", _ => new ValueTask<string>("tagged" + ++calls), options).AsTask().GetAwaiter().GetResult()
            : cache.GetOrSet("t", _ => "tagged" + ++calls, options);

        Assert.That(Read(), Is.EqualTo("tagged1"), "the untagged entry is a miss for a tagged read");
        Assert.That(Read(), Is.EqualTo("tagged1"));
        await cache.InvalidateTagsAsync(["t"]);
        Assert.That(Read(), Is.EqualTo("tagged2"));
    }

    [Test]
    public async Task V1_without_tags_does_not_serve_v2_s_tagged_entry_after_its_tag_was_invalidated()
    {
        Version(SkewV1.Alias);
        Version(SkewV2.Alias);
        await new SkewV2().TaggedAsync(10);
        await new SkewV2().ChangedAsync(10);

        Assert.That(await new SkewV1().TaggedAsync(10), Is.EqualTo("v1:10"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Two levels with the Redis backplane
    // ---------------------------------------------------------------------------------------------------------------

    [Test]
    public async Task Two_levels_v2_replaces_v1_s_entry_in_L2_and_v1_drops_its_L1_copy([Values] Shape shape)
    {
        var v1 = Node(SkewV1.Alias);
        var v2 = Node(SkewV2.Alias);
        await NodeJoins.Joined(v1, v2);
        await NodeJoins.Joined(v2, v1);
        var key = KeyOf(shape, 1);
        await V1Call(shape, 1);
        Assert.That(v1.IsInL1(key), Is.True);

        Assert.That((await V2Call(shape, 1)).Price, Is.EqualTo("$1"));
        Assert.That((await V2Call(shape, 1)).Price, Is.EqualTo("$1"));
        Assert.That(SkewSource.Calls("v2:" + MethodOf(shape)), Is.EqualTo(1), "v2's value is in its L1 and in L2");
        Assert.That(Stored(key), Does.Contain("\"$1\""));
        await NodeJoins.Eventually(() => !v1.IsInL1(key), "v2's write is heard by v1");

        Assert.That((await V1Call(shape, 1)).Price, Is.EqualTo(1));
        Assert.That(SkewSource.Calls("v1:" + MethodOf(shape)), Is.EqualTo(2), "v1 read L2 again and replaced it");
    }

    [Test]
    public async Task Two_levels_v2_s_tagged_method_replaces_v1_s_untagged_entry_and_its_invalidation_reaches_every_copy()
    {
        var v1 = Node(SkewV1.Alias);
        var v2 = Node(SkewV2.Alias);
        await NodeJoins.Joined(v1, v2);
        await NodeJoins.Joined(v2, v1);
        await new SkewV1().TaggedAsync(13);

        Assert.That(await new SkewV2().TaggedAsync(13), Is.EqualTo("v2:13"), "v1's untagged entry is a miss for v2's tagged read");
        await NodeJoins.Eventually(() => !v1.IsInL1("tagged:13"), "v2's write is heard by v1");
        Assert.That(await new SkewV1().TaggedAsync(13), Is.EqualTo("v2:13"), "v1 reads v2's tagged entry");
        Assert.That(await new SkewV2().TaggedAsync(13), Is.EqualTo("v2:13"));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.TaggedAsync)), Is.EqualTo(1));

        await new SkewV2().ChangedAsync(13);
        await NodeJoins.Eventually(() => v1.Get<string>("tagged:13") is null, "v1 hears the invalidation");

        Assert.That(await new SkewV2().TaggedAsync(13), Is.EqualTo("v2:13"));
        Assert.That(SkewSource.Calls("v2:" + nameof(SkewV2.TaggedAsync)), Is.EqualTo(2), "the invalidation reached v2's entry");
        Assert.That(await new SkewV1().TaggedAsync(13), Is.EqualTo("v2:13"));
    }
}
