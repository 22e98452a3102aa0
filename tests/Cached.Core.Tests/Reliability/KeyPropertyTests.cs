using Cached.Runtime;

namespace Cached.Tests.Reliability;

/// <summary>
/// Property tests of default key building: thousands of random argument lists, seeded and reproducible, drawn from
/// alphabets full of the characters the key format uses (quotes, escapes, commas, brackets, the word null). Two
/// different argument lists never give the same key, and equal ones always do.
/// </summary>
public sealed class KeyPropertyTests
{
    private const int Cases = 20_000;

    private static readonly string[] s_atoms = ["", "a", "null", "\"", "\\", ",", "(", ")", "[", "]", "'", ":", " ", "\"a\"", "\\\"", "[1,2]", "1", "-1", "é", "🔑", "\n"];

    private enum Mode
    {
        Off,
        On,
    }

    private sealed record Arguments(string? Text, int Number, int[]? Numbers, List<string?>? Words, char Letter, Mode Mode, double Ratio, long? Maybe);

    private static string Key(Arguments a)
    {
        var writer = new CacheKeyWriter(stackalloc char[64], "Demo.Service.Method");
        Write(ref writer, a);
        return writer.Finish();
    }

    /// <summary>The span-built key of the hit path, from a buffer small enough to grow: it must be the very same text.</summary>
    private static string SpanKey(Arguments a)
    {
        var writer = new CacheKeyWriter(stackalloc char[16], "Demo.Service.Method");
        Write(ref writer, a);
        return writer.Close().ToString();
    }

    private static void Write(ref CacheKeyWriter writer, Arguments a)
    {
        writer.Argument(a.Text);
        writer.Argument(a.Number);
        writer.Sequence(a.Numbers);
        writer.Sequence(a.Words);
        writer.Argument(a.Letter);
        writer.Enum(a.Mode);
        writer.Argument(a.Ratio);
        writer.NullableFormattable(a.Maybe);
    }

    private static string? Text(Random random)
    {
        if (random.Next(8) == 0)
        {
            return null;
        }

        var parts = random.Next(4);
        return string.Concat(Enumerable.Range(0, parts).Select(_ => s_atoms[random.Next(s_atoms.Length)]));
    }

    private static Arguments Draw(Random random) => new(
        Text(random),
        random.Next(-3, 4),
        random.Next(5) == 0 ? null : Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(-2, 3)).ToArray(),
        random.Next(5) == 0 ? null : Enumerable.Range(0, random.Next(3)).Select(_ => Text(random)).ToList(),
        "a\"'\\,"[random.Next(5)],
        (Mode)random.Next(2),
        random.Next(4) switch { 0 => 0.1, 1 => 0.1 + 0.2, 2 => -0.0, _ => 1e-300 },
        random.Next(3) == 0 ? null : random.Next(-1, 2));

    /// <summary>A structural identity of the arguments: equal exactly when the argument lists are equal.</summary>
    private static string Identity(Arguments a)
        => string.Join("|", new[]
        {
            a.Text is null ? "N" : "S" + a.Text.Length + ":" + a.Text,
            a.Number.ToString(System.Globalization.CultureInfo.InvariantCulture),
            a.Numbers is null ? "N" : "A" + string.Join(";", a.Numbers),
            a.Words is null ? "N" : "W" + string.Join(";", a.Words.Select(static w => w is null ? "N" : "S" + w.Length + ":" + w)),
            ((int)a.Letter).ToString(System.Globalization.CultureInfo.InvariantCulture),
            a.Mode.ToString(),
            BitConverter.DoubleToInt64Bits(a.Ratio).ToString(System.Globalization.CultureInfo.InvariantCulture),
            a.Maybe?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "N",
        });

    [TestCase(20261125)]
    [TestCase(42)]
    [TestCase(7)]
    public void Different_argument_lists_never_share_a_key(int seed)
    {
        var random = new Random(seed);
        var owners = new Dictionary<string, (string Identity, Arguments Arguments)>(StringComparer.Ordinal);
        var distinct = new HashSet<string>(StringComparer.Ordinal);

        for (var i = 0; i < Cases; i++)
        {
            var arguments = Draw(random);
            var identity = Identity(arguments);
            distinct.Add(identity);
            var key = Key(arguments);
            if (owners.TryGetValue(key, out var owner))
            {
                Assert.That(owner.Identity, Is.EqualTo(identity), $"seed {seed}, case {i}: {owner.Arguments} and {arguments} share the key {key}");
            }
            else
            {
                owners[key] = (identity, arguments);
            }
        }

        TestContext.Out.WriteLine($"seed {seed}: {Cases} cases, {distinct.Count} distinct argument lists, {owners.Count} distinct keys");
        Assert.That(owners, Has.Count.EqualTo(distinct.Count), "one key per distinct argument list");
    }

    [Test]
    public void The_span_built_key_is_the_string_key_whatever_the_buffer()
    {
        var random = new Random(1125);
        for (var i = 0; i < 2_000; i++)
        {
            var arguments = Draw(random);
            Assert.That(SpanKey(arguments), Is.EqualTo(Key(arguments)), arguments.ToString());
        }
    }
}
