using System.Collections.Immutable;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's review of CACHED032 (a value tuple stored as JSON in a trimmed or NativeAOT project) and CACHED033 (a
/// public field System.Text.Json skips): where they should and should not be reported, and that they can be silenced.
/// </summary>
public sealed class OutsiderJsonAnalyzerReviewTests
{
    private const string Prelude = """
        using System;
        using System.Collections.Generic;
        using System.Numerics;
        using System.Text.Json.Serialization;
        using System.Threading.Tasks;
        using Cached;
        using Cached.Serializers;
        namespace Demo;
        public struct Point { public int X; [JsonInclude] public int Y; }

        """;

    private static readonly ImmutableDictionary<string, string> s_aot = ImmutableDictionary<string, string>.Empty
        .Add("build_property.PublishAot", "true");

    /// <summary>Runs both generators and then the analyzer on the scenario; the analyzer's diagnostics and the spans marked <c>[|...|]</c>.</summary>
    private static (IReadOnlyList<Diagnostic> Diagnostics, IReadOnlyList<TextSpan> Marked) Analyze(string body, IReadOnlyDictionary<string, string>? properties = null)
    {
        var source = Prelude + body;
        var spans = new List<TextSpan>();
        for (var open = source.IndexOf("[|", StringComparison.Ordinal); open >= 0; open = source.IndexOf("[|", open, StringComparison.Ordinal))
        {
            var close = source.IndexOf("|]", open, StringComparison.Ordinal);
            source = source.Remove(close, 2).Remove(open, 2);
            spans.Add(new TextSpan(open, close - open - 2));
        }

        var compilation = GeneratorRunner.Compile(source);
        var redis = compilation.References.Where(static r => r.Display is { } path && Path.GetFileName(path) == "Cached.Redis.dll").ToList();
        compilation = compilation.RemoveReferences(redis);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator(), SystemTextJsonGenerator.Instance], parseOptions: new CSharpParseOptions(LanguageVersion.Latest));
        driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        Assert.That(generatorDiagnostics, Is.Empty, "the generators must accept the scenario");
        Assert.That(output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error), Is.Empty, () => "the scenario must compile: " + string.Join(Environment.NewLine, output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error)));
        var options = new AnalyzerOptions([], new BuildProperties(properties ?? s_aot));
        var diagnostics = output.WithAnalyzers([new JsonAotAnalyzer()], options).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        return (diagnostics, spans);
    }

    private static void ExpectOnly(string id, string body)
    {
        var (diagnostics, marked) = Analyze(body);
        Assert.That(diagnostics.OrderBy(static d => d.Location.SourceSpan.Start).Select(static d => (d.Id, d.Location.SourceSpan)), Is.EqualTo(marked.Select(span => (id, span))),
            () => string.Join(Environment.NewLine, diagnostics));
    }

    private static void ExpectNone(string body, IReadOnlyDictionary<string, string>? properties = null)
    {
        var (diagnostics, _) = Analyze(body, properties);
        Assert.That(diagnostics.Where(static d => !d.IsSuppressed), Is.Empty, () => string.Join(Environment.NewLine, diagnostics));
    }

    [Test]
    public void A_tuple_in_a_task_of_an_enumerable_is_reported_on_the_attribute()
    {
        ExpectOnly("CACHED032", """
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Task<IEnumerable<(int, string)>> Get();
                private Task<IEnumerable<(int, string)>> GetCore() => Task.FromResult<IEnumerable<(int, string)>>([]);
            }
            """);
    }

    [Test]
    public void A_nullable_tuple_and_a_one_item_value_tuple_are_reported()
    {
        ExpectOnly("CACHED032", """
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial ValueTask<(int, string)?> Maybe();
                private ValueTask<(int, string)?> MaybeCore() => ValueTask.FromResult<(int, string)?>(null);

                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial ValueTuple<int> One();
                private ValueTuple<int> OneCore() => ValueTuple.Create(1);
            }
            """);
    }

    [Test]
    public void A_field_deep_inside_generic_arguments_and_a_MultiCached_value_type_is_reported()
    {
        ExpectOnly("CACHED033", """
            public sealed record Holder(string Name, Point At);
            [JsonSerializable(typeof(Dictionary<string, List<Point[]>>))]
            [JsonSerializable(typeof(Holder))]
            internal partial class DeepContext : JsonSerializerContext;
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Task<Dictionary<string, List<Point[]>>> Deep();
                private Task<Dictionary<string, List<Point[]>>> DeepCore() => Task.FromResult(new Dictionary<string, List<Point[]>>());

                [[|MultiCached(KeysFrom = "ids", Serializer = typeof(JsonSerializer))|]]
                public partial Dictionary<string, Holder> Many(List<string> ids);
                private Dictionary<string, Holder> ManyCore(List<string> ids) => new();
            }
            """);
    }

    [Test]
    public void A_field_on_a_user_base_class_is_reported()
    {
        ExpectOnly("CACHED033", """
            public class Base { public int Inherited; }
            public sealed class Derived : Base { public string Name { get; set; } = ""; }
            [JsonSerializable(typeof(Derived))]
            internal partial class DerivedContext : JsonSerializerContext;
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Derived Get();
                private Derived GetCore() => new();
            }
            """);
    }

    [Test]
    public void A_field_marked_JsonIgnore_Never_without_JsonInclude_is_reported_as_json_skips_it()
    {
        // [JsonIgnore(Condition = Never)] does not make System.Text.Json write a field: without [JsonInclude] it is skipped.
        ExpectOnly("CACHED033", """
            public sealed class Counter { [JsonIgnore(Condition = JsonIgnoreCondition.Never)] public int Count; public string Name { get; set; } = ""; }
            [JsonSerializable(typeof(Counter))]
            internal partial class CounterContext : JsonSerializerContext;
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Counter Get();
                private Counter GetCore() => new();
            }
            """);
    }

    [Test]
    public void A_framework_struct_of_fields_such_as_Vector3_is_reported_as_it_is_stored_without_them()
    {
        // serializers.md: Vector3 "was stored as {}"; in a trimmed or NativeAOT application "the value is stored without
        // them, which CACHED033 reports at build time".
        ExpectOnly("CACHED033", """
            [JsonSerializable(typeof(Vector3))]
            internal partial class VectorContext : JsonSerializerContext;
            public partial class Shapes
            {
                [[|Cached(Serializer = typeof(JsonSerializer))|]]
                public partial Vector3 Get();
                private Vector3 GetCore() => Vector3.One;
            }
            """);
    }

    [Test]
    public void A_tuple_or_field_struct_behind_JsonIgnore_is_not_reported_as_json_never_writes_it()
    {
        ExpectNone("""
            public sealed class Report
            {
                public string Name { get; set; } = "";
                [JsonIgnore] public (int, int) Scratch { get; set; }
                [JsonIgnore] public Point Cursor { get; set; }
                [JsonIgnore] public (int, int) ScratchField;
            }
            [JsonSerializable(typeof(Report))]
            internal partial class ReportContext : JsonSerializerContext;
            public partial class Shapes
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Report Get();
                private Report GetCore() => new();
            }
            """);
    }

    [Test]
    public void Enums_static_and_const_fields_and_positional_record_structs_are_not_reported()
    {
        ExpectNone("""
            public enum Colour { Red, Green }
            public readonly record struct Size(int Width, int Height);
            public sealed class Settings { public const int Limit = 3; public static int Shared; public Colour Colour { get; set; } public Size Size { get; set; } }
            [JsonSerializable(typeof(Settings))]
            [JsonSerializable(typeof(Colour))]
            internal partial class SettingsContext : JsonSerializerContext;
            public partial class Shapes
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Settings Get();
                private Settings GetCore() => new();

                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Colour Colour();
                private Colour ColourCore() => Demo.Colour.Red;
            }
            """);
    }

    [Test]
    public void A_struct_of_fields_with_its_own_converter_is_not_reported_as_json_writes_it_through_the_converter()
    {
        // At run time the converter writes the struct (DroppedFields looks only at object metadata): nothing is skipped.
        ExpectNone("""
            [JsonConverter(typeof(PairConverter))]
            public struct Pair { public int Left; public int Right; }
            public sealed class PairConverter : JsonConverter<Pair>
            {
                public override Pair Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) => default;
                public override void Write(System.Text.Json.Utf8JsonWriter writer, Pair value, System.Text.Json.JsonSerializerOptions options) => writer.WriteStringValue("");
            }
            [JsonSerializable(typeof(Pair))]
            internal partial class PairContext : JsonSerializerContext;
            public partial class Shapes
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Pair Get();
                private Pair GetCore() => default;
            }
            """);
    }

    [TestCase("false")]
    [TestCase(null)]
    public void Nothing_is_reported_in_a_project_that_is_not_trimmed(string? publishAot)
    {
        var properties = publishAot is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["build_property.PublishAot"] = publishAot };
        ExpectNone("""
            public partial class Shapes
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial (int, string) Pair();
                private (int, string) PairCore() => (1, "a");

                [Cached(Serializer = typeof(JsonSerializer))]
                public partial Point At();
                private Point AtCore() => default;
            }
            """, properties);
    }

    [Test]
    public void Nothing_is_reported_where_the_project_opts_in_to_reflection()
    {
        ExpectNone("""
            public partial class Shapes
            {
                [Cached(Serializer = typeof(JsonSerializer))]
                public partial (int, string) Pair();
                private (int, string) PairCore() => (1, "a");
            }
            """, new Dictionary<string, string> { ["build_property.PublishAot"] = "true", ["build_property.JsonSerializerIsReflectionEnabledByDefault"] = "true" });
    }

    [Test]
    public void Pragma_warning_disable_silences_CACHED032_and_CACHED033_on_the_attribute()
    {
        const string Body = """
            public partial class Shapes
            {
            #pragma warning disable CACHED032
                [Cached(Serializer = typeof(JsonSerializer))]
            #pragma warning restore CACHED032
                public partial (int, string) Pair();
                private (int, string) PairCore() => (1, "a");

            #pragma warning disable CACHED033
                [Cached(Serializer = typeof(JsonSerializer))]
            #pragma warning restore CACHED033
                public partial Point At();
                private Point AtCore() => default;
            }
            [JsonSerializable(typeof(Point))]
            internal partial class PointContext : JsonSerializerContext;
            """;

        var (unsuppressed, _) = Analyze(Body.Replace("#pragma warning disable", "// pragma warning disable", StringComparison.Ordinal));
        Assert.That(unsuppressed.Select(static d => d.Id), Is.EquivalentTo(new[] { "CACHED032", "CACHED033" }), "reported without the pragmas");
        ExpectNone(Body);
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
