using System.Text.RegularExpressions;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// The stack buffer a key is written into is as long as the longest key the method can make when every part has a
/// bounded text (numbers, booleans, Guids, dates), so that a hit zeroes no more stack than it may use; any part of
/// unbounded text (a string, an enum, a format, the instance) keeps the 256 characters.
/// </summary>
public sealed class KeyBufferGenerationTests
{
    private const string Source = """
        using System;
        using Cached;

        namespace Demo;

        public enum Tier { Gold, Silver }

        public partial class Keys
        {
            [Cached(Key = "user:{id}")] public partial int Int(int id);
            private int IntCore(int id) => id;

            [Cached(Key = "n:{a}:{b}:{c}:{d}:{e}:{f}")] public partial int Wide(long a, double b, decimal c, Guid d, DateTimeOffset e, int? f);
            private int WideCore(long a, double b, decimal c, Guid d, DateTimeOffset e, int? f) => 0;

            [Cached(Key = "s:{name}")] public partial int Text(string name);
            private int TextCore(string name) => 0;

            [Cached(Key = "e:{tier}")] public partial int Enum(Tier tier);
            private int EnumCore(Tier tier) => 0;

            [Cached(Key = "f:{id:D30}")] public partial int Formatted(int id);
            private int FormattedCore(int id) => id;

            [Cached] public partial int Default(int id, bool flag);
            private int DefaultCore(int id, bool flag) => id;

            [Cached] public partial int DefaultText(int id, string name);
            private int DefaultTextCore(int id, string name) => id;
        }
        """;

    [Test]
    public void A_key_of_bounded_parts_gets_a_buffer_as_long_as_its_longest_text_and_any_other_key_256_chars()
    {
        var run = GeneratorRunner.Run(Source);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        var generated = run.Sources.Values.Single();

        Assert.Multiple(() =>
        {
            // "user:" and an int's 11 characters ("-2147483648").
            Assert.That(BufferOf(generated, "$\"user:{id}\""), Is.EqualTo(16));
            // 7 literal characters, 20 + 24 + 31 + 36 + 33 + 11, rounded up to whole 8s.
            Assert.That(BufferOf(generated, "$\"n:{a}:{b}:{c}:{d}:{e}:{f}\""), Is.EqualTo(168));
            Assert.That(BufferOf(generated, "$\"s:{name}\""), Is.EqualTo(256));
            Assert.That(BufferOf(generated, "$\"e:{tier}\""), Is.EqualTo(256));
            Assert.That(BufferOf(generated, "$\"f:{id:D30}\""), Is.EqualTo(256));
            // "Demo.Keys.Default" (17), "(", then 11 + 4 and 5 + 4 of room for each argument and its separator.
            Assert.That(BufferOf(generated, "\"Demo.Keys.Default\""), Is.EqualTo(48));
            Assert.That(BufferOf(generated, "\"Demo.Keys.DefaultText\""), Is.EqualTo(256));
        });
    }

    /// <summary>The length of the stackalloc that starts the key written with <paramref name="rest"/> (its template or prefix).</summary>
    private static int BufferOf(string generated, string rest)
    {
        var match = Regex.Match(generated, @"stackalloc char\[(\d+)\],\s*" + Regex.Escape(rest));
        Assert.That(match.Success, Is.True, "no key written with " + rest);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
