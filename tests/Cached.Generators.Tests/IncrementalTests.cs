using System.Collections;
using System.Reflection;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using GeneratorRunner = Cached.Generators.Tests.Infrastructure.GeneratorRunner;

namespace Cached.Generators.Tests;

/// <summary>
/// The pipeline is incremental: an edit that does not touch an attributed method leaves every tracked step Cached or
/// Unchanged and the emitter is not run again; the steps' values hold no Roslyn symbols, syntax or compilations.
/// </summary>
public sealed class IncrementalTests
{
    private static readonly string[] s_trackedSteps =
    [
        CachedGenerator.Steps.Cached,
        CachedGenerator.Steps.MultiCached,
        CachedGenerator.Steps.Invalidate,
        CachedGenerator.Steps.InvalidateTags,
        CachedGenerator.Steps.Types,
    ];

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest);

    // Every kind of method, plus one with a warning and one with an error so that diagnostics flow through the steps too.
    private const string Services = """
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;
        namespace Demo;
        public sealed record User(int Id, string Name);
        public sealed class Filter { public int Page { get; set; } }
        public partial class UserService
        {
            [Cached(Ttl = 10, Key = "user:{id}")]
            public partial Task<User> GetUser(int id, CancellationToken ct = default);
            private Task<User> GetUserCore(int id, CancellationToken ct) => Task.FromResult(new User(id, "name"));

            [MultiCached(KeysFrom = "ids", Ttl = 5, Tags = new[] { "user:{ids}", "users" })]
            public partial Task<Dictionary<int, User>> GetUsers(List<int> ids);
            private Task<Dictionary<int, User>> GetUsersCore(List<int> ids) => Task.FromResult(new Dictionary<int, User>());

            [InvalidateCache(nameof(GetUser))]
            public partial Task Rename(int id, string name);
            private Task RenameCore(int id, string name) => Task.CompletedTask;

            [InvalidateTags("user:{id}")]
            public partial void Forget(int id);
            private void ForgetCore(int id) { }
        }
        public partial class SearchService
        {
            [Cached]
            public partial string Search(Filter filter);
            private string SearchCore(Filter filter) => "x" + filter.Page;

            [Cached]
            public partial string Broken(int id);
        }
        """;

    private const string Unrelated = """
        namespace Demo;
        public static class Helpers
        {
            public static int One() => 1;
        }
        """;

    private static SyntaxTree Parse(string text, string path) => CSharpSyntaxTree.ParseText(text, s_parseOptions, path);

    private static GeneratorDriver CreateDriver()
        => CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator()],
            parseOptions: s_parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    private static Compilation Initial() => GeneratorRunner.Compile(Services, Unrelated);

    private static GeneratorRunResult Result(GeneratorDriver driver) => driver.GetRunResult().Results.Single();

    private static IncrementalStepRunReason[] Reasons(GeneratorRunResult result, string step)
    {
        Assert.That(result.TrackedSteps.ContainsKey(step), Is.True, $"step {step} was not tracked; tracked: {string.Join(", ", result.TrackedSteps.Keys)}");
        return result.TrackedSteps[step].SelectMany(static s => s.Outputs).Select(static o => o.Reason).ToArray();
    }

    private static IncrementalStepRunReason[] OutputReasons(GeneratorRunResult result)
        => result.TrackedOutputSteps.SelectMany(static kv => kv.Value).SelectMany(static s => s.Outputs).Select(static o => o.Reason).ToArray();

    private static void AssertNothingRecomputed(GeneratorRunResult result)
    {
        foreach (var step in s_trackedSteps)
        {
            var reasons = Reasons(result, step);
            Assert.That(reasons, Is.Not.Empty, $"step {step} has no outputs");
            Assert.That(reasons, Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged), $"step {step}");
        }

        var outputs = OutputReasons(result);
        Assert.That(outputs, Is.Not.Empty, "no output step was tracked");
        Assert.That(outputs, Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged), "the source outputs ran again");
        Assert.That(EmitterReasons(result), Is.Not.Empty, "the emitter's output step was not tracked");
    }

    /// <summary>The reasons of the source output fed by the Types step (the emitter), not of the outputs that report diagnostics.</summary>
    private static IncrementalStepRunReason[] EmitterReasons(GeneratorRunResult result)
        => result.TrackedOutputSteps.SelectMany(static kv => kv.Value)
            .Where(static s => s.Inputs.Any(static i => i.Source.Name == CachedGenerator.Steps.Types))
            .SelectMany(static s => s.Outputs)
            .Select(static o => o.Reason)
            .ToArray();

    /// <summary>The reason of each per-type output of the Types step, by the file it becomes.</summary>
    private static Dictionary<string, IncrementalStepRunReason> TypeReasons(GeneratorRunResult result)
        => result.TrackedSteps[CachedGenerator.Steps.Types].SelectMany(static s => s.Outputs)
            .ToDictionary(static o => ((TypeSpec)o.Value).Type.FileName, static o => o.Reason);

    private static Dictionary<string, string> Generated(GeneratorDriver driver)
        => Result(driver).GeneratedSources.ToDictionary(static s => s.HintName, static s => s.SourceText.ToString());

    /// <summary>Runs the generator, then again after replacing <paramref name="from"/> with <paramref name="to"/> in the services.</summary>
    private static (Dictionary<string, string> Before, GeneratorDriver Driver) RunThenEditServices(string from, string to)
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        var before = Generated(driver);
        var services = compilation.SyntaxTrees.Single(static t => t.FilePath == "Source0.cs");

        var edited = Services.Replace(from, to, StringComparison.Ordinal);
        Assert.That(edited, Is.Not.EqualTo(Services), "the edit found nothing to replace");
        return (before, driver.RunGenerators(compilation.ReplaceSyntaxTree(services, Parse(edited, "Source0.cs"))));
    }

    [Test]
    public void The_first_run_generates_both_types_and_reports_the_expected_diagnostics()
    {
        var driver = CreateDriver().RunGenerators(Initial());
        var result = Result(driver);
        Assert.That(result.Exception, Is.Null);
        Assert.That(Generated(driver).Keys, Is.EquivalentTo(new[] { "Demo.UserService.Cached.g.cs", "Demo.SearchService.Cached.g.cs" }));
        Assert.That(result.Diagnostics.Select(static d => d.Id), Is.EquivalentTo(new[] { "CACHED012", "CACHED002" }));
        foreach (var step in s_trackedSteps)
        {
            Assert.That(Reasons(result, step), Is.All.EqualTo(IncrementalStepRunReason.New), step);
        }
    }

    [Test]
    public void Adding_an_unrelated_file_leaves_every_step_cached_or_unchanged()
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        var before = Generated(driver);

        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Parse("namespace Demo; public sealed class Added { public int Value { get; set; } }", "Added.cs")));

        AssertNothingRecomputed(Result(driver));
        Assert.That(Generated(driver), Is.EqualTo(before));
    }

    [Test]
    public void Replacing_an_unrelated_file_leaves_every_step_cached_or_unchanged()
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        var before = Generated(driver);
        var unrelated = compilation.SyntaxTrees.Single(static t => t.FilePath == "Source1.cs");

        var edited = compilation.ReplaceSyntaxTree(unrelated, Parse(Unrelated.Replace("=> 1;", "=> 2;\n    public static int Two() => 2;", StringComparison.Ordinal), "Source1.cs"));
        driver = driver.RunGenerators(edited);

        AssertNothingRecomputed(Result(driver));
        Assert.That(Generated(driver), Is.EqualTo(before));
    }

    [Test]
    public void Running_again_on_the_same_compilation_leaves_every_step_cached()
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        driver = driver.RunGenerators(compilation);
        AssertNothingRecomputed(Result(driver));
    }

    [Test]
    public void Editing_the_body_of_an_implementation_leaves_the_specs_and_the_emitter_unchanged()
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        var before = Generated(driver);
        var services = compilation.SyntaxTrees.Single(static t => t.FilePath == "Source0.cs");

        var edited = Services.Replace("new User(id, \"name\")", "new User(id, \"another name\")", StringComparison.Ordinal);
        Assert.That(edited, Is.Not.EqualTo(Services));
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(services, Parse(edited, "Source0.cs")));

        var result = Result(driver);
        Assert.That(Reasons(result, CachedGenerator.Steps.Types), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(Reasons(result, CachedGenerator.Steps.MultiCached), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(Reasons(result, CachedGenerator.Steps.Invalidate), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(EmitterReasons(result), Is.Not.Empty.And.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));

        // The parse results move with the text (their diagnostics' locations with them), but the specs do not.
        Assert.That(Reasons(result, CachedGenerator.Steps.Cached), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(Generated(driver), Is.EqualTo(before));
    }

    [Test]
    public void Adding_lines_above_the_methods_moves_their_diagnostics_but_leaves_the_specs_unchanged()
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        var before = Generated(driver);
        var services = compilation.SyntaxTrees.Single(static t => t.FilePath == "Source0.cs");

        var edited = Services.Replace("namespace Demo;", "namespace Demo;\n// a comment\n// and another", StringComparison.Ordinal);
        driver = driver.RunGenerators(compilation.ReplaceSyntaxTree(services, Parse(edited, "Source0.cs")));

        var result = Result(driver);
        Assert.That(Reasons(result, CachedGenerator.Steps.Types), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(EmitterReasons(result), Is.Not.Empty.And.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(Generated(driver), Is.EqualTo(before));
        Assert.That(result.Diagnostics.Select(static d => d.Location.GetLineSpan().StartLinePosition.Line), Is.EquivalentTo(
            Result(CreateDriver().RunGenerators(compilation)).Diagnostics.Select(static d => d.Location.GetLineSpan().StartLinePosition.Line + 2)),
            "the reported diagnostics follow the edit");
    }

    [Test]
    public void Changing_the_Ttl_of_an_attributed_method_modifies_its_spec_and_regenerates()
    {
        var (before, driver) = RunThenEditServices("[Cached(Ttl = 10, Key = \"user:{id}\")]", "[Cached(Ttl = 20, Key = \"user:{id}\")]");

        var result = Result(driver);
        Assert.That(TypeReasons(result), Is.EqualTo(new Dictionary<string, IncrementalStepRunReason>
        {
            ["Demo.SearchService.Cached.g.cs"] = IncrementalStepRunReason.Unchanged,
            ["Demo.UserService.Cached.g.cs"] = IncrementalStepRunReason.Modified,
        }));
        Assert.That(Reasons(result, CachedGenerator.Steps.Cached), Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(Reasons(result, CachedGenerator.Steps.MultiCached), Is.All.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));
        Assert.That(OutputReasons(result), Does.Contain(IncrementalStepRunReason.Modified));
        Assert.That(EmitterReasons(result), Does.Contain(IncrementalStepRunReason.Modified));

        var after = Generated(driver);
        Assert.That(after["Demo.UserService.Cached.g.cs"], Is.Not.EqualTo(before["Demo.UserService.Cached.g.cs"]));
        Assert.That(after["Demo.SearchService.Cached.g.cs"], Is.EqualTo(before["Demo.SearchService.Cached.g.cs"]));
    }

    [Test]
    public void Editing_a_cached_method_of_one_type_regenerates_that_type_and_leaves_the_other_alone()
    {
        var (before, driver) = RunThenEditServices("[Cached]\n    public partial string Search(", "[Cached(Ttl = 30)]\n    public partial string Search(");

        var result = Result(driver);
        var reasons = TypeReasons(result);
        Assert.That(reasons["Demo.SearchService.Cached.g.cs"], Is.EqualTo(IncrementalStepRunReason.Modified));
        Assert.That(reasons["Demo.UserService.Cached.g.cs"], Is.AnyOf(IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged));

        // The emitter ran for the edited type only: one output Modified, the other's kept.
        var emitted = EmitterReasons(result);
        Assert.That(emitted.Count(static r => r == IncrementalStepRunReason.Modified), Is.EqualTo(1));
        Assert.That(emitted.Count(static r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged), Is.EqualTo(1));

        var after = Generated(driver);
        Assert.That(after["Demo.SearchService.Cached.g.cs"], Does.Contain("new(\"Demo.SearchService.Search\", 30d)"));
        Assert.That(after["Demo.UserService.Cached.g.cs"], Is.EqualTo(before["Demo.UserService.Cached.g.cs"]));
    }

    [Test]
    public void Tagging_a_cached_method_regenerates_its_type_and_adds_it_to_the_caches_InvalidateTags_reaches()
    {
        var (before, driver) = RunThenEditServices("[Cached(Ttl = 10, Key = \"user:{id}\")]", "[Cached(Ttl = 10, Key = \"user:{id}\", Tags = new[] { \"user:{id}\" })]");

        var result = Result(driver);
        Assert.That(TypeReasons(result), Is.EqualTo(new Dictionary<string, IncrementalStepRunReason>
        {
            ["Demo.SearchService.Cached.g.cs"] = IncrementalStepRunReason.Unchanged,
            ["Demo.UserService.Cached.g.cs"] = IncrementalStepRunReason.Modified,
        }));
        // The [InvalidateTags] method's spec names the tagged methods of its type, so it changes with them.
        Assert.That(Reasons(result, CachedGenerator.Steps.InvalidateTags), Does.Contain(IncrementalStepRunReason.Modified));
        static string Unfilled(string code) => System.Text.RegularExpressions.Regex.Replace(code, @"\n\s*", " ");
        Assert.That(Unfilled(before["Demo.UserService.Cached.g.cs"]), Does.Contain("TagInvalidation.Invalidate(__CachedTags_Forget(id), __cached_GetUsers);"));
        Assert.That(Unfilled(Generated(driver)["Demo.UserService.Cached.g.cs"]), Does.Contain("TagInvalidation.Invalidate(__CachedTags_Forget(id), __cached_GetUser, __cached_GetUsers);"));
    }

    [Test]
    public void The_step_outputs_hold_no_symbols_syntax_compilations_or_locations()
    {
        var compilation = Initial();
        var driver = CreateDriver().RunGenerators(compilation);
        driver = driver.RunGenerators(compilation.AddSyntaxTrees(Parse(Unrelated.Replace("Helpers", "MoreHelpers", StringComparison.Ordinal), "More.cs")));

        foreach (var run in new[] { CreateDriver().RunGenerators(compilation), driver })
        {
            var result = Result(run);
            var walker = new GraphWalker();
            foreach (var step in s_trackedSteps)
            {
                var outputs = result.TrackedSteps[step].SelectMany(static s => s.Outputs).ToList();
                Assert.That(outputs, Is.Not.Empty, step);
                for (var i = 0; i < outputs.Count; i++)
                {
                    walker.Walk(outputs[i].Value, $"{step}[{i}]");
                }
            }

            Assert.That(walker.Problems, Is.Empty);
            // The walk did reach the specs. The diagnostics, with their locations, stay behind in the parse step.
            Assert.That(walker.Visited, Does.Contain(typeof(MethodSpec)).And.Contain(typeof(TemplateKeySpec)).And.Contain(typeof(DefaultKeySpec)).And.Contain(typeof(TypeSpec))
                .And.Contain(typeof(MultiSpec)).And.Contain(typeof(InvalidationSpec)).And.Contain(typeof(TagsSpec)).And.Contain(typeof(TagInvalidationSpec))
                .And.Contain(typeof(FixedKeySpec)));
        }
    }

    [Test]
    public void The_graph_walker_finds_a_symbol_nested_in_a_collection()
    {
        var compilation = Initial();
        var walker = new GraphWalker();
        walker.Walk(new List<object?> { "text", (1, new[] { compilation.GetTypeByMetadataName("Demo.User") }) }, "value");
        walker.Walk(Location.None, "location");
        Assert.That(walker.Problems, Has.Count.EqualTo(2));
    }

    /// <summary>Walks an object graph through fields and enumerables, noting every Roslyn object that would pin a compilation.</summary>
    private sealed class GraphWalker
    {
        private readonly HashSet<object> _seen = new(ReferenceEqualityComparer.Instance);

        public List<string> Problems { get; } = [];

        public HashSet<Type> Visited { get; } = [];

        public void Walk(object? value, string path, int depth = 0)
        {
            if (value is null || value is string || value is decimal || value is Type)
            {
                return;
            }

            var type = value.GetType();
            if (type.IsPrimitive || type.IsEnum || type.IsPointer)
            {
                return;
            }

            if (value is ISymbol or SyntaxNode or Compilation or SemanticModel or Location or SyntaxTree or AttributeData
                or SyntaxToken or SyntaxTrivia or SyntaxNodeOrToken or Diagnostic or TypedConstant)
            {
                Problems.Add($"{path}: {type.FullName}");
                return;
            }

            Assert.That(depth, Is.LessThan(64), "the object graph is too deep at " + path);
            if (!type.IsValueType && !_seen.Add(value))
            {
                return;
            }

            Visited.Add(type);
            if (value is IEnumerable items)
            {
                var index = 0;
                foreach (var item in items)
                {
                    Walk(item, $"{path}[{index++}]", depth + 1);
                }
            }

            for (var current = type; current is not null && current != typeof(object) && current != typeof(ValueType); current = current.BaseType)
            {
                foreach (var field in current.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                {
                    if (!field.FieldType.IsPointer)
                    {
                        Walk(field.GetValue(value), $"{path}.{field.Name}", depth + 1);
                    }
                }
            }
        }
    }
}
