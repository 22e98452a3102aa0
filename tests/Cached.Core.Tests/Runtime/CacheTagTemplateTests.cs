using System.Globalization;
using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>Tag templates: written as key templates are, with a hole that names a collection standing for each element.</summary>
public sealed class CacheTagTemplateTests
{
    [Test]
    public void A_template_without_a_collection_is_one_tag_written_as_a_key_template_is()
    {
        var id = 42;
        var day = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            Assert.That(CacheTagTemplate.Expand($"user:{id:D6}:{1.5}:{day:yyyy-MM-dd}:{"x"}"), Is.EqualTo(new[] { "user:000042:1.5:2026-01-02:x" }));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Test]
    public void A_hole_naming_a_collection_stands_for_each_element()
    {
        // Regression (review of modern method shapes): [InvalidateTags("user:{ids}")] on Rename(params int[] ids)
        // invalidated the tag "user:System.Int32[]", never "user:1", and the entries tagged user:1 stayed stale.
        int[] ids = [1, 2];
        List<string> regions = ["eu", "us"];

        Assert.Multiple(() =>
        {
            Assert.That(CacheTagTemplate.Expand($"user:{ids}"), Is.EqualTo(new[] { "user:1", "user:2" }));
            Assert.That(CacheTagTemplate.Expand($"user:{ids:D3}!"), Is.EqualTo(new[] { "user:001!", "user:002!" }), "format and the literal after");
            Assert.That(CacheTagTemplate.Expand($"{regions}/user:{ids}"), Is.EquivalentTo(new[] { "eu/user:1", "us/user:1", "eu/user:2", "us/user:2" }), "every pair");
            Assert.That(CacheTagTemplate.Expand($"user:{Array.Empty<int>()}"), Is.Empty, "an empty collection names no tag");
            Assert.That(CacheTagTemplate.Expand($"name:{"abc"}"), Is.EqualTo(new[] { "name:abc" }), "a string is no collection of chars");
        });
    }

    [Test]
    public void Concat_joins_the_tags_of_templates_and_fixed_tags_in_order()
    {
        int[] ids = [1, 2];

        Assert.That(CacheTagTemplate.Concat(CacheTagTemplate.Expand($"user:{ids}"), ["users"]), Is.EqualTo(new[] { "user:1", "user:2", "users" }));
        Assert.That(() => CacheTagTemplate.Concat(null!), Throws.ArgumentNullException);
    }

    [Test]
    public void A_date_and_time_without_a_format_names_its_tag_to_the_tick_alone_or_in_a_collection()
    {
        // Regression: as in key templates, "{at}" was written to the second, so two instants shared a tag.
        var at = new DateTime(2026, 12, 2, 9, 30, 15, 123, DateTimeKind.Utc);
        var times = new[] { TimeOnly.FromDateTime(at), TimeOnly.FromDateTime(at.AddMilliseconds(1)) };

        Assert.That(CacheTagTemplate.Expand($"day:{at}"), Is.EqualTo(new[] { "day:2026-12-02T09:30:15.1230000Z" }));
        Assert.That(CacheTagTemplate.Expand($"at:{times}"), Is.EqualTo(new[] { "at:09:30:15.1230000", "at:09:30:15.1240000" }));
        Assert.That(CacheTagTemplate.Expand($"day:{at:yyyy-MM-dd}"), Is.EqualTo(new[] { "day:2026-12-02" }));
    }
}
