using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Cached.Generators.Tests;

/// <summary>
/// A [MultiCached] KeyBuilder that takes the method's other parameters after the key (CACHED010 when one is not a
/// parameter of that name and type), the CACHED042 it answers, and the invalidating method that must pass them
/// (CACHED018).
/// </summary>
public sealed partial class DiagnosticTests
{
    private const string PricesByRegion = """
        public enum Region { Eu, Us }
        public partial class Prices
        {
            [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(PriceKey))]
            public partial Dictionary<int, string> ByRegion(List<int> ids, Region region, int shelf, CancellationToken ct);
            private Dictionary<int, string> ByRegionCore(List<int> ids, Region region, int shelf, CancellationToken ct) => new();

        """;

    private const string After = "; after the key it takes the method's own parameters, by name and type)";

    [TestCase("string PriceKey(int id, Region area)", " ('area' is not a parameter of the method" + After, TestName = "CACHED010_a_MultiCached_KeyBuilder_parameter_named_like_no_parameter")]
    [TestCase("string PriceKey(int id, string region)", " ('region' is 'Region' in the method" + After, TestName = "CACHED010_a_MultiCached_KeyBuilder_parameter_of_another_type")]
    [TestCase("string PriceKey(int id, List<int> ids)", " ('ids' holds the keys, not one" + After, TestName = "CACHED010_a_MultiCached_KeyBuilder_that_takes_the_keys")]
    [TestCase("string PriceKey(int id, CancellationToken ct)", " ('ct' is the method's CancellationToken, which is no part of a key" + After, TestName = "CACHED010_a_MultiCached_KeyBuilder_that_takes_the_token")]
    [TestCase("string PriceKey(Region region, int id)", "", TestName = "CACHED010_a_MultiCached_KeyBuilder_whose_key_is_not_first")]
    [TestCase("string PriceKey(int id, ref Region region)", " ('region' is passed by reference" + After, TestName = "CACHED010_a_MultiCached_KeyBuilder_with_a_ref_parameter")]
    public void CACHED010_a_MultiCached_KeyBuilder_whose_other_parameters_are_not_the_methods(string builder, string why)
    {
        // The message says which parameter of the builder the method does not pass (outside check: it named none).
        var message = Single(PricesByRegion.Replace("KeyBuilder = nameof(PriceKey)", "KeyBuilder = [|nameof(PriceKey)|]", StringComparison.Ordinal)
            + "    private static " + builder + " => \"\";\n}\n", "CACHED010");
        Assert.That(message, Is.EqualTo("KeyBuilder of 'Prices.ByRegion' names 'PriceKey': add 'string PriceKey(int key)'" + why));
    }

    [Test]
    public void CACHED042_is_not_reported_on_the_parameters_a_MultiCached_KeyBuilder_takes()
    {
        var diagnostics = Expect(PricesByRegion.Replace("Region region, int shelf, CancellationToken ct);", "Region region, [|int shelf|], CancellationToken ct);", StringComparison.Ordinal) + """
                private static string PriceKey(int id, Region region) => region + ":" + id;
            }
            """, DiagnosticSeverity.Warning, "CACHED042");

        Assert.That(diagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("The keys of [MultiCached] 'Prices.ByRegion' are written from 'ids' and 'region': calls that differ only in 'shelf' share entries; pass it to a KeyBuilder after the key ('string PriceKey(int id, Region region, int shelf)'), or mark it [CacheKeyIgnore] if its value never changes the result"));
    }

    [Test]
    public void CACHED042_suggests_a_builder_whose_key_is_not_named_like_the_parameter()
    {
        var diagnostics = Expect("""
            public partial class Prices
            {
                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<int, string> Of(List<int> ids, [|string key|], [|int @class|]);
                private Dictionary<int, string> OfCore(List<int> ids, string key, int @class) => new();
            }
            """, DiagnosticSeverity.Warning, "CACHED042", "CACHED042");

        Assert.That(diagnostics.Select(static d => d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)), Is.EqualTo(new[]
        {
            "The keys of [MultiCached] 'Prices.Of' are written from 'ids' alone: calls that differ only in 'key' share entries; pass it to a KeyBuilder after the key ('string KeyOf(int k, string key)'), or mark it [CacheKeyIgnore] if its value never changes the result",
            "The keys of [MultiCached] 'Prices.Of' are written from 'ids' alone: calls that differ only in '@class' share entries; pass it to a KeyBuilder after the key ('string KeyOf(int key, int @class)'), or mark it [CacheKeyIgnore] if its value never changes the result",
        }));
    }

    [Test]
    public void CACHED042_suggests_a_key_not_named_like_the_parameter_beside_a_given_builder()
    {
        // From a review: PriceKey(int region) beside a parameter 'Region region' suggested two parameters named region.
        var diagnostics = Expect("""
            public enum Region { Eu, Us }
            public partial class Prices
            {
                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(PriceKey))]
                public partial Dictionary<int, string> Of(List<int> ids, [|Region region|]);
                private Dictionary<int, string> OfCore(List<int> ids, Region region) => new();
                private static string PriceKey(int region) => "p" + region;
            }
            """, DiagnosticSeverity.Warning, "CACHED042");

        Assert.That(diagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture), Does.Contain("('string PriceKey(int k, Region region)')"));
    }

    [Test]
    public void Of_two_fitting_KeyBuilder_overloads_the_one_that_takes_more_is_called()
    {
        var run = GeneratorRunner.Run(Prelude + PricesByRegion + """
                private static string PriceKey(int id) => "all:" + id;
                private static string PriceKey(int id, Region region) => region + ":" + id;
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED042" }), "shelf alone");
        Assert.That(string.Join("\n", run.Sources.Values), Does.Contain("PriceKey(__key, __state.region)"));
    }

    [Test]
    public void A_MultiCached_KeyBuilder_may_take_every_other_parameter_in_any_order()
    {
        var run = GeneratorRunner.Run(Prelude + PricesByRegion + """
                private static string PriceKey(int id, int shelf, Region region) => region + ":" + shelf + ":" + id;

                [InvalidateCache(nameof(ByRegion))]
                public partial void Move(int shelf, Region region, int[] ids);
                private void MoveCore(int shelf, Region region, int[] ids) { }
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void CACHED018_the_invalidator_lacks_an_argument_of_the_targets_KeyBuilder()
    {
        var message = Single(PricesByRegion + """
                private static string PriceKey(int id, Region region, int shelf) => region + ":" + shelf + ":" + id;

                [InvalidateCache([|nameof(ByRegion)|])]
                public partial void Forget(int ids, Region region, long shelf);
                private void ForgetCore(int ids, Region region, long shelf) { }
            }
            """, "CACHED018");
        Assert.That(message, Is.EqualTo("[InvalidateCache] on 'Prices.Forget' cannot name the keys of [MultiCached] 'ByRegion': its KeyBuilder 'PriceKey' takes 'shelf': add a parameter 'shelf' of type 'int'"));
    }

    [Test]
    public void CACHED044_a_MultiCached_KeyBuilder_parameter_that_does_not_take_the_null_the_method_may_pass()
    {
        // Regression (outside check from the packages): the builder threw a NullReferenceException at the first call
        // with a null currency; the CS8604 of a call by hand is not raised in the generated file.
        var diagnostics = Expect("""
            public partial class Prices
            {
                [MultiCached(KeysFrom = "ids", KeyBuilder = [|nameof(PriceKey)|])]
                public partial Dictionary<int, string> Of(List<int> ids, string? currency, string region);
                private Dictionary<int, string> OfCore(List<int> ids, string? currency, string region) => new();
                private static string PriceKey(int id, string currency, string region) => currency.Length + region + id;
            }
            """, DiagnosticSeverity.Warning, "CACHED044");

        Assert.That(diagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(
            "KeyBuilder 'PriceKey' of 'Prices.Of' takes 'currency' as 'string', where the method's 'currency' is 'string?': a null argument reaches a parameter declared not to hold one; declare it 'string?'"));
    }

    [Test]
    public void CACHED044_a_Cached_KeyBuilder_parameter_that_does_not_take_the_null_the_method_may_pass()
    {
        var diagnostics = Expect("""
            public partial class Users
            {
                [Cached(KeyBuilder = [|nameof(UserKey)|])]
                public partial string Find(int id, string? name);
                private string FindCore(int id, string? name) => "";
                private static string UserKey(int id, string name) => name + id;
            }
            """, DiagnosticSeverity.Warning, "CACHED044");

        Assert.That(diagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture), Does.StartWith("KeyBuilder 'UserKey' of 'Users.Find' takes 'name' as 'string'"));
    }

    [Test]
    public void CACHED044_is_not_reported_for_a_nullable_builder_parameter_or_a_non_nullable_argument()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public partial class Users
            {
                [Cached(KeyBuilder = nameof(UserKey))]
                public partial string Find(int id, string? name, string region);
                private string FindCore(int id, string? name, string region) => "";
                private static string UserKey(int id, string? name, string? region) => name + id + region;
            }
            """);

        Assert.That(run.GeneratorDiagnostics, Is.Empty);
    }
}

