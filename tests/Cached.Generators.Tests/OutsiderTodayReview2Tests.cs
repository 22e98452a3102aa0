using System.Reflection;
using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests.Outsider.Today2;

/// <summary>An outsider's second review of 069a242..09317ed through the generator: default keys of formattable structs, tag templates.</summary>
public sealed class OutsiderTodayReview2Tests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Collections.Immutable;
        using System.Linq;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;

        """;

    [SetUp]
    public void FreshDefaultCache()
    {
        Caches.Reset();
        Caches.Get().Clear();
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    private static Assembly Build(params string[] sources) => UserScenario.Build(Usings, sources);

    [Test]
    public void A_declared_formattable_struct_whose_text_holds_a_comma_keeps_two_calls_apart()
    {
        // decorators.md (8f5e4f4): other values are their ToString() quoted, "a Uri and any other formattable type but
        // the numbers, dates, times, Guid and enums included (a comma is legal in a URL)".
        var scenario = Build("""
            namespace Shapes;
            public readonly struct Amount : ISpanFormattable
            {
                private readonly string _text;
                public Amount(string text) => _text = text;
                public string ToString(string? format, IFormatProvider? provider) => _text;
                public override string ToString() => _text;
                public bool TryFormat(Span<char> destination, out int written, ReadOnlySpan<char> format, IFormatProvider? provider)
                {
                    if (_text.AsSpan().TryCopyTo(destination)) { written = _text.Length; return true; }
                    written = 0; return false;
                }
            }
            public static partial class Prices
            {
                public static int Calls;
                [Cached(Ttl = 60)]
                public static partial string Pair(Amount a, Amount b);
                private static string PairCore(Amount a, Amount b) { Calls++; return a + "|" + b; }
            }
            public static class Probe
            {
                public static string Run()
                    => Prices.Pair(new Amount("1,2"), new Amount("3")) + " " + Prices.Pair(new Amount("1"), new Amount("2,3")) + " " + Prices.Calls;
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("1,2|3 1|2,3 2"));
    }

    [Test]
    public void InvalidateTags_with_a_default_ImmutableArray_does_not_fail_the_call_after_its_body()
    {
        // tags.md: "A template that formats to an empty string adds no tag rather than failing the call"; "a cache fault
        // during the invalidation is logged, never thrown". A key template writes a default ImmutableArray as null.
        var scenario = Build("""
            namespace Tagged;
            public static partial class Users
            {
                public static int Renamed;
                [Cached(Ttl = 60, Key = "user:{id}", Tags = new[] { "user:{id}" })]
                public static partial int Get(int id);
                private static int GetCore(int id) => id;
                [InvalidateTags("user:{ids}")]
                public static partial void Rename(ImmutableArray<int> ids);
                private static void RenameCore(ImmutableArray<int> ids) => Renamed++;
            }
            public static class Probe
            {
                public static string Run()
                {
                    Users.Get(1);
                    try { Users.Rename(default); return "ok " + Users.Renamed; }
                    catch (Exception e) { return e.GetType().Name + " " + Users.Renamed; }
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("ok 1"));
    }
}
