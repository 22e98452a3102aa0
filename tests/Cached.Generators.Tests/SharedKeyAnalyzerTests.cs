using System.Globalization;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED043 (<see cref="SharedKeyAnalyzer"/>): two [Cached] methods with one fixed Key and Namespace in one cache share
/// an entry, found in the parity sweep of aiocache's semantics (item 89: aiocache makes a cache per decorated function).
/// The analyzer runs on the compilation with the generated code, as a build runs it.
/// </summary>
public sealed class SharedKeyAnalyzerTests
{
    private const string Prelude = """
        using System.Collections.Generic;
        using Cached;
        using Cached.Serializers;
        namespace Demo;

        """;

    private static IReadOnlyList<Diagnostic> Analyze(params string[] sources)
    {
        var run = GeneratorRunner.Run(sources.Select(static s => Prelude + s).ToArray());
        Assert.That(UserScenario.Problems(run), Is.Empty, "the scenario builds");
        return run.Output.WithAnalyzers([new SharedKeyAnalyzer()])
            .GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult()
            .OrderBy(static d => d.Location.SourceTree?.FilePath, StringComparer.Ordinal).ThenBy(static d => d.Location.SourceSpan.Start)
            .ToList();
    }

    private static string Text(Diagnostic diagnostic)
        => diagnostic.Location.SourceTree!.GetText().ToString(diagnostic.Location.SourceSpan);

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
                [Cached(Ttl = 10, Key = "config")] public partial int Config();
                private int ConfigCore() => 1;
            }
            """);

        Assert.That(diagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED043", "CACHED043" }));
        Assert.That(diagnostics.Select(Text), Is.EqualTo(new[] { "\"config\"", "\"config\"" }), "at each Key argument");
        Assert.That(diagnostics.Select(static d => d.Location.Kind), Is.All.EqualTo(LocationKind.SourceFile), "where #pragma applies");
        Assert.That(diagnostics[0].GetMessage(CultureInfo.InvariantCulture), Is.EqualTo(
            "[Cached] 'A.Config' stores its entry under the fixed key 'config', as 'B.Config' does in the same cache: each answers the other's entry; give the keys texts of their own or a Namespace, or the method a cache of its own"));
        Assert.That(diagnostics[0].Severity, Is.EqualTo(DiagnosticSeverity.Warning));
    }

    [Test]
    public void One_Alias_is_one_cache_and_three_methods_are_each_told_of_the_other_two()
    {
        var diagnostics = Analyze("""
            public partial class Settings
            {
                [Cached(Alias = "main", Key = "k")] public partial int One();
                private int OneCore() => 1;
                [Cached(Alias = "main", Key = "k", Ttl = 5)] public partial int Two();
                private int TwoCore() => 2;
                [Cached(Alias = "main", Key = "k", Lease = 2)] public partial int Three();
                private int ThreeCore() => 3;
            }
            """);

        Assert.That(diagnostics.Select(static d => d.GetMessage(CultureInfo.InvariantCulture)), Is.EqualTo(new[]
        {
            "[Cached] 'Settings.One' stores its entry under the fixed key 'k', as 'Settings.Three', 'Settings.Two' does in the same cache: each answers the other's entry; give the keys texts of their own or a Namespace, or the method a cache of its own",
            "[Cached] 'Settings.Two' stores its entry under the fixed key 'k', as 'Settings.One', 'Settings.Three' does in the same cache: each answers the other's entry; give the keys texts of their own or a Namespace, or the method a cache of its own",
            "[Cached] 'Settings.Three' stores its entry under the fixed key 'k', as 'Settings.One', 'Settings.Two' does in the same cache: each answers the other's entry; give the keys texts of their own or a Namespace, or the method a cache of its own",
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
                [Cached(Key = "other")] public partial int OtherText();
                private int OtherTextCore() => 0;
                [Cached(Key = "same", Namespace = "n")] public partial int OtherNamespace();
                private int OtherNamespaceCore() => 0;
                [Cached(Key = "same", Namespace = "")] public partial int NoNamespace();
                private int NoNamespaceCore() => 0;
                [Cached(Key = "same", Alias = "main")] public partial int OtherAlias();
                private int OtherAliasCore() => 0;
                [Cached(Key = "same", Cache = typeof(SimpleMemoryCache))] public partial int OwnCache();
                private int OwnCacheCore() => 0;
                [Cached(Key = "same", Serializer = typeof(StringSerializer))] public partial string OwnSerializer();
                private string OwnSerializerCore() => "";
                [Cached(Key = "same:{id}")] public partial int Template(int id);
                private int TemplateCore(int id) => id;
                [Cached(Key = "same:{id}")] public partial int TemplateAgain(int id);
                private int TemplateAgainCore(int id) => id;
                [Cached] public partial int DefaultKey();
                private int DefaultKeyCore() => 0;
            }
            """);

        // Two templates alike share entries only for equal arguments, as two default keys never do: not judged.
        Assert.That(diagnostics, Is.Empty);
    }

    [Test]
    public void The_warning_is_silenced_by_a_pragma_around_the_Key_as_a_compiler_warning_is()
    {
        var diagnostics = Analyze("""
            public partial class Shared
            {
            #pragma warning disable CACHED043 // the same settings on purpose
                [Cached(Key = "settings")] public partial string Settings();
                [Cached(Key = "settings")] public partial string SettingsAgain();
            #pragma warning restore CACHED043
                private string SettingsCore() => "s";
                private string SettingsAgainCore() => "s";
            }
            """);

        // Reported without the pragma (the cases above); with it, the build sees nothing.
        Assert.That(diagnostics, Is.Empty);
    }
}
