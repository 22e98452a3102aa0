using Cached.Runtime;

namespace Cached.Tests.Runtime;

/// <summary>A default key costs one allocation: the key string. Measured with the thread's allocation counter.</summary>
public sealed class KeyAllocationTests
{
    private enum Color
    {
        Red,
        Green,
    }

    private static readonly int[] s_numbers = [1, 2, 3];
    private static readonly List<int> s_list = [4, 5];
    private static readonly Guid s_guid = Guid.Parse("a1b2c3d4-0000-0000-0000-000000000001");

    private static string BuildKey(int id, long? version, string name, DateTime at, Color color, Color? shade, decimal price, TimeSpan span, bool flag)
    {
        var writer = new CacheKeyWriter(stackalloc char[256], "Demo.Service.Method");
        writer.Argument(id);
        writer.NullableFormattable(version);
        writer.Argument(name);
        writer.Argument(s_guid);
        writer.Argument(at);
        writer.Enum(color);
        writer.NullableEnum(shade);
        writer.Formattable(price);
        writer.Formattable(span);
        writer.Argument(flag);
        writer.Sequence(s_numbers);
        writer.Sequence(s_list);
        writer.NullableFormattable<int>(7);
        writer.Argument('c');
        return writer.Finish();
    }

    [Test]
    public void Building_a_default_key_allocates_only_the_key_string()
    {
        var at = new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc);
        var key = BuildKey(42, 3, "ada", at, Color.Green, null, 1.5m, TimeSpan.FromSeconds(90), true);
        var copy = new string('x', key.Length);

        var keyBytes = Allocations.Fewest(() => key = BuildKey(42, 3, "ada", at, Color.Green, null, 1.5m, TimeSpan.FromSeconds(90), true));
        var stringBytes = Allocations.Fewest(() => copy = new string('y', key.Length));

        Assert.That(key, Is.EqualTo("Demo.Service.Method(42,3,\"ada\",a1b2c3d4-0000-0000-0000-000000000001,2026-11-25T10:00:00.0000000Z,Green,null,1.5,00:01:30,true,[1,2,3],[4,5],7,'c')"));
        Assert.That(copy, Has.Length.EqualTo(key.Length));
        Assert.That(keyBytes, Is.EqualTo(stringBytes), "the key string is the only allocation");
    }
}
