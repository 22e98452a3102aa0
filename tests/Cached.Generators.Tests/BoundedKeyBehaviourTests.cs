using System.Globalization;
using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>
/// Keys written into a stack buffer sized for their longest text (see <c>KeyBufferGenerationTests</c>) are whole at
/// every extreme of their parts: the longest value of each type fills the buffer to the last character or past it.
/// </summary>
public sealed class BoundedKeyBehaviourTests : ScenarioTests<BoundedKeyService>
{
    private static readonly DateTimeOffset s_latest = new DateTimeOffset(9999, 12, 31, 10, 59, 59, TimeSpan.FromHours(-13)).AddTicks(9_999_999);

    protected override BoundedKeyService Create(CallCounter calls) => new(calls);

    [Test]
    public void The_longest_int_key_is_whole_and_hits()
    {
        Assert.That(Service.ByInt(int.MinValue), Is.EqualTo(int.MinValue));
        Assert.That(Service.ByInt(int.MinValue), Is.EqualTo(int.MinValue));

        Assert.That(Calls[nameof(BoundedKeyService.ByInt)], Is.EqualTo(1));
        Assert.That(Cache.Raw("keys"), Is.EquivalentTo(new[] { "user:-2147483648" }));
    }

    [Test]
    public void A_template_of_every_bounded_type_at_its_longest_is_whole_and_hits()
    {
        var guid = Guid.Parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
        Service.Wide(long.MinValue, double.MinValue, decimal.MinValue, guid, s_latest, int.MinValue);
        Service.Wide(long.MinValue, double.MinValue, decimal.MinValue, guid, s_latest, int.MinValue);
        Service.Wide(long.MinValue, double.MinValue, decimal.MinValue, guid, s_latest, null);

        Assert.That(Calls[nameof(BoundedKeyService.Wide)], Is.EqualTo(2));
        // A DateTimeOffset hole without a format is written in the round-trip format, its longest text.
        var expected = string.Create(CultureInfo.InvariantCulture, $"n:{long.MinValue}:{double.MinValue}:{decimal.MinValue}:{guid}:{s_latest:O}:{int.MinValue}");
        Assert.That(Cache.Raw("keys"), Has.Member(expected));
    }

    [Test]
    public void A_template_keeps_calls_a_millisecond_apart_apart()
    {
        // Regression: "{at}" was written with DateTime's "G" and "{time}" with TimeOnly's "t", so calls a second (or a
        // minute) apart shared one entry.
        var at = new DateTime(2026, 12, 2, 9, 30, 15, 100, DateTimeKind.Utc);
        var time = new TimeOnly(9, 30, 15, 100);
        Service.Report(at, time);
        Service.Report(at.AddMilliseconds(1), time);
        Service.Report(at, time.Add(TimeSpan.FromMilliseconds(1)));
        Service.Report(at, time);

        Assert.That(Calls[nameof(BoundedKeyService.Report)], Is.EqualTo(3));
        Assert.That(Cache.Raw("keys"), Has.Member("report:2026-12-02T09:30:15.1000000Z:09:30:15.1000000"));
    }

    [Test]
    public void A_default_key_of_every_bounded_type_at_its_longest_keeps_apart_and_hits()
    {
        Service.Default(long.MinValue, double.MinValue, decimal.MinValue, s_latest, TimeSpan.MinValue, false);
        Service.Default(long.MinValue, double.MinValue, decimal.MinValue, s_latest, TimeSpan.MinValue, false);
        Service.Default(long.MinValue, double.MinValue, decimal.MinValue, s_latest, TimeSpan.MinValue, null);

        Assert.That(Calls[nameof(BoundedKeyService.Default)], Is.EqualTo(2));
        var keys = (IEnumerable<string>)Cache.Raw("keys")!;
        Assert.That(keys.Where(static k => k.Contains("BoundedKeyService.Default(", StringComparison.Ordinal)).ToList(), Has.Count.EqualTo(2));
        Assert.That(keys, Has.Some.Contains(string.Create(CultureInfo.InvariantCulture, $"({long.MinValue},")).And.Contains("false)"));
    }
}
