using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using System.Xml.Linq;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED021: in a trimmed or NativeAOT project, a [Cached] or [MultiCached] method that may store its result as JSON
/// and whose result type no JsonSerializerContext lists is reported on its attribute; nothing is said where JSON is
/// not at stake, where a context covers the type, or where the project is not trimmed.
/// </summary>
public sealed partial class JsonAotDiagnosticTests
{
    private const string Prelude = """
        using System;
        using System.Collections.Generic;
        using System.Text.Json.Serialization;
        using System.Threading.Tasks;
        using Cached;
        using Cached.Serializers;
        namespace Demo;
        public sealed record Forecast(string City, double Celsius);

        """;

    private static readonly ImmutableDictionary<string, string> s_aot = ImmutableDictionary<string, string>.Empty
        .Add("build_property.PublishAot", "true");

    private static readonly MetadataReference s_redis = MetadataReference.CreateFromFile(typeof(Cached.Redis.RedisCache).Assembly.Location);

    /// <summary>
    /// Runs the generator, then the analyzer (as a build does) on <paramref name="body"/>, with the build properties
    /// given, and returns CACHED021's diagnostics and the spans marked <c>[|...|]</c>.
    /// </summary>
    private static (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<TextSpan> Marked) Analyze(
        string body, IReadOnlyDictionary<string, string>? properties = null, bool referencesRedis = false, string prelude = Prelude)
    {
        var source = prelude + body;
        var spans = new List<TextSpan>();
        for (var open = source.IndexOf("[|", StringComparison.Ordinal); open >= 0; open = source.IndexOf("[|", open, StringComparison.Ordinal))
        {
            var close = source.IndexOf("|]", open, StringComparison.Ordinal);
            source = source.Remove(close, 2).Remove(open, 2);
            spans.Add(new TextSpan(open, close - open - 2));
        }

        // The test process has Cached.Redis loaded, so it is among the references unless taken out.
        var compilation = GeneratorRunner.Compile(source);
        var redis = compilation.References.Where(static r => r.Display is { } path && Path.GetFileName(path) == "Cached.Redis.dll").ToList();
        compilation = referencesRedis ? compilation.RemoveReferences(redis).AddReferences(s_redis) : compilation.RemoveReferences(redis);

        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator(), SystemTextJsonGenerator.Instance], parseOptions: new CSharpParseOptions(LanguageVersion.Latest));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.That(generatorDiagnostics, Is.Empty, "the generators must accept the scenario");
        Assert.That(output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error), Is.Empty, "the scenario must compile");
        var options = new AnalyzerOptions([], new BuildProperties(properties ?? s_aot));
        var diagnostics = output.WithAnalyzers([new JsonAotAnalyzer()], options)
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        return (diagnostics, spans);
    }

    private static Diagnostic Single(string body, IReadOnlyDictionary<string, string>? properties = null, bool referencesRedis = false)
    {
        var (diagnostics, marked) = Analyze(body, properties, referencesRedis);
        Assert.That(diagnostics, Has.Count.EqualTo(1), () => string.Join(Environment.NewLine, diagnostics));
        var diagnostic = diagnostics[0];
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostic.Id, Is.EqualTo("CACHED021"));
            Assert.That(diagnostic.Severity, Is.EqualTo(DiagnosticSeverity.Warning));
            Assert.That(diagnostic.Location.Kind, Is.EqualTo(LocationKind.SourceFile), "in the user's own file, where #pragma applies");
            Assert.That(diagnostic.Location.GetLineSpan().Path, Is.EqualTo("Source0.cs"));
            Assert.That(marked, Is.EqualTo(new[] { diagnostic.Location.SourceSpan }), () => $"reported on '{diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan)}'");
        }

        return diagnostic;
    }

    /// <summary>The one diagnostic of <paramref name="body"/>, with the id given, a warning on the span marked <c>[|...|]</c>.</summary>
    private static Diagnostic OnlyOne(string id, string body)
    {
        var (diagnostics, marked) = Analyze(body);
        Assert.That(diagnostics, Has.Count.EqualTo(1), () => string.Join(Environment.NewLine, diagnostics));
        Assert.That((diagnostics[0].Id, diagnostics[0].Severity, diagnostics[0].Location.SourceSpan), Is.EqualTo((id, DiagnosticSeverity.Warning, marked[0])));
        return diagnostics[0];
    }

    private static void None(string body, IReadOnlyDictionary<string, string>? properties = null, bool referencesRedis = false)
    {
        var (diagnostics, _) = Analyze(body, properties, referencesRedis);
        Assert.That(diagnostics, Is.Empty, () => string.Join(Environment.NewLine, diagnostics));
    }

    private const string JsonForecast = """
        public partial class Weather
        {
            [[|Cached(Ttl = 10, Serializer = typeof(JsonSerializer))|]]
            public partial Task<Forecast> Get(string city);
            private Task<Forecast> GetCore(string city) => Task.FromResult(new Forecast(city, 1));
        }
        """;

    [Test]
    public void A_JsonSerializer_method_whose_result_no_context_lists_is_reported_on_its_attribute_with_the_fix()
    {
        var message = Single(JsonForecast).GetMessage(CultureInfo.InvariantCulture);

        Assert.That(message, Is.EqualTo("'Weather.Get' may store its result as JSON (its Serializer is JsonSerializer), but no JsonSerializerContext of this trimmed or NativeAOT project lists 'Forecast', so the method would run uncached: add [JsonSerializable(typeof(Forecast))] to a JsonSerializerContext"));
    }

    [TestCase("PublishAot")]
    [TestCase("PublishTrimmed")]
    [TestCase("IsAotCompatible")]
    [TestCase("IsTrimmable")]
    [TestCase("EnableTrimAnalyzer")]
    [TestCase("EnableAotAnalyzer")]
    public void Each_trimming_property_makes_a_project_trimmed(string property)
    {
        Single(JsonForecast, new Dictionary<string, string> { ["build_property." + property] = "True" });
    }

    [Test]
    public void A_project_that_is_not_trimmed_hears_nothing()
    {
        None(JsonForecast, new Dictionary<string, string> { ["build_property.PublishAot"] = "false", ["build_property.IsAotCompatible"] = "" });
    }

    [Test]
    public void A_trimmed_project_that_turns_reflection_back_on_hears_nothing()
    {
        None(JsonForecast, new Dictionary<string, string> { ["build_property.PublishAot"] = "true", ["build_property.JsonSerializerIsReflectionEnabledByDefault"] = "true" });
    }

    private const string JsonFeed = """
        public partial class Feed
        {
            [[|Cached(Serializer = typeof(JsonSerializer))|]]
            public partial IAsyncEnumerable<Forecast> Stream(string city);
            private async IAsyncEnumerable<Forecast> StreamCore(string city) { await Task.Yield(); yield return new Forecast(city, 1); }
        }
        """;

    [Test]
    public void A_sequence_result_is_judged_by_the_array_of_items_it_stores()
    {
        var message = Single(JsonFeed + """

            [JsonSerializable(typeof(Forecast))]
            internal partial class ItemsOnlyContext : JsonSerializerContext { }
            """).GetMessage(CultureInfo.InvariantCulture);

        Assert.That(message, Does.Contain("lists 'Forecast[]'"), "the items are stored as an array, which a context of the item alone does not serve");
    }

    [Test]
    public void A_context_that_lists_the_array_of_items_silences_a_sequence_result()
    {
        None(JsonFeed + """

            [JsonSerializable(typeof(Forecast[]))]
            internal partial class FeedContext : JsonSerializerContext { }
            """);
    }

    [Test]
    public void A_private_nested_context_which_the_generator_cannot_register_does_not_silence_it()
    {
        // Regression: the analyzer counted a context that generated code cannot name, so nothing warned, and at run
        // time the type was refused.
        Single(JsonForecast + """

            public partial class Holder
            {
                [JsonSerializable(typeof(Forecast))]
                private partial class HiddenContext : JsonSerializerContext { }
            }
            """);
    }

    [Test]
    public void A_context_that_lists_the_type_silences_it()
    {
        None(JsonForecast + """

            [JsonSerializable(typeof(Forecast))]
            internal partial class AppJsonContext : JsonSerializerContext { }
            """);
    }

    [TestCase("List<Forecast>", TestName = "A_context_that_reaches_the_type_through_a_list_silences_it")]
    [TestCase("Forecast[]", TestName = "A_context_that_reaches_the_type_through_an_array_silences_it")]
    [TestCase("Dictionary<string, Forecast>", TestName = "A_context_that_reaches_the_type_through_a_dictionary_silences_it")]
    [TestCase("Envelope", TestName = "A_context_that_reaches_the_type_through_a_property_silences_it")]
    public void A_context_that_reaches_the_type_silences_it(string root)
    {
        None(JsonForecast + $$"""

            public sealed class Envelope { public Forecast? Inner { get; set; } }

            [JsonSerializable(typeof({{root}}))]
            internal partial class AppJsonContext : JsonSerializerContext { }
            """);
    }

    [Test]
    public void A_context_of_other_types_does_not()
    {
        Single(JsonForecast + """

            [JsonSerializable(typeof(int))]
            internal partial class AppJsonContext : JsonSerializerContext { }
            """);
    }

    [Test]
    public void A_MultiCached_method_needs_its_value_type()
    {
        var body = """
            public partial class Weather
            {
                [[|MultiCached(KeysFrom = "cities", Serializer = typeof(JsonSerializer))|]]
                public partial Dictionary<string, Forecast> GetMany(List<string> cities);
                private Dictionary<string, Forecast> GetManyCore(List<string> cities) => new();
            }
            """;

        Assert.That(Single(body).GetMessage(CultureInfo.InvariantCulture), Does.Contain("[JsonSerializable(typeof(Forecast))]"));
        None(body + """

            [JsonSerializable(typeof(Forecast))]
            internal partial class AppJsonContext : JsonSerializerContext { }
            """);
    }

    [Test]
    public void Without_a_serializer_a_project_that_references_Cached_Redis_is_warned()
    {
        var diagnostic = Single("""
            public partial class Weather
            {
                [[|Cached(Ttl = 10)|]]
                public partial Forecast Get(string city);
                private Forecast GetCore(string city) => new(city, 1);
            }
            """, referencesRedis: true);

        Assert.That(diagnostic.GetMessage(CultureInfo.InvariantCulture), Does.Contain("its cache is chosen at run time and may be a RedisCache"));
    }

    [Test]
    public void With_Cache_RedisCache_and_no_serializer_it_is_warned()
    {
        var diagnostic = Single("""
            public partial class Weather
            {
                [[|Cached(Cache = typeof(Cached.Redis.RedisCache))|]]
                public partial Forecast Get(string city);
                private Forecast GetCore(string city) => new(city, 1);
            }
            """, referencesRedis: true);

        Assert.That(diagnostic.GetMessage(CultureInfo.InvariantCulture), Does.Contain("RedisCache stores JSON by default"));
    }

    [Test]
    public void Memory_only_projects_and_other_serializers_hear_nothing()
    {
        var body = """
            public partial class Weather
            {
                [Cached]
                public partial Forecast Plain(string city);
                private Forecast PlainCore(string city) => new(city, 1);

                [Cached(Alias = "main")]
                public partial Forecast ByAlias(string city);
                private Forecast ByAliasCore(string city) => new(city, 1);

                [Cached(Serializer = typeof(StringSerializer))]
                public partial Forecast AsText(string city);
                private Forecast AsTextCore(string city) => new(city, 1);

                [Cached(Cache = typeof(SimpleMemoryCache))]
                public partial Forecast InMemory(string city);
                private Forecast InMemoryCore(string city) => new(city, 1);
            }
            """;

        None(body);
        Assert.That(Analyze(body, referencesRedis: true).Diagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED021", "CACHED021" }), "with Cached.Redis, Plain and ByAlias may get a RedisCache");
    }

    [Test]
    public void Primitives_need_no_context()
    {
        None("""
            public partial class Numbers
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Task<int> Count();
                private Task<int> CountCore() => Task.FromResult(1);

                [Cached(Serializer = typeof(JsonSerializer))]
                public partial ValueTask<Guid?> Id();
                private ValueTask<Guid?> IdCore() => new((Guid?)null);

                [Cached(Serializer = typeof(JsonSerializer))]
                public partial string? Name();
                private string? NameCore() => null;

                [MultiCached(KeysFrom = "ids", Serializer = typeof(JsonSerializer))]
                public partial Dictionary<int, DateTimeOffset> Seen(int[] ids);
                private Dictionary<int, DateTimeOffset> SeenCore(int[] ids) => new();
            }
            """);
    }

    [Test]
    public void A_big_integer_needs_no_context_Cached_converts_it_itself()
    {
        None("""
            public partial class Numbers
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Task<System.Numerics.BigInteger?> Huge();
                private Task<System.Numerics.BigInteger?> HugeCore() => Task.FromResult<System.Numerics.BigInteger?>(1);
            }
            """);
    }

    [TestCase("(int Count, string Name)", "(int Count, string Name)", "(int Count, string Name)")]
    [TestCase("(int, string)?", "(int, string)?", "(int, string)")]
    [TestCase("List<(int, string)>", "List<(int, string)>", "(int, string)")]
    [TestCase("Holder", "Holder", "(int, string)")]
    public void A_value_tuple_anywhere_in_the_result_is_reported_even_when_a_context_lists_it(string result, string named, string tuple)
    {
        var diagnostic = OnlyOne("CACHED032", $$"""
            public sealed record Holder(string Name, (int, string) Pair);
            [JsonSerializable(typeof({{result}}))]
            internal partial class ResultContext : JsonSerializerContext;
            public partial class Counts
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Task<{{result}}> Get();
                private Task<{{result}}> GetCore() => Task.FromResult<{{result}}>(default!);
            }
            """);

        Assert.That(diagnostic.GetMessage(CultureInfo.InvariantCulture), Is.EqualTo($"'Counts.Get' may store its result as JSON (its Serializer is JsonSerializer), and '{named}' holds the value tuple '{tuple}', which JsonSerializer refuses in a trimmed or NativeAOT project, so the method would run uncached: use a record instead"));
    }

    [Test]
    public void A_value_tuple_a_type_keeps_private_or_a_project_that_is_not_trimmed_is_not_reported()
    {
        const string Body = """
            public sealed class Tally
            {
                private (int, int) _scratch;
                public int Total { get; set; }
                public void Touch() => _scratch = (1, 2);
            }
            [JsonSerializable(typeof(Tally))]
            internal partial class TallyContext : JsonSerializerContext;
            public partial class Counts
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Task<Tally> Get();
                private Task<Tally> GetCore() => Task.FromResult(new Tally());

                [Cached(Serializer = typeof(JsonSerializer))]
                public partial (int, int) Pair();
                private (int, int) PairCore() => (1, 2);
            }
            """;
        var (diagnostics, _) = Analyze(Body);
        Assert.That(diagnostics.Select(static d => d.Id + " " + d.GetMessage(CultureInfo.InvariantCulture)), Has.All.Contains("'Counts.Pair'"), "only the tuple result");
        Assert.That(diagnostics, Has.Count.EqualTo(1));
        None(Body, new Dictionary<string, string> { ["build_property.PublishAot"] = "false" });
    }

    [TestCase("Point", "Point", "X")]
    [TestCase("List<Point>", "Point", "X")]
    [TestCase("Shape", "Shape", "Sides")]
    public void A_public_field_json_skips_anywhere_in_the_result_is_reported_even_when_a_context_lists_it(string result, string holder, string field)
    {
        var diagnostic = OnlyOne("CACHED033", $$"""
            public struct Point { public int X; [JsonInclude] public int Y; }
            public class Shape { public int Sides; [JsonIgnore] public int Scratch; public string Name { get; set; } = ""; }
            [JsonSourceGenerationOptions(IncludeFields = true)]
            [JsonSerializable(typeof({{result}}))]
            internal partial class ResultContext : JsonSerializerContext;
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Task<{{result}}> Get();
                private Task<{{result}}> GetCore() => Task.FromResult<{{result}}>(default!);
            }
            """);

        Assert.That(diagnostic.GetMessage(CultureInfo.InvariantCulture), Is.EqualTo($"'Shapes.Get' may store its result as JSON (its Serializer is JsonSerializer), and '{result}' holds '{holder}', whose public field '{field}' System.Text.Json skips in a trimmed or NativeAOT project, so it would read back without it: make it a property, or mark it [JsonInclude] (or [JsonIgnore] to leave it out)"));
    }

    [TestCase("System")]
    [TestCase("Microsoft")]
    public void A_projects_own_types_in_a_namespace_named_like_the_frameworks_are_judged_as_its_own(string root)
    {
        // Regression (outside review): types were taken for .NET's by their namespace's root alone, so a project's
        // System.MyApp.Line, listed through a context's Order, was reported uncovered (CACHED021, false), and the public
        // field of its Pub went unreported (CACHED033 missing).
        var (diagnostics, marked) = Analyze(
            $$"""
            namespace {{root}}.MyApp
            {
                public class Order { public List<Line> Lines { get; set; } = new(); public Pub? P { get; set; } }
                public class Line { public int Qty { get; set; } }
                public class Pub { public int Field; }
                [JsonSerializable(typeof(Order))] internal partial class Ctx : JsonSerializerContext { }
                public partial class Svc
                {
                    [Cached(Serializer = typeof(JsonSerializer))] public partial Line GetLine(int id);
                    private Line GetLineCore(int id) => new Line { Qty = id };
                    [[|Cached(Serializer = typeof(JsonSerializer))|]] public partial Pub GetPub(int id);
                    private Pub GetPubCore(int id) => new Pub { Field = id };
                }
            }
            """,
            prelude: Prelude.Replace("namespace Demo;", string.Empty, StringComparison.Ordinal));

        Assert.That(diagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED033" }), () => string.Join(Environment.NewLine, diagnostics));
        Assert.That(diagnostics[0].Location.SourceSpan, Is.EqualTo(marked[0]));
    }

    [Test]
    public void Fields_marked_include_or_ignore_private_fields_and_framework_types_are_not_reported()
    {
        None("""
            public sealed class Marked { [JsonInclude] public int Kept; [JsonIgnore] public int Skipped; private int _own; public int Own => _own; }
            [JsonSerializable(typeof(Marked))]
            [JsonSerializable(typeof(KeyValuePair<string, int>))]
            internal partial class MarkedContext : JsonSerializerContext;
            public partial class Shapes
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Task<Marked> Get();
                private Task<Marked> GetCore() => Task.FromResult(new Marked());

                [Cached(Serializer = typeof(JsonSerializer))]
                public partial KeyValuePair<string, int> Pair();
                private KeyValuePair<string, int> PairCore() => new("a", 1);
            }
            """);
    }

    [Test]
    public void A_result_of_a_type_parameter_is_not_judged()
    {
        None("""
            public partial class Repository<T>
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Task<List<T>> All();
                private Task<List<T>> AllCore() => Task.FromResult(new List<T>());
            }
            """);
    }

    [Test]
    public void Pragma_warning_disable_silences_it()
    {
        var (diagnostics, _) = Analyze("""
            public partial class Weather
            {
            #pragma warning disable CACHED021
                [Cached(Ttl = 10, Serializer = typeof(JsonSerializer))]
            #pragma warning restore CACHED021
                public partial Task<Forecast> Get(string city);
                private Task<Forecast> GetCore(string city) => Task.FromResult(new Forecast(city, 1));
            }
            """);

        Assert.That(diagnostics.Where(static d => !d.IsSuppressed), Is.Empty);
    }

    [Test]
    public void The_analyzer_knows_exactly_the_types_Cached_Core_carries_itself()
    {
        // Cached.Serializers.BuiltInJsonContext's [JsonSerializable] list, against the analyzer's list and its nullables.
        var context = typeof(Cached.Serializers.JsonSerializer).Assembly.GetType("Cached.Serializers.BuiltInJsonContext", throwOnError: true)!;
        var carried = context.GetCustomAttributesData()
            .Where(static a => a.AttributeType == typeof(JsonSerializableAttribute))
            .Select(static a => (Type)a.ConstructorArguments[0].Value!)
            .ToList();
        Assembly[] homes = [typeof(object).Assembly, typeof(Uri).Assembly, typeof(System.Text.Json.JsonElement).Assembly];

        var expected = JsonAotAnalyzer.BuiltInTypes
            .Select(name => homes.Select(a => a.GetType(name)).SingleOrDefault(static t => t is not null) ?? throw new InvalidOperationException(name))
            .SelectMany(static t => t.IsValueType ? new[] { t, typeof(Nullable<>).MakeGenericType(t) } : [t])
            .Append(typeof(byte[]));
        Assert.That(carried, Is.EquivalentTo(expected));
    }

    [Test]
    public void The_package_makes_every_property_the_analyzer_reads_visible_to_the_compiler()
    {
        var props = XDocument.Load(Path.Combine(RepositoryRoot(), "src", "Cached.Core", "build", "Cached.Core.props"));
        var visible = props.Descendants("CompilerVisibleProperty").Select(static e => (string)e.Attribute("Include")!).ToList();

        Assert.That(visible, Is.EquivalentTo(JsonAotAnalyzer.TrimmingProperties.Append(JsonAotAnalyzer.ReflectionProperty)));
    }

    private static string RepositoryRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Cached.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("Cached.sln was not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Build properties as the compiler hands them to analyzers (build_property.* of the global options).</summary>
    private sealed class BuildProperties(IReadOnlyDictionary<string, string> properties) : AnalyzerConfigOptionsProvider
    {
        private static readonly Options s_none = new(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(properties);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => s_none;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => s_none;

        private sealed class Options(IReadOnlyDictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value)
                => values.TryGetValue(key, out value);
        }
    }
}
