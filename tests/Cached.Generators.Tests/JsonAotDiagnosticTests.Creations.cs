using System.Collections.Immutable;
using System.Globalization;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED036: a Cache, Serializer or plugin type an attribute names for the generated code to create, whose constructor
/// (or type) is marked [RequiresUnreferencedCode] or [RequiresDynamicCode], is reported at that argument in a trimmed
/// or NativeAOT project, and the generated creation suppresses the trimming warning it would otherwise carry into a
/// generated file.
/// </summary>
public sealed partial class JsonAotDiagnosticTests
{
    private const string Plugins = """
        public sealed class DynamicPlugin : Cached.Plugins.CachePlugin
        {
            [System.Diagnostics.CodeAnalysis.RequiresDynamicCode("Emits code.")]
            public DynamicPlugin() { }
        }
        [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode("Reflects.")]
        public sealed class ReflectingPlugin : Cached.Plugins.CachePlugin { }

        """;

    private const string WithDynamicPlugin = Plugins + """
        public partial class Prices
        {
            [Cached(Ttl = 10, [|Plugins = new[] { typeof(DynamicPlugin) }|])]
            public partial int Get(int id);
            private int GetCore(int id) => id;
        }
        """;

    [Test]
    public void A_plugin_whose_constructor_needs_dynamic_code_is_reported_at_the_Plugins_argument()
    {
        var diagnostic = OnlyOne("CACHED036", WithDynamicPlugin);

        Assert.That(diagnostic.GetMessage(CultureInfo.InvariantCulture), Does.Contain("'Prices.Get' names the plugin 'DynamicPlugin', whose constructor is marked [RequiresDynamicCode]"));
    }

    [Test]
    public void A_type_marked_RequiresUnreferencedCode_among_plain_plugins_is_reported_once()
        => OnlyOne("CACHED036", Plugins + """
            public partial class Prices
            {
                [MultiCached(KeysFrom = "ids", [|Plugins = new[] { typeof(global::Cached.Plugins.HitMissRatioPlugin), typeof(ReflectingPlugin) }|])]
                public partial Dictionary<int, int> GetMany(IReadOnlyList<int> ids);
                private Dictionary<int, int> GetManyCore(IReadOnlyList<int> ids) => new();
            }
            """);

    [Test]
    public void Nothing_is_reported_in_a_project_that_is_not_trimmed_or_for_plain_types()
    {
        None(WithDynamicPlugin, properties: new Dictionary<string, string>());
        None(Plugins + """
            public partial class Prices
            {
                [Cached(Ttl = 10, Plugins = new[] { typeof(Cached.Plugins.TimingPlugin) }, Serializer = typeof(StringSerializer))]
                public partial int Get(int id);
                private int GetCore(int id) => id;
            }
            """);
    }

    [Test]
    public void With_JSON_by_reflection_allowed_the_creation_is_still_reported()
    {
        var (diagnostics, _) = Analyze(WithDynamicPlugin, ImmutableDictionary<string, string>.Empty.Add("build_property.PublishAot", "true").Add("build_property." + JsonAotAnalyzer.ReflectionProperty, "true"));

        Assert.That(diagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED036" }));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void In_a_trimmed_project_the_generated_creation_is_a_method_that_suppresses_the_trimming_warnings_and_elsewhere_a_lambda(bool trimmed)
    {
        // A method GetCreate beside Get: the creation's name must not collide with its field (__cached_GetCreate).
        var compilation = GeneratorRunner.Compile(Prelude + WithDynamicPlugin.Replace("[|", "").Replace("|]", "") + """

            public partial class Prices
            {
                [Cached(Ttl = 10, Plugins = new[] { typeof(DynamicPlugin) })]
                public partial int GetCreate(int id);
                private int GetCreateCore(int id) => id;
            }

            public partial class Plain
            {
                [Cached(Ttl = 10, Plugins = new[] { typeof(global::Cached.Plugins.TimingPlugin) })]
                public partial int Get(int id);
                private int GetCore(int id) => id;
            }
            """);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator()],
            parseOptions: new CSharpParseOptions(LanguageVersion.Latest),
            optionsProvider: new BuildProperties(trimmed ? s_aot : ImmutableDictionary<string, string>.Empty));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        // The writer wraps long lines: compared with each run of white space as one space.
        var generated = System.Text.RegularExpressions.Regex.Replace(
            string.Join("\n", driver.GetRunResult().Results.SelectMany(static r => r.GeneratedSources).Select(static s => s.SourceText.ToString())), @"\s+", " ");
        const string Creation = "private static global::Cached.ICache __cached_Get__Create() => new global::Cached.SimpleMemoryCache { Plugins = new global::Cached.Plugins.ICachePlugin[] { new global::Demo.DynamicPlugin() } };";
        const string Lambda = "CacheFactory = static () => new global::Cached.SimpleMemoryCache { Plugins = new global::Cached.Plugins.ICachePlugin[] { new global::Demo.DynamicPlugin() } }";

        Assert.Multiple(() =>
        {
            Assert.That(output.GetDiagnostics().Where(static d => d.Severity >= DiagnosticSeverity.Warning), Is.Empty);
            Assert.That(generated, Does.Contain("CacheFactory = static () => new global::Cached.SimpleMemoryCache { Plugins = new global::Cached.Plugins.ICachePlugin[] { new global::Cached.Plugins.TimingPlugin() } }"), "a plain creation stays a lambda");
            if (trimmed)
            {
                Assert.That(generated, Does.Contain("UnconditionalSuppressMessage(\"Trimming\", \"IL2026\", Justification = \"CACHED036\")"));
                Assert.That(generated, Does.Contain("UnconditionalSuppressMessage(\"AOT\", \"IL3050\", Justification = \"CACHED036\")"));
                Assert.That(generated, Does.Contain(Creation));
                Assert.That(generated, Does.Contain("CacheFactory = __cached_Get__Create });"));
                Assert.That(generated, Does.Contain("CacheFactory = __cached_GetCreate__Create });"));
            }
            else
            {
                // Nothing suppressed: a library that does not trim carries the warning to the application that does.
                Assert.That(generated, Does.Not.Contain("UnconditionalSuppressMessage"));
                Assert.That(generated, Does.Contain(Lambda));
            }
        });
    }
}
