using Cached.Generators.Tests.Infrastructure;
using Cached.Serializers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using JsonSerializer = Cached.Serializers.JsonSerializer;

namespace Cached.Generators.Tests;

/// <summary>
/// The generator registers the project's System.Text.Json contexts with Cached (a module initializer), so the default
/// JsonSerializer finds their metadata without reflection. It cannot write a context itself: System.Text.Json's
/// generator never sees another generator's output.
/// </summary>
public sealed class JsonContextRegistrationTests
{
    private const string Contexts = """
        using System.Collections.Generic;
        using System.Text.Json.Serialization;
        namespace Demo
        {
            public sealed record Forecast(string City, double Celsius);

            [JsonSerializable(typeof(Forecast))]
            internal partial class AppJsonContext : JsonSerializerContext
            {
            }

            public static partial class Outer
            {
                [JsonSerializable(typeof(List<Forecast>))]
                [JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
                public sealed partial class NestedContext : JsonSerializerContext
                {
                }
            }
        }

        [JsonSerializable(typeof(int))]
        partial class GlobalContext : JsonSerializerContext
        {
        }
        """;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    /// <summary>Runs Cached's generator and System.Text.Json's on the sources, as a build does.</summary>
    private static (Compilation Output, IReadOnlyDictionary<string, string> Cached, IReadOnlyList<Diagnostic> Diagnostics) Build(params string[] sources)
        => Build([new CachedGenerator().AsSourceGenerator(), SystemTextJsonGenerator.Instance], sources);

    private static (Compilation Output, IReadOnlyDictionary<string, string> Cached, IReadOnlyList<Diagnostic> Diagnostics) Build(ISourceGenerator[] generators, params string[] sources)
        => BuildAt(LanguageVersion.Latest, generators, sources);

    /// <summary>As <see cref="Build(ISourceGenerator[], string[])"/>, in a project whose <c>LangVersion</c> is <paramref name="version"/>.</summary>
    private static (Compilation Output, IReadOnlyDictionary<string, string> Cached, IReadOnlyList<Diagnostic> Diagnostics) BuildAt(LanguageVersion version, ISourceGenerator[] generators, params string[] sources)
    {
        var compilation = GeneratorRunner.Compile(version, sources);
        GeneratorDriver driver = CSharpGeneratorDriver.Create(generators, parseOptions: new CSharpParseOptions(version));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var cached = driver.GetRunResult().Results[0].GeneratedSources.ToDictionary(static s => s.HintName, static s => s.SourceText.ToString());
        return (output, cached, diagnostics.Concat(output.GetDiagnostics()).Where(static d => d.Severity >= DiagnosticSeverity.Warning).ToList());
    }

    [Test]
    public void Every_context_of_the_project_is_registered_when_the_module_loads()
    {
        var (_, cached, diagnostics) = Build(Contexts);

        Assert.That(diagnostics.Select(static d => d.ToString()), Is.Empty, "with System.Text.Json's generator, the registration compiles without a warning");
        Assert.That(cached.Keys, Is.EqualTo(new[] { "Cached.JsonContexts.g.cs" }));
        Snapshot.Verify(nameof(Every_context_of_the_project_is_registered_when_the_module_loads), cached["Cached.JsonContexts.g.cs"]);
    }

    [Test]
    public void Under_LangVersion_9_and_10_the_registration_builds_and_runs_as_the_module_loads([Values(LanguageVersion.CSharp9, LanguageVersion.CSharp10)] LanguageVersion version)
    {
        // A project with no cached method at all: before, the registration was a 'file' class (C# 11), and any
        // [JsonSerializable] context in a project that references Cached.Core failed its build (CS8936).
        var (output, cached, diagnostics) = BuildAt(version, [new CachedGenerator().AsSourceGenerator(), SystemTextJsonGenerator.Instance], Contexts);

        Assert.That(diagnostics.Select(static d => d.ToString()), Is.Empty, () => cached.GetValueOrDefault("Cached.JsonContexts.g.cs") ?? "(no registration)");
        using var image = new MemoryStream();
        Assert.That(output.Emit(image).Success, Is.True);
        var assembly = System.Reflection.Assembly.Load(image.ToArray());
        // The module initializer runs when the module is first used.
        System.Runtime.CompilerServices.RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
        Assert.That(JsonContexts.Shared.Contexts.Select(static c => c.GetType()).Where(t => t.Assembly == assembly).Select(static t => t.FullName), Is.EquivalentTo(new[] { "Demo.AppJsonContext", "Demo.Outer+NestedContext", "GlobalContext" }));
    }

    [Test]
    public void An_obsolete_or_experimental_context_is_left_out_and_the_project_builds()
    {
        // Regression (outside check of hostile contexts): the registration named such a context, so a project that
        // references Cached.Core and uses none of it failed its build under TreatWarningsAsErrors (CS0618), or at once
        // (CS0619 for [Obsolete(error: true)], the experimental id for [Experimental]).
        var (_, cached, diagnostics) = Build([new CachedGenerator().AsSourceGenerator(), SystemTextJsonGenerator.Instance], Contexts, """
            using System;
            using System.Diagnostics.CodeAnalysis;
            using System.Text.Json.Serialization;
            namespace Old
            {
                [Obsolete("old")]
                [JsonSerializable(typeof(int))]
                internal partial class ObsoleteContext : JsonSerializerContext { }

                [Obsolete("gone", true)]
                [JsonSerializable(typeof(long))]
                internal partial class GoneContext : JsonSerializerContext { }

                [Experimental("MYEXP01")]
                [JsonSerializable(typeof(string))]
                internal partial class ExperimentalContext : JsonSerializerContext { }

                [Obsolete("old")]
                internal static partial class OldHolder
                {
                    [JsonSerializable(typeof(double))]
                    internal partial class InsideContext : JsonSerializerContext { }
                }
            }
            """);

        Assert.That(diagnostics.Where(static d => d.Location.SourceTree?.FilePath.EndsWith("Cached.JsonContexts.g.cs", StringComparison.Ordinal) == true).Select(static d => d.ToString()), Is.Empty);
        Assert.That(cached["Cached.JsonContexts.g.cs"], Does.Not.Contain("Old."));
        Assert.That(Occurrences(cached["Cached.JsonContexts.g.cs"], "AppJsonContext.Default"), Is.EqualTo(1), "the others are still registered");
    }

    [Test]
    public void Under_LangVersion_8_no_registration_is_written()
    {
        // Module initializers need C# 9, and System.Text.Json's generator does too (SYSLIB1221): no context is completed.
        var (_, cached, _) = BuildAt(LanguageVersion.CSharp8, [new CachedGenerator().AsSourceGenerator()], Contexts);

        Assert.That(cached, Is.Empty);
    }

    [Test]
    public void A_context_declared_in_two_files_is_registered_once()
    {
        // Only Cached's generator: System.Text.Json's does not take [JsonSerializable] on two parts of one context.
        var (_, cached, _) = Build([new CachedGenerator().AsSourceGenerator()], Contexts, """
            using System.Text.Json.Serialization;
            namespace Demo;
            [JsonSerializable(typeof(string))]
            internal partial class AppJsonContext
            {
            }
            """);

        Assert.That(Occurrences(cached["Cached.JsonContexts.g.cs"], "AppJsonContext.Default"), Is.EqualTo(1));
    }

    [Test]
    public void Classes_that_System_Text_Json_does_not_complete_or_that_cannot_be_named_are_left_out()
    {
        var (_, cached, _) = Build("""
            using System.Text.Json.Serialization;
            namespace Demo;
            public sealed record Forecast(string City);
            public partial class Host
            {
                [JsonSerializable(typeof(Forecast))]
                private partial class PrivateContext : JsonSerializerContext { }
            }
            public class NotPartialHost
            {
                [JsonSerializable(typeof(Forecast))]
                public partial class InNonPartialType : JsonSerializerContext { }
            }
            public partial class Generic<T>
            {
                [JsonSerializable(typeof(Forecast))]
                public partial class InGenericType : JsonSerializerContext { }
            }
            [JsonSerializable(typeof(Forecast))]
            public partial class NotAContext { }
            """);

        Assert.That(cached, Is.Empty, "nothing to register: no file");
    }

    [Test]
    public void A_project_whose_global_type_Cached_hides_the_library_gets_no_registration_and_builds()
    {
        // Regression (outside review): a type named Cached in the global namespace hides global::Cached, and the
        // registration, written for any project with a context, failed the build with CS0117 in a project that uses no
        // Cached feature (Cached.Core came through a library).
        var (_, cached, diagnostics) = Build(Contexts, "public static class Cached { public static int Version => 1; }");

        Assert.That(cached, Is.Empty, "the registration could only fail");
        Assert.That(diagnostics.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void A_project_without_contexts_gets_no_registration()
    {
        var (_, cached, _) = Build("""
            using Cached;
            namespace Demo;
            public partial class Service
            {
                [Cached]
                public partial int Answer();
                private int AnswerCore() => 42;
            }
            """);

        Assert.That(cached.Keys, Is.EqualTo(new[] { "Demo.Service.Cached.g.cs" }));
    }

    [Test]
    public void An_edit_elsewhere_leaves_the_contexts_step_and_its_output_alone()
    {
        var compilation = GeneratorRunner.Compile(Contexts, "namespace Demo; public static class Helpers { public static int One() => 1; }");
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator()],
            parseOptions: s_parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);
        var helpers = compilation.SyntaxTrees.Single(static t => t.FilePath == "Source1.cs");
        var edited = compilation.ReplaceSyntaxTree(helpers, CSharpSyntaxTree.ParseText("namespace Demo; public static class Helpers { public static int Two() => 2; }", s_parseOptions, "Source1.cs"));

        var result = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var reasons = result.TrackedSteps[CachedGenerator.Steps.JsonContexts].SelectMany(static s => s.Outputs).Select(static o => o.Reason).ToList();
        Assert.That(reasons, Is.Not.Empty.And.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        var outputs = result.TrackedOutputSteps.SelectMany(static kv => kv.Value)
            .Where(static s => s.Inputs.Any(static i => i.Source.Name == CachedGenerator.Steps.JsonContexts))
            .SelectMany(static s => s.Outputs).Select(static o => o.Reason).ToList();
        Assert.That(outputs, Is.Not.Empty.And.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged), "the registration was written again");
    }

    [Test]
    public void In_a_real_build_the_scenario_context_is_registered_before_any_code_runs()
    {
        // This test project is built with Cached's generator and System.Text.Json's: Scenarios/JsonScenario.cs has a
        // context that nothing here registers by hand. The default serializer, refused reflection as under
        // NativeAOT, can only write a Reading with that context's metadata; it writes with its own options, not the
        // context's camelCase, so the stored JSON is what reflection would write.
        Assert.That(JsonContexts.Shared.Contexts, Does.Contain(Scenarios.ScenarioJsonContext.Default));
        using var cache = new SimpleMemoryCache { Serializer = new JsonSerializer(JsonContexts.Shared, reflectionAllowed: false) };

        cache.Set("reading", new Scenarios.Reading("Lisbon", 21.5));

        Assert.That(System.Text.Encoding.UTF8.GetString((byte[])cache.Raw("get", "reading")!), Is.EqualTo("""{"Station":"Lisbon","Celsius":21.5}"""));
        Assert.That(cache.Get<Scenarios.Reading>("reading"), Is.EqualTo(new Scenarios.Reading("Lisbon", 21.5)));
    }

    private static int Occurrences(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;
}
