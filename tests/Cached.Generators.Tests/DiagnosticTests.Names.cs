using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Cached.Generators.Tests;

/// <summary>
/// From an outside review of names in a user's project: CACHED041 (global::Cached is not the library), CACHED028 beside
/// another generator's body or the user's own, CACHED003 for a type parameter with a generated code's name.
/// </summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED041 ----

    [Test]
    public void CACHED041_Cached_Core_referenced_with_an_extern_alias()
    {
        // Regression: every generated file failed with CS0400 ('Cached' could not be found in the global namespace).
        var compilation = GeneratorRunner.Compile("""
            extern alias CachedLib;
            using CachedLib::Cached;
            namespace Demo;
            public partial class Service
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(int id) => id;
            }
            """);
        var library = compilation.References.Single(static r => r.Display?.EndsWith("Cached.Core.dll", StringComparison.Ordinal) == true);
        var run = GeneratorRunner.Run(compilation.ReplaceReference(library, library.WithAliases(["CachedLib"])));

        var diagnostic = run.GeneratorDiagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo("CACHED041"));
        Assert.That(diagnostic.Location.SourceTree?.GetText().ToString(diagnostic.Location.SourceSpan), Is.EqualTo("Get"));
        Assert.That(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), Does.StartWith("'Service.Get' cannot be generated: the namespace Cached that the generated code names is not in the global namespace: Cached.Core is not referenced, or is referenced with an extern alias").And.Contain("Aliases=\"global,YourAlias\""));
        Assert.That(run.Sources.Keys, Has.None.EndsWith("Service.Cached.g.cs"), "no file that could only fail");
        Assert.That(run.CompilationProblems.Select(static d => d.Id), Has.None.StartsWith("CS04"));
    }

    [Test]
    public void CACHED041_is_not_reported_when_global_is_among_the_aliases()
    {
        var compilation = GeneratorRunner.Compile("""
            namespace Demo;
            public partial class Service
            {
                [Cached.Cached]
                public partial int Get(int id);
                private int GetCore(int id) => id;
            }
            """);
        var library = compilation.References.Single(static r => r.Display?.EndsWith("Cached.Core.dll", StringComparison.Ordinal) == true);
        var run = GeneratorRunner.Run(compilation.ReplaceReference(library, library.WithAliases(["global", "CachedLib"])));

        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
    }

    [Test]
    public void CACHED041_is_not_reported_for_Cached_types_the_name_does_not_reach()
    {
        // From the review of the first CACHED041: a generic Cached<T>, a file-local Cached, an internal Cached of a
        // reference and a namespace of the project's own under Cached leave global::Cached to the library.
        var reference = Microsoft.CodeAnalysis.CSharp.CSharpCompilation.Create(
                "Other",
                [Microsoft.CodeAnalysis.CSharp.CSharpSyntaxTree.ParseText("internal static class Cached { }")],
                GeneratorRunner.Compile().References,
                new Microsoft.CodeAnalysis.CSharp.CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary))
            .ToMetadataReference();
        var compilation = GeneratorRunner.Compile(
            """
            public static class Cached<T> { public static T? Value; }
            namespace Cached.App
            {
                public partial class Service
                {
                    [Cached]
                    public partial int Get(int id);
                    private int GetCore(int id) => id;
                }
            }
            """,
            "file static class Cached { }").AddReferences(reference);
        var run = GeneratorRunner.Run(compilation);

        Assert.That(run.GeneratorDiagnostics, Is.Empty);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(run.Sources.Keys, Has.Some.EndsWith("Service.Cached.g.cs"));
    }

    [Test]
    public void CACHED041_a_type_of_the_project_named_Cached_Runtime()
    {
        const string name = "Runtime";
        // Regression (outside check of hostile contexts): a class Cached.Runtime failed every generated file with
        // CS0426 ('CachedMethod<T>' does not exist in the type 'Cached.Runtime'), which the user's own code saw only as CS0437.
        var run = GeneratorRunner.Run(
            "namespace Cached { public static class " + name + " { } }",
            """
            namespace Demo;
            public partial class Service
            {
                [Cached.Cached(Serializer = typeof(Cached.Serializers.StringSerializer))]
                public partial string Get(int id);
                private string GetCore(int id) => "v" + id;
            }
            """);

        var diagnostic = run.GeneratorDiagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo("CACHED041"));
        Assert.That(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(
            $"'Service.Get' cannot be generated: the type 'Cached.{name}' (Source0.cs, line 1) hides the namespace Cached.{name} that the generated code names; rename the type or move it out of the namespace Cached"));
        Assert.That(run.Sources.Keys, Has.None.EndsWith("Service.Cached.g.cs"), "no file that could only fail");
        Assert.That(run.CompilationProblems.Select(static d => d.Id), Has.None.EqualTo("CS0426"));
    }

    // ---- CACHED028 beside other bodies ----

    [Test]
    public void CACHED028_a_method_that_also_has_a_body_of_its_own()
    {
        // Regression: CS0757 (multiple implementing declarations) inside the generated file, with no word of ours.
        var run = GeneratorRunner.Run(
            Prelude + """
            public partial class UserService
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(int id) => id;
            }
            """,
            """
            namespace Demo;
            public partial class UserService
            {
                public partial int Get(int id) => -id;
            }
            """);

        var diagnostic = run.GeneratorDiagnostics.Single();
        Assert.That(diagnostic.Id, Is.EqualTo("CACHED028"));
        Assert.That(diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("'UserService.Get' carries [Cached] and a body of its own (Source1.cs, line 4): each would write the method's body; keep one, and put the other on a method of its own"));
        Assert.That(run.Sources.Keys, Has.None.EndsWith("UserService.Cached.g.cs"));
    }

    [TestCase("[System.Text.RegularExpressions.GeneratedRegex(\"a+\")]", "System.Text.RegularExpressions.Regex", "[GeneratedRegex]")]
    [TestCase("[System.Runtime.InteropServices.LibraryImport(\"libc\")]", "int", "[LibraryImport]")]
    public void CACHED028_a_method_another_generator_writes(string attribute, string result, string named)
    {
        var message = Single($$"""
            public static partial class Native
            {
                [Cached]
                {{attribute}}
                public static partial {{result}} [|Make|]();
                private static {{result}} MakeCore() => default!;
            }
            """, "CACHED028");
        Assert.That(message, Is.EqualTo($"'Native.Make' carries [Cached] and {named}: each would write the method's body; keep one, and put the other on a method of its own"));
    }

    // ---- CACHED003 for a type parameter ----

    [Test]
    public void CACHED003_a_type_parameter_named_like_the_generated_codes_locals()
    {
        // Regression: CS0412 inside the generated file, where the local __key met the type parameter.
        var message = Single("""
            public partial class UserService
            {
                [Cached]
                public partial T Echo<T, [|__key|]>(T value);
                private T EchoCore<T, __key>(T value) => value;
            }
            """, "CACHED003");
        Assert.That(message, Is.EqualTo("Parameter '__key' of 'UserService.Echo' is a type parameter named with two leading underscores, which the generated code keeps for its own names (__key, __cached_Echo): rename it"));
    }

    [Test]
    public void CACHED042_a_MultiCached_parameter_that_is_not_part_of_the_keys()
    {
        // Regression (outside check of hostile contexts): ByRegion([1], Region.Us) answered the entry that
        // ByRegion([1], Region.Eu) stored, silently. A token and a [CacheKeyIgnore] parameter are not reported.
        var diagnostics = Expect("""
            public enum Region { Eu, Us }
            public partial class Prices
            {
                [MultiCached(KeysFrom = "ids")]
                public partial Task<Dictionary<int, string>> ByRegionAsync(List<int> ids, [|Region region|], [CacheKeyIgnore] string traceId, CancellationToken ct);
                private Task<Dictionary<int, string>> ByRegionAsyncCore(List<int> ids, Region region, string traceId, CancellationToken ct) => Task.FromResult(new Dictionary<int, string>());
            }
            """, DiagnosticSeverity.Warning, "CACHED042");

        Assert.That(diagnostics.Single().GetMessage(System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo("The keys of [MultiCached] 'Prices.ByRegionAsync' are written from 'ids' alone: calls that differ only in 'region' share entries; pass it to a KeyBuilder after the key ('string KeyOf(int key, Region region)'), or mark it [CacheKeyIgnore] if its value never changes the result"));
    }
}
