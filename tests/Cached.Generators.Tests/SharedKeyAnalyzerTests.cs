using System.Globalization;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED043 (<see cref="SharedKeyAnalyzer"/>): cached methods that write the same keys into one store, storing different
/// types, read each other's entries; found in the parity sweep of aiocache's semantics (item 89: aiocache makes a cache
/// per decorated function). The analyzer runs on the compilation with the generated code, as a build runs it.
/// </summary>
public sealed class SharedKeyAnalyzerTests
{
    private const string Prelude = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;
        using Cached.Serializers;
        namespace Demo;

        """;

    private const string Fix = ": each reads the other's entries; give the keys texts of their own or a Namespace, or the method a cache of its own";

    private static IReadOnlyList<Diagnostic> Analyze(params string[] sources) => Analyze(builds: true, sources);

    private static IReadOnlyList<Diagnostic> Analyze(bool builds, params string[] sources)
    {
        var run = GeneratorRunner.Run(sources.Select(static s => Prelude + s).ToArray());
        if (builds)
        {
            Assert.That(UserScenario.Problems(run), Is.Empty, "the scenario builds");
        }

        var analyzed = run.Output.WithAnalyzers([new SharedKeyAnalyzer()]).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        Assert.That(analyzed.Where(static d => d.Id == "AD0001"), Is.Empty, "the analyzer does not fail");
        return analyzed
            .OrderBy(static d => d.Location.SourceTree?.FilePath, StringComparer.Ordinal).ThenBy(static d => d.Location.SourceSpan.Start)
            .ToList();
    }

    private static string Text(Diagnostic diagnostic)
        => diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan);

    private static string[] Messages(IEnumerable<Diagnostic> diagnostics)
        => diagnostics.Select(static d => d.GetMessage(CultureInfo.InvariantCulture)).ToArray();

    [Test]
    public void Two_methods_of_two_types_with_one_fixed_key_in_the_default_cache_are_each_reported_at_their_Key()
    {
        var diagnostics = Analyze(
            """
            public static partial class A
            {
                [Cached(Key = "config")] public static partial string Config();
                private static string ConfigCore() => "A's";
            }
            """,
            """
            public partial class B
            {
                [Cached(Ttl = 10, Key = "config")] public partial Task<int> ConfigAsync();
                private Task<int> ConfigAsyncCore() => Task.FromResult(1);
            }
            """);

        Assert.That(diagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED043", "CACHED043" }));
        Assert.That(diagnostics.Select(Text), Is.EqualTo(new[] { "\"config\"", "\"config\"" }), "at each Key argument");
        Assert.That(diagnostics.Select(static d => d.Location.Kind), Is.All.EqualTo(LocationKind.SourceFile), "where #pragma applies");
        Assert.That(diagnostics.Select(static d => d.Severity), Is.All.EqualTo(DiagnosticSeverity.Warning));
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "'Demo.A.Config' stores string under the fixed key 'config' in the same cache as 'Demo.B.ConfigAsync' (int)" + Fix,
            "'Demo.B.ConfigAsync' stores int under the fixed key 'config' in the same cache as 'Demo.A.Config' (string)" + Fix,
        }));
    }

    [Test]
    public void Methods_of_one_Alias_are_told_of_those_that_store_another_type_and_twins_of_one_type_are_not_reported()
    {
        var diagnostics = Analyze("""
            public partial class Settings
            {
                [Cached(Alias = "main", Key = "k")] public partial int One();
                private int OneCore() => 1;
                [Cached(Alias = "main", Key = "k", Ttl = 5)] public partial ValueTask<int> OneAsync(CancellationToken ct);
                private ValueTask<int> OneAsyncCore(CancellationToken ct) => new(1);
                [Cached(Alias = "main", Key = "k", Lease = 2)] public partial string Three();
                private string ThreeCore() => "3";
                [Cached(Key = "twin")] public partial string Twin();
                private string TwinCore() => "t";
                [Cached(Key = "twin")] public partial Task<string> TwinAsync();
                private Task<string> TwinAsyncCore() => Task.FromResult("t");
            }
            """);

        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "'Demo.Settings.One' stores int under the fixed key 'k' in the same cache as 'Demo.Settings.Three' (string)" + Fix,
            "'Demo.Settings.OneAsync' stores int under the fixed key 'k' in the same cache as 'Demo.Settings.Three' (string)" + Fix,
            "'Demo.Settings.Three' stores string under the fixed key 'k' in the same cache as 'Demo.Settings.One' (int), 'Demo.Settings.OneAsync' (int)" + Fix,
        }));
    }

    [Test]
    public void The_default_alias_by_name_an_empty_Namespace_there_escaped_braces_Redis_and_overloads_are_the_same_store()
    {
        var diagnostics = Analyze("""
            public partial class Same
            {
                [Cached(Key = "a")] public partial int NoAlias();
                private int NoAliasCore() => 0;
                [Cached(Key = "a", Alias = "default", Namespace = "")] public partial string DefaultAlias();
                private string DefaultAliasCore() => "";

                [Cached(Key = "b{{x}}")] public partial int Braces();
                private int BracesCore() => 0;
                [Cached(Key = "b{{x}}")] public partial string BracesAgain();
                private string BracesAgainCore() => "";

                [Cached(Key = "rates", Cache = typeof(Cached.Redis.RedisCache))] public partial int Rates();
                private int RatesCore() => 0;
                [Cached(Key = "rates", Cache = typeof(Cached.Redis.RedisCache))] public partial string RatesText();
                private string RatesTextCore() => "";

                [Cached(Key = "s")] public partial int Load();
                private int LoadCore() => 0;
                [Cached(Key = "s")] public partial string Load(int version);
                private string LoadCore(int version) => "";
            }
            """);

        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "'Demo.Same.NoAlias' stores int under the fixed key 'a' in the same cache as 'Demo.Same.DefaultAlias' (string)" + Fix,
            "'Demo.Same.DefaultAlias' stores string under the fixed key 'a' in the same cache as 'Demo.Same.NoAlias' (int)" + Fix,
            "'Demo.Same.Braces' stores int under the fixed key 'b{x}' in the same cache as 'Demo.Same.BracesAgain' (string)" + Fix,
            "'Demo.Same.BracesAgain' stores string under the fixed key 'b{x}' in the same cache as 'Demo.Same.Braces' (int)" + Fix,
            "'Demo.Same.Rates' stores int under the fixed key 'rates' in the same cache as 'Demo.Same.RatesText' (string)" + Fix,
            "'Demo.Same.RatesText' stores string under the fixed key 'rates' in the same cache as 'Demo.Same.Rates' (int)" + Fix,
            "'Demo.Same.Load()' stores int under the fixed key 's' in the same cache as 'Demo.Same.Load(int)' (string)" + Fix,
            "'Demo.Same.Load(int)' stores string under the fixed key 's' in the same cache as 'Demo.Same.Load()' (int)" + Fix,
        }));
    }

    [Test]
    public void Types_of_one_name_in_two_namespaces_are_two_types_and_a_nullable_annotation_is_not()
    {
        // From the day's last review: types were compared by their short text, so Billing.Config and Shipping.Config
        // read alike (unreported) and string? and string apart (reported). A lone closing brace is text in a key.
        var diagnostics = Analyze(
            """
            public partial class Settings
            {
                [Cached(Key = "cfg}")] public partial Billing.Config ForBilling();
                private Billing.Config ForBillingCore() => new();
                [Cached(Key = "cfg}")] public partial Shipping.Config ForShipping();
                private Shipping.Config ForShippingCore() => new();
                [Cached(Key = "name")] public partial string? Name();
                private string? NameCore() => null;
                [Cached(Key = "name")] public partial Task<string> NameAsync();
                private Task<string> NameAsyncCore() => Task.FromResult("");
            }
            """,
            "public static class Billing { public sealed class Config { } }\npublic static class Shipping { public sealed class Config { } }");

        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "'Demo.Settings.ForBilling' stores Demo.Billing.Config under the fixed key 'cfg}' in the same cache as 'Demo.Settings.ForShipping' (Demo.Shipping.Config)" + Fix,
            "'Demo.Settings.ForShipping' stores Demo.Shipping.Config under the fixed key 'cfg}' in the same cache as 'Demo.Settings.ForBilling' (Demo.Billing.Config)" + Fix,
        }));
    }

    [Test]
    public void Two_MultiCached_methods_without_a_KeyBuilder_share_their_keys_values()
    {
        var diagnostics = Analyze("""
            public partial class Lookups
            {
                [MultiCached(KeysFrom = "ids")] public partial Dictionary<int, string> Users(List<int> ids);
                private Dictionary<int, string> UsersCore(List<int> ids) => new();
                [MultiCached(KeysFrom = "ids")] public partial Task<Dictionary<int, decimal>> TotalsAsync(int[] ids);
                private Task<Dictionary<int, decimal>> TotalsAsyncCore(int[] ids) => Task.FromResult(new Dictionary<int, decimal>());
                [MultiCached(KeysFrom = "ids")] public partial IReadOnlyDictionary<int, string> UsersAgain(IReadOnlyList<int> ids);
                private IReadOnlyDictionary<int, string> UsersAgainCore(IReadOnlyList<int> ids) => new Dictionary<int, string>();
                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(OrderKey))] public partial Dictionary<int, long> Orders(List<int> ids);
                private Dictionary<int, long> OrdersCore(List<int> ids) => new();
                private static string OrderKey(int id) => "order:" + id;
                [MultiCached(KeysFrom = "ids", Namespace = "stock")] public partial Dictionary<int, long> Stock(List<int> ids);
                private Dictionary<int, long> StockCore(List<int> ids) => new();
            }
            """);

        Assert.That(diagnostics.Select(Text), Is.EqualTo(new[] { "\"ids\"", "\"ids\"", "\"ids\"" }), "at each KeysFrom");
        Assert.That(Messages(diagnostics), Is.EqualTo(new[]
        {
            "'Demo.Lookups.Users' stores string under its key values' text (no KeyBuilder) in the same cache as 'Demo.Lookups.TotalsAsync' (decimal)" + Fix,
            "'Demo.Lookups.TotalsAsync' stores decimal under its key values' text (no KeyBuilder) in the same cache as 'Demo.Lookups.Users' (string), 'Demo.Lookups.UsersAgain' (string)" + Fix,
            "'Demo.Lookups.UsersAgain' stores string under its key values' text (no KeyBuilder) in the same cache as 'Demo.Lookups.TotalsAsync' (decimal)" + Fix,
        }));
    }

    [Test]
    public void Keys_apart_by_text_namespace_alias_own_cache_or_holes_are_not_reported()
    {
        var diagnostics = Analyze("""
            public partial class Apart
            {
                [Cached(Key = "same")] public partial int Plain();
                private int PlainCore() => 0;
                [Cached(Key = "other")] public partial string OtherText();
                private string OtherTextCore() => "";
                [Cached(Key = "same", Namespace = "n")] public partial string OtherNamespace();
                private string OtherNamespaceCore() => "";
                [Cached(Key = "same", Alias = "main")] public partial string OtherAlias();
                private string OtherAliasCore() => "";
                [Cached(Key = "same", Cache = typeof(SimpleMemoryCache))] public partial string OwnCache();
                private string OwnCacheCore() => "";
                [Cached(Key = "same", Serializer = typeof(StringSerializer))] public partial string OwnSerializer();
                private string OwnSerializerCore() => "";
                [Cached(Key = "same:{id}")] public partial string Template(int id);
                private string TemplateCore(int id) => "";
                [Cached] public partial string DefaultKey();
                private string DefaultKeyCore() => "";
            }
            """);

        // Templates alike share entries only for equal arguments, and default keys name their method: not judged.
        Assert.That(diagnostics, Is.Empty);
    }

    [Test]
    public void The_warning_is_silenced_by_a_pragma_around_the_Key_as_a_compiler_warning_is()
    {
        var diagnostics = Analyze("""
            public partial class Shared
            {
            #pragma warning disable CACHED043 // the same entry read as text and as its length, on purpose
                [Cached(Key = "settings")] public partial string Settings();
                [Cached(Key = "settings")] public partial int SettingsLength();
            #pragma warning restore CACHED043
                private string SettingsCore() => "s";
                private int SettingsLengthCore() => 1;
            }
            """);

        // Reported without the pragma (the cases above); with it, the build sees nothing.
        Assert.That(diagnostics, Is.Empty);
    }

    [Test]
    public void A_repeated_argument_an_error_of_its_own_does_not_fail_the_analyzer()
    {
        var diagnostics = Analyze(builds: false, """
            public partial class Twice
            {
                [Cached(Key = "a", Key = "b")] public partial int One();
                private int OneCore() => 1;
                [Cached(Key = "a")] public partial string Two();
                private string TwoCore() => "";
            }
            """);

        Assert.That(diagnostics.Select(static d => d.Id), Is.All.EqualTo("CACHED043"));
    }
}
