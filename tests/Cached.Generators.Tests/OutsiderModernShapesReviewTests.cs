using System.Globalization;
using System.Reflection;
using Cached.Generators.Tests.Infrastructure;
using Cached.Generators.Tests.Scenarios;
using Diagnostic = Microsoft.CodeAnalysis.Diagnostic;
using DiagnosticSeverity = Microsoft.CodeAnalysis.DiagnosticSeverity;
using GeneratorRunResult = Cached.Generators.Tests.Infrastructure.GeneratorRunResult;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's review of modern C# method shapes (C# 12 to 14: extension blocks, params collections, <c>field</c>,
/// <c>allows ref struct</c>, attributes on lambdas and accessors, static virtual interface members...) and of the key
/// parts they bring. Three kinds of check: scenarios of Scenarios/ModernShapes.cs, compiled into this assembly by the
/// SDK's compiler; user files run through the generator in memory (<see cref="UserScenario"/>); and, for C# 14 syntax
/// the in-memory Roslyn cannot parse, a user file compiled by the SDK's own csc with the generator as analyzer.
/// </summary>
public sealed class OutsiderModernShapesReviewTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
        using System.Numerics;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using Cached;

        """;

    private ICache _cache = null!;

    [SetUp]
    public void FreshDefaultCache()
    {
        Caches.Reset();
        // Unconfigured, the default alias is one shared in-memory cache that Reset leaves as it is: the scenarios
        // here reuse keys ("user:1"), so each test starts from an empty one.
        _cache = Caches.Get();
        _cache.Clear();
    }

    [TearDown]
    public void ResetCaches()
    {
        _cache.Clear();
        Caches.Reset();
    }

    private static Assembly Build(params string[] sources) => UserScenario.Build(Usings, sources);

    private static GeneratorRunResult Generate(params string[] sources) => GeneratorRunner.Run(sources.Select(static s => Usings + s).ToArray());

    /// <summary>Errors the compiler finds inside generated files: generated code that does not build.</summary>
    private static string[] ErrorsInGeneratedCode(GeneratorRunResult run)
    {
        var userTrees = run.Input.SyntaxTrees.ToHashSet();
        return run.Output.GetDiagnostics()
            .Where(d => d.Severity == DiagnosticSeverity.Error && d.Location.SourceTree is { } tree && !userTrees.Contains(tree))
            .Select(static d => d.ToString())
            .ToArray();
    }

    /// <summary>The generator's diagnostics of one id whose span starts on the line holding <paramref name="marker"/>.</summary>
    private static Diagnostic[] GeneratorDiagnosticsOnLine(GeneratorRunResult run, string idPrefix, string marker)
    {
        var tree = run.Input.SyntaxTrees.Single(t => t.ToString().Contains(marker, StringComparison.Ordinal));
        var line = tree.GetText().Lines.GetLineFromPosition(tree.ToString().IndexOf(marker, StringComparison.Ordinal)).LineNumber;
        return run.GeneratorDiagnostics
            .Where(d => d.Id.StartsWith(idPrefix, StringComparison.Ordinal) && d.Location.SourceTree == tree && d.Location.GetLineSpan().StartLinePosition.Line == line)
            .ToArray();
    }

    // ------------------------------------------------------------------------------------------------------------
    // C# 14 extension blocks: the SDK compiler itself (the in-memory Roslyn predates them).
    // ------------------------------------------------------------------------------------------------------------

    [Test]
    public void A_Cached_member_of_a_CSharp_14_extension_block_is_reported_naming_its_class_and_no_unnamed_type()
    {
        var output = SdkCompiler.Compile(Usings + """
            namespace Demo;
            public static partial class IntExtensions
            {
                extension(int x)
                {
                    [Cached]
                    public partial int Twice();
                    private int TwiceCore() => x * 2;

                    [Cached]
                    public int Thrice() => x * 3;
                }
            }
            """);

        var cached = output.Where(static l => l.Contains(" CACHED", StringComparison.Ordinal)).ToArray();
        var shown = string.Join("\n", output);
        Assert.Multiple(() =>
        {
            Assert.That(output.Where(static l => l.Contains("AD0001", StringComparison.Ordinal) || l.Contains("CS8785", StringComparison.Ordinal)), Is.Empty, "no generator crash");
            Assert.That(output.Where(static l => l.Contains(".Cached.g.cs", StringComparison.Ordinal)), Is.Empty, "no error inside generated code");
            Assert.That(cached, Has.Length.EqualTo(2), () => "one CACHED error for each extension-block member:\n" + shown);
            // docs/diagnostics.md, CACHED001: "The message names what is not partial (`the method`, `type UserService`)".
            // An extension block has no name a user could make partial; the message must not send them to one.
            Assert.That(cached.Where(static l => !l.Contains("IntExtensions.Twice", StringComparison.Ordinal) && !l.Contains("IntExtensions.Thrice", StringComparison.Ordinal)), Is.Empty,
                () => "the method is named with its class:\n" + shown);
            Assert.That(cached.Where(static l => l.Contains("'.T", StringComparison.Ordinal) || l.Contains("type )", StringComparison.Ordinal) || l.Contains("type ,", StringComparison.Ordinal)), Is.Empty,
                () => "no unnamed type in the message:\n" + shown);
        });
    }

    [Test]
    public void A_Cached_getter_of_a_CSharp_13_partial_property_is_reported_by_Cached()
    {
        // Partial properties (C# 13) look like the partial methods Cached implements; [Cached] on the getter is allowed
        // by AttributeTargets.Method but no body is generated: the user hears only the compiler's CS9248.
        var source = Usings + """
            namespace Demo;
            public partial class Stock
            {
                public partial int Count { [Cached] get; }
                private int CountCore() => 1;
            }
            """;
        var output = SdkCompiler.Compile(source);

        Assert.That(output.Where(l => OnLine(l, source, "[Cached] get") && l.Contains(" CACHED", StringComparison.Ordinal)), Is.Not.Empty,
            () => "a CACHED diagnostic on the getter:\n" + string.Join("\n", output));
    }

    [Test]
    public void A_classic_Cached_extension_method_beside_CSharp_14_extension_blocks_is_cached()
    {
        ModernExtensions.Calls = new CallCounter();

        var first = 7.Quadrupled();
        var second = 7.Quadrupled();

        Assert.That((first, second), Is.EqualTo((28, 28)));
        Assert.That(ModernExtensions.Calls[nameof(ModernExtensions.Quadrupled)], Is.EqualTo(1));
        Assert.That(_cache.Get<int>("Cached.Generators.Tests.Scenarios.ModernExtensions.Quadrupled(7)"), Is.EqualTo(28));
    }

    [Test]
    public async Task A_generic_Cached_extension_method_that_calls_an_extension_block_member_keeps_one_entry_per_instantiation()
    {
        ModernExtensions.Calls = new CallCounter();

        var ints = await new[] { 1, 2, 1 }.CountAsync(1);
        var intsAgain = await new List<int> { 1, 2, 1 }.CountAsync(1);
        var longs = await new long[] { 1, 2, 1 }.CountAsync(1L);

        Assert.That((ints, intsAgain, longs), Is.EqualTo((2, 2, 2)));
        Assert.That(ModernExtensions.Calls["CountAsync<Int32>"], Is.EqualTo(1), "an array and a list of the same items share the entry");
        Assert.That(ModernExtensions.Calls["CountAsync<Int64>"], Is.EqualTo(1));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Other C# 13/14 shapes compiled into this assembly (Scenarios/ModernShapes.cs).
    // ------------------------------------------------------------------------------------------------------------

    [Test]
    public void A_params_IEnumerable_parameter_is_keyed_by_its_elements_spread_or_passed_and_invalidated_by_params()
    {
        var service = new ModernParams();

        var results = new[]
        {
            service.Sum(1, 2, 3), service.Sum([1, 2, 3]), service.Sum(new List<int> { 1, 2, 3 }), service.Sum(Enumerable.Range(1, 3)),
            service.Sum(3, 2, 1),
        };
        service.ForgetSum(1, 2, 3);
        var afterForget = service.Sum(1, 2, 3);

        Assert.That(results, Is.EqualTo(new[] { 6, 6, 6, 6, 6 }));
        Assert.That(afterForget, Is.EqualTo(6));
        Assert.That(service.Calls[nameof(ModernParams.Sum)], Is.EqualTo(3), "one call for [1,2,3], one for [3,2,1], one after the invalidation");
        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.ModernParams.Sum([3,2,1])"), Is.True);
    }

    [Test]
    public void A_params_List_of_strings_keeps_element_texts_that_read_alike_apart()
    {
        var service = new ModernParams();

        var two = service.Join("a,b", "c");
        var otherTwo = service.Join("a", "b,c");
        var again = service.Join(["a,b", "c"]);

        Assert.That((two, otherTwo, again), Is.EqualTo(("a,b+c", "a+b,c", "a,b+c")));
        Assert.That(service.Calls[nameof(ModernParams.Join)], Is.EqualTo(2));
    }

    [Test]
    public void A_MultiCached_params_collection_asks_only_the_missing_keys_and_a_params_invalidation_drops_them()
    {
        var service = new ModernParams();

        var first = service.Names(1, 2);
        var second = service.Names(2, 3);
        service.ForgetNames(1, 3);
        var third = service.Names(1, 2, 3);

        Assert.That(first.Keys, Is.EquivalentTo(new[] { 1, 2 }));
        Assert.That(second.Keys, Is.EquivalentTo(new[] { 2, 3 }));
        Assert.That(third, Is.EquivalentTo(new Dictionary<int, string> { [1] = "n1", [2] = "n2", [3] = "n3" }));
        Assert.Multiple(() =>
        {
            Assert.That(service.Calls["Names:1,2"], Is.EqualTo(1));
            Assert.That(service.Calls["Names:3"], Is.EqualTo(1), "2 was a hit");
            Assert.That(service.Calls["Names:1,3"], Is.EqualTo(1), "after the invalidation, 1 and 3 only");
        });
    }

    [Test]
    public async Task A_field_keyword_type_with_a_primary_constructor_and_a_token_first_method_caches_and_keys_as_documented()
    {
        var service = new ModernFieldService("eu") { Offset = 5 };

        var described = (service.Describe(1), service.Describe(1));
        var found = (await service.FindAsync(CancellationToken.None, 2, "x"), await service.FindAsync(default, 2, "x"));
        var missing = (await service.FindAsync(default, -1), await service.FindAsync(default, -1));

        Assert.That(described, Is.EqualTo(("eu:6", "eu:6")));
        Assert.That(found, Is.EqualTo(("x2", "x2")));
        Assert.That(missing, Is.EqualTo(((string?)null, (string?)null)), "a null Task<string?> result is cached like any other");
        Assert.That(service.Calls[nameof(ModernFieldService.Describe)], Is.EqualTo(1));
        Assert.That(service.Calls[nameof(ModernFieldService.FindAsync)], Is.EqualTo(2));
        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.ModernFieldService.FindAsync(2,\"x\")"), Is.True, "the token leaves the key wherever it stands");
        Assert.That(_cache.Exists("Cached.Generators.Tests.Scenarios.ModernFieldService.FindAsync(-1,null)"), Is.True);
    }

    [Test]
    public void A_static_virtual_interface_member_keeps_entries_of_its_own_for_each_implementing_type()
    {
        static string Label<T>(int id) where T : IModernCatalog<T> => T.Label(id);

        var labels = new[] { Label<ModernBooks>(1), Label<ModernFilms>(1), Label<ModernBooks>(1), Label<ModernFilms>(1) };

        Assert.That(labels, Is.EqualTo(new[] { "ModernBooks#1", "ModernFilms#1", "ModernBooks#1", "ModernFilms#1" }));
        Assert.That(IModernCatalog<ModernBooks>.Calls[nameof(ModernBooks)], Is.EqualTo(1));
        Assert.That(IModernCatalog<ModernFilms>.Calls[nameof(ModernFilms)], Is.EqualTo(1));
    }

    [Test]
    public void A_readonly_record_struct_method_reads_its_positional_members_on_a_miss_and_hits_after()
    {
        var point = new ModernPoint(2, 3);
        var before = ModernPoint.Calls[nameof(ModernPoint.Scaled)];

        var scaled = (point.Scaled(10), point.Scaled(10), point.Scaled(2));

        Assert.That(scaled, Is.EqualTo((50, 50, 10)));
        Assert.That(ModernPoint.Calls[nameof(ModernPoint.Scaled)] - before, Is.EqualTo(2));
        Assert.That(_cache.Get<int>("Cached.Generators.Tests.Scenarios.ModernPoint.Scaled(10)"), Is.EqualTo(50));
    }

    // ------------------------------------------------------------------------------------------------------------
    // Shapes whose generated code does not build, or that are silently left uncached.
    // ------------------------------------------------------------------------------------------------------------

    [TestCase("public partial T Get(int id);", "private T GetCore(int id) => default!;", TestName = "A_containing_type_parameter_that_allows_ref_struct_as_the_result_is_refused_with_a_diagnostic_not_an_error_in_generated_code")]
    [TestCase("public partial int Measure(T value);", "private int MeasureCore(T value) => 1;", TestName = "A_containing_type_parameter_that_allows_ref_struct_as_a_parameter_is_refused_with_a_diagnostic_not_an_error_in_generated_code")]
    public void A_containing_type_parameter_that_allows_ref_struct_is_refused_with_a_diagnostic(string method, string core)
    {
        // docs/diagnostics.md: misuse is reported "on the code at fault"; CACHED015 refuses a method's type parameter
        // that allows ref struct, CACHED003 a ref struct parameter, CACHED031 a ref struct result. A type's own such
        // parameter, used as the result or a parameter, must not become CS9244 inside the generated file.
        // (The SDK's compiler: C# 13's 'allows ref struct' is a preview feature to the in-memory Roslyn.)
        var source = Usings + $$"""
            namespace Demo;
            public partial class Box<T> where T : allows ref struct
            {
                [Cached] {{method}}
                {{core}}
            }
            """;
        var output = SdkCompiler.Compile(source);

        var shown = string.Join("\n", output);
        Assert.Multiple(() =>
        {
            Assert.That(output.Where(static l => l.Contains(".Cached.g.cs", StringComparison.Ordinal) && l.Contains(": error ", StringComparison.Ordinal)), Is.Empty,
                () => "no error inside generated code:\n" + shown);
            Assert.That(output.Where(l => OnLine(l, source, method) && l.Contains(" error CACHED", StringComparison.Ordinal)), Is.Not.Empty,
                () => "a CACHED error on the method:\n" + shown);
        });
    }

    [Test]
    public void A_containing_type_parameter_that_allows_ref_struct_but_is_no_key_part_or_result_still_caches()
    {
        var first = new ModernGauge<int>().Count(2);
        var second = new ModernGauge<int>().Count(2);
        var other = new ModernGauge<long>().Count(2);

        Assert.That((first, second, other), Is.EqualTo((4, 4, 4)));
        Assert.That((ModernGauge<int>.Calls, ModernGauge<long>.Calls), Is.EqualTo((1, 1)), "each closed type keeps entries of its own");
    }

    [Test]
    public void A_dynamic_parameter_builds_and_is_keyed_or_is_refused_with_a_diagnostic()
    {
        // C# forbids a dynamic call on a ref struct (CS9230): the generated __key.Argument(d) of a default key, and the
        // interpolated template of a Key, are such calls when the argument is dynamic.
        var run = Generate("""
            namespace Demo;
            public partial class Dyn
            {
                [Cached] public partial string Get(dynamic value);
                private string GetCore(dynamic value) => "v" + value;

                [Cached(Key = "k:{value}")] public partial string Templated(dynamic value);
                private string TemplatedCore(dynamic value) => "t" + value;

                [InvalidateCache(nameof(Get))] public partial void Forget(dynamic value);
                private void ForgetCore(dynamic value) { }
            }
            """);

        Assert.That(ErrorsInGeneratedCode(run), Is.Empty,
            () => "generated code that builds (or a CACHED diagnostic instead of a body):\n" + string.Join("\n", run.Sources.Values));
    }

    [Test]
    public void Cached_attributes_on_a_local_function_a_lambda_a_property_getter_and_an_operator_are_reported_not_ignored()
    {
        // AttributeTargets.Method lets [Cached] and [InvalidateCache] stand on accessors, local functions, lambdas
        // (C# 10) and operators. None of them gets a generated body; docs/decorators.md: "misuse is a compile error".
        // Left silent, each runs uncached, or invalidates nothing, with no word.
        var run = Generate("""
            namespace Demo;
            public partial class Counter
            {
                public int Calls;

                [Cached] public partial int Get(int id);
                private int GetCore(int id) => ++Calls;

                public int Current { [Cached] get => ++Calls; }

                public int Stored { get; [InvalidateCache(nameof(Get))] set; }

                [Cached] public static Counter operator +(Counter a, int b) => a;

                public int Twice()
                {
                    [Cached] int Local(int x) => ++Calls;
                    Func<int, int> lambda = [Cached] (int x) => ++Calls;
                    return Local(1) + lambda(1);
                }
            }
            """);

        Assert.That(run.Output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error), Is.Empty, "the shapes are valid C#: nothing else reports them");
        Assert.Multiple(() =>
        {
            foreach (var site in new[] { "[Cached] get", "[InvalidateCache(nameof(Get))] set", "operator +", "[Cached] int Local", "[Cached] (int x)" })
            {
                Assert.That(GeneratorDiagnosticsOnLine(run, "CACHED", site), Is.Not.Empty, () => "a CACHED diagnostic at: " + site);
            }
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Generic containing types: two closed types must not share entries.
    // ------------------------------------------------------------------------------------------------------------

    [Test]
    public void A_MultiCached_method_of_a_generic_type_keeps_each_closed_type_apart_or_is_refused()
    {
        // docs/decorators.md refuses a generic [MultiCached] method (CACHED015) because its keys are the key values
        // alone, "so GetMany<int>([1]) and GetMany<string>([1]) would read each other's entries". The same holds for
        // Repo<int> and Repo<long>, and no Namespace (a constant) can tell them apart.
        const string Source = """
            namespace Demo;
            public partial class Repo<T>
            {
                [MultiCached(KeysFrom = "ids")]
                public partial Dictionary<int, string> GetMany(int[] ids);
                private Dictionary<int, string> GetManyCore(int[] ids) => ids.ToDictionary(i => i, i => typeof(T).Name + ":" + i);
            }
            public static class Probe
            {
                public static string Run() => new Repo<int>().GetMany([1])[1] + "," + new Repo<long>().GetMany([1])[1];
            }
            """;
        var run = Generate(Source);
        // Decided: refused (its keys carry nothing per closed type).
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Does.Contain("CACHED015"));
    }

    [Test]
    public void A_fixed_or_template_key_of_a_generic_type_that_leaves_out_its_type_parameter_keeps_closed_types_apart_or_is_refused()
    {
        // docs/decorators.md, shapes: "nested and generic containing types (each closed type has its own keys)";
        // CACHED019 refuses the same gap for a method's type parameters.
        const string Source = """
            namespace Demo;
            public partial class Settings<T>
            {
                [Cached(Key = "settings")]
                public partial string All();
                private string AllCore() => typeof(T).Name;

                [Cached(Key = "setting:{id}")]
                public partial string One(int id);
                private string OneCore(int id) => typeof(T).Name + id;
            }
            public static class Probe
            {
                public static string Run() => string.Join(",", new Settings<int>().All(), new Settings<long>().All(), new Settings<int>().One(1), new Settings<long>().One(1));
            }
            """;
        var run = Generate(Source);
        var refused = run.GeneratorDiagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error && d.Id.StartsWith("CACHED", StringComparison.Ordinal)).ToArray();
        // Decided: refused, each key with CACHED019.
        Assert.That(refused.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED019", "CACHED019" }));
    }

    [Test]
    public void A_template_key_in_a_generic_type_that_names_its_type_parameter_keeps_closed_types_apart_and_invalidates_its_own()
    {
        var scenario = Build("""
            namespace Demo;
            public partial class Store<T>
            {
                public static int Calls;
                [Cached(Key = "store:{T}:{id}")]
                public partial string Get(int id);
                private string GetCore(int id) { Calls++; return typeof(T).Name + id; }

                [InvalidateCache(nameof(Get))]
                public partial void Forget(int id);
                private void ForgetCore(int id) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var a = new Store<int>().Get(1) + new Store<long>().Get(1) + new Store<int>().Get(1);
                    new Store<long>().Forget(1);
                    a += new Store<int>().Get(1) + new Store<long>().Get(1);
                    return a + "," + Store<int>.Calls + "," + Store<long>.Calls;
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("Int321Int641Int321Int321Int641,1,2"));
        Assert.That(_cache.Exists("store:System.Int32:1"), Is.True);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Key parts: templates, values held as object, cultures.
    // ------------------------------------------------------------------------------------------------------------

    [Test]
    public void A_template_key_naming_a_params_array_or_a_list_keeps_different_elements_apart_or_warns_CACHED012()
    {
        // An array's and a List<T>'s ToString is object's: the template writes "System.Int32[]" for every call.
        // docs/decorators.md: "A parameter whose type keeps object.ToString() would put only its type name in the key,
        // so different values would share one entry: that is warning CACHED012."
        const string Source = """
            namespace Demo;
            public partial class Totals
            {
                public int Calls;
                [Cached(Key = "sum:{values}")]
                public partial int Sum(params int[] values);
                private int SumCore(int[] values) { Calls++; return values.Sum(); }

                [Cached(Key = "count:{values}")]
                public partial int Count(List<string> values);
                private int CountCore(List<string> values) { Calls++; return values.Count; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var t = new Totals();
                    return string.Join(",", t.Sum(1, 2), t.Sum(5), t.Count(["a"]), t.Count(["a", "b"]));
                }
            }
            """;
        var run = Generate(Source);
        var warnings = run.GeneratorDiagnostics.Where(static d => d.Id == "CACHED012").ToArray();
        // Decided: no warning; a collection in a template hole is written by its elements.
        Assert.That(warnings, Is.Empty);

        Assert.That(UserScenario.Run(Build(Source)), Is.EqualTo("3,5,1,2"), "Sum(1, 2) and Sum(5) share the entry \"sum:System.Int32[]\"");
    }

    [Test]
    public void An_InvalidateTags_template_naming_a_params_array_drops_the_tags_of_its_elements_or_warns_CACHED012()
    {
        // docs/decorators.md, tags: "[InvalidateTags] builds tags from its own parameters", written "as Key templates
        // are". A params array's text is "System.Int32[]": Rename(1) would invalidate the tag "user:System.Int32[]",
        // never "user:1", and the entry stays stale.
        const string Source = """
            namespace Demo;
            public partial class Users
            {
                public int Calls;
                [Cached(Key = "user:{id}", Tags = new[] { "user:{id}" })]
                public partial string Get(int id);
                private string GetCore(int id) { Calls++; return "u" + id + "v" + Calls; }

                [InvalidateTags("user:{ids}")]
                public partial void Rename(params int[] ids);
                private void RenameCore(int[] ids) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var users = new Users();
                    var before = users.Get(1);
                    users.Rename(1);
                    return before + "," + users.Get(1);
                }
            }
            """;
        var run = Generate(Source);
        // Decided: no warning; a collection in a tag hole stands for each element.
        Assert.That(run.GeneratorDiagnostics.Where(static d => d.Id is "CACHED012" or "CACHED024"), Is.Empty);

        Assert.That(UserScenario.Run(Build(Source)), Is.EqualTo("u1v1,u1v2"), "after Rename(1) the entry tagged user:1 misses");
    }

    [Test]
    public void Two_Uri_arguments_whose_texts_hold_commas_keep_two_entries()
    {
        // docs/decorators.md: "other values their ToString() (run under the invariant culture) quoted", so that
        // "a,b" never looks like two arguments. A Uri, which is ISpanFormattable, is written bare, and a comma is
        // legal in its path.
        var scenario = Build("""
            namespace Demo;
            public partial class Fetcher
            {
                [Cached] public partial string Fetch(Uri primary, Uri fallback);
                private string FetchCore(Uri primary, Uri fallback) => primary + " | " + fallback;
            }
            public static class Probe
            {
                public static string Run()
                {
                    var f = new Fetcher();
                    return f.Fetch(new Uri("http://x/a,http://y/b"), new Uri("http://z/")) + " ; " + f.Fetch(new Uri("http://x/a"), new Uri("http://y/b,http://z/"));
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("http://x/a,http://y/b | http://z/ ; http://x/a | http://y/b,http://z/"));
    }

    [Test]
    public void A_list_of_one_Uri_with_a_comma_keeps_apart_from_a_list_of_two_Uris()
    {
        var scenario = Build("""
            namespace Demo;
            public partial class Fetcher
            {
                [Cached] public partial int Count(List<Uri> urls);
                private int CountCore(List<Uri> urls) => urls.Count;
            }
            public static class Probe
            {
                public static string Run()
                {
                    var f = new Fetcher();
                    return f.Count([new Uri("http://a/x,http://b/")]) + "," + f.Count([new Uri("http://a/x"), new Uri("http://b/")]);
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("1,2"));
    }

    [Test]
    public void An_object_parameter_keeps_members_of_two_enum_types_with_one_name_apart()
    {
        var scenario = Build("""
            namespace Demo;
            public enum Status { Active, Closed }
            public enum Role { Active, Admin }
            public partial class Finder
            {
                [Cached] public partial string Find(object filter);
                private string FindCore(object filter) => filter.GetType().Name + "." + filter;
            }
            public static class Probe
            {
                public static string Run() { var f = new Finder(); return f.Find(Status.Active) + "," + f.Find(Role.Active); }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("Status.Active,Role.Active"));
    }

    [Test]
    public void An_object_parameter_keeps_an_undefined_enum_value_apart_from_the_int_of_the_same_number()
    {
        var scenario = Build("""
            namespace Demo;
            public partial class Finder
            {
                [Cached] public partial string Find(object filter);
                private string FindCore(object filter) => filter.GetType().Name + "." + filter;
            }
            public static class Probe
            {
                public static string Run() { var f = new Finder(); return f.Find(8) + "," + f.Find((DayOfWeek)8); }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("Int32.8,DayOfWeek.8"));
    }

    [Test]
    public void An_object_parameter_keeps_a_BigInteger_apart_from_the_int_of_the_same_value()
    {
        // docs/decorators.md: "a number other than an int in a parameter declared object ... carries its type as a
        // C# literal does ... so M(1), M(1L) and M(1.0) are three entries".
        var scenario = Build("""
            namespace Demo;
            public partial class Finder
            {
                [Cached] public partial string Find(object filter);
                private string FindCore(object filter) => filter.GetType().Name + "." + filter;
            }
            public static class Probe
            {
                public static string Run() { var f = new Finder(); return f.Find(new BigInteger(5)) + "," + f.Find(5); }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("BigInteger.5,Int32.5"));
    }

    [Test]
    public void An_object_parameter_keeps_a_TimeSpan_apart_from_a_TimeOnly_of_the_same_ticks()
    {
        var scenario = Build("""
            namespace Demo;
            public partial class Finder
            {
                [Cached] public partial string Find(object filter);
                private string FindCore(object filter) => filter.GetType().Name;
            }
            public static class Probe
            {
                public static string Run()
                {
                    var f = new Finder();
                    var ticks = TimeSpan.FromTicks(10_000_001);
                    return f.Find(ticks) + "," + f.Find(TimeOnly.FromTimeSpan(ticks));
                }
            }
            """);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("TimeSpan,TimeOnly"));
    }

    [Test]
    public void Default_and_template_keys_of_negative_numbers_dates_and_wide_numbers_are_the_same_under_Swedish_Thai_and_Arabic_cultures()
    {
        // sv-SE writes a negative sign as U+2212, th-TH counts years in the Buddhist era, ar-SA uses the Hijri calendar.
        var scenario = Build("""
            namespace Demo;
            public sealed record Slot(DateOnly Day, double Temp, int Delta);
            public partial class Keys
            {
                [Cached(Key = "t:{day:yyyy-MM-dd}:{n}:{x:N2}:{date}")]
                public partial string Templated(DateTime day, int n, double x, DateOnly date);
                private string TemplatedCore(DateTime day, int n, double x, DateOnly date) => "";

                [Cached]
                public partial string Default(DateOnly day, int n, double x, Slot slot, BigInteger big, Complex complex, TimeSpan span, DateTime? at, (double, int) pair, List<double> list, Half half, Int128 wide);
                private string DefaultCore(DateOnly day, int n, double x, Slot slot, BigInteger big, Complex complex, TimeSpan span, DateTime? at, (double, int) pair, List<double> list, Half half, Int128 wide) => "";
            }
            public static class Probe
            {
                public static string Run()
                {
                    var k = new Keys();
                    var at = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);
                    var date = new DateOnly(2026, 1, 2);
                    k.Templated(at, -5, -1234.5, date);
                    k.Default(date, -5, -1.5, new Slot(date, -1.5, -3), new BigInteger(-7), new Complex(-1.5, 2), TimeSpan.FromHours(-1.5), at, (-1.5, -2), [-1.5], (Half)(-1.5), -9);
                    return "";
                }
            }
            """);

        var templated = "t:2026-01-02:-5:-1,234.50:01/02/2026";
        // A Complex, formattable but no number the key writes bare, is quoted like any other formattable struct.
        var byDefault = "Demo.Keys.Default(01/02/2026,-5,-1.5,(01/02/2026,-1.5,-3),-7,\"<-1.5; 2>\",-01:30:00,2026-01-02T03:04:05.0000000Z,(-1.5,-2),[-1.5],-1.5,-9)";
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "sv-SE", "th-TH", "ar-SA" })
            {
                _cache.Clear();
                RunUnder(new CultureInfo(name), scenario);
                Assert.That(_cache.Exists(templated), Is.True, () => name + ": " + templated);
                Assert.That(_cache.Exists(byDefault), Is.True, () => name + ": " + byDefault);
            }
        });
    }

    // ------------------------------------------------------------------------------------------------------------
    // Async and other result shapes.
    // ------------------------------------------------------------------------------------------------------------

    [Test]
    public void A_method_returning_a_ConfiguredTaskAwaitable_does_not_replay_a_faulted_result_or_is_refused()
    {
        // docs/decorators.md: "The body's exception propagates unchanged and nothing is stored." The awaitable is an
        // async result the generator takes for a plain value: a faulted one would be stored and replayed.
        const string Source = """
            namespace Demo;
            public partial class Loader
            {
                public int Calls;
                [Cached] public partial ConfiguredTaskAwaitable<int> Load(int id);
                private ConfiguredTaskAwaitable<int> LoadCore(int id)
                    => (++Calls == 1 ? Task.FromException<int>(new InvalidOperationException("boom")) : Task.FromResult(id)).ConfigureAwait(false);
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var loader = new Loader();
                    string first;
                    try { first = (await loader.Load(1)).ToString(); } catch (InvalidOperationException e) { first = e.Message; }
                    string second;
                    try { second = (await loader.Load(1)).ToString(); } catch (InvalidOperationException e) { second = e.Message; }
                    return first + "," + second + "," + loader.Calls;
                }
            }
            """;
        var run = Generate(Source);
        // Decided: refused, as an awaitable other than Task<T> and ValueTask<T>.
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Does.Contain("CACHED031"));
    }

    [TestCase("Method")]
    [TestCase("Prefix")]
    public void A_generic_method_whose_type_parameter_is_named_like_a_member_of_the_generated_state_class_builds(string name)
    {
        // The state of each instantiation lives in a nested class generic in the method's type parameters, with the
        // members Prefix and Method: a type parameter of either name makes CS0102 inside the generated file.
        var run = Generate($$"""
            namespace Demo;
            public partial class Shapes
            {
                [Cached] public partial {{name}} Echo<{{name}}>({{name}} value) where {{name}} : notnull;
                private {{name}} EchoCore<{{name}}>({{name}} value) where {{name}} : notnull => value;
            }
            """);

        Assert.That(UserScenario.Problems(run), Is.Empty, () => string.Join("\n", run.Sources.Values));
    }

    [Test]
    public void A_Cached_explicit_interface_implementation_is_not_told_to_add_a_Core_named_after_the_interface()
    {
        // C# refuses a partial explicit implementation (CS0754). The generator adds CACHED002 asking for
        // 'private int Demo.IStore.GetCore(int id)', which is no method a user (or the CACHED002 code fix) can write.
        var run = Generate("""
            namespace Demo;
            public interface IStore { int Get(int id); }
            public partial class Store : IStore
            {
                [Cached] partial int IStore.Get(int id);
                private int GetCore(int id) => id;
            }
            """);

        var messages = run.GeneratorDiagnostics.Select(static d => d.Id + ": " + d.GetMessage(CultureInfo.InvariantCulture)).ToArray();
        Assert.That(messages.Where(static m => m.Contains("IStore.GetCore", StringComparison.Ordinal)), Is.Empty, () => string.Join("\n", messages));
    }

    [TestCase("IAsyncEnumerable<int>", "private async IAsyncEnumerable<int> ImportCore(int id, string name) { yield return 0; await Task.Yield(); Store[id] = name; yield return id; }",
        "await foreach (var step in users.Import(1, \"new\")) { if (step == 0) during = users.Get(1); }", TestName = "An_InvalidateCache_async_stream_invalidates_after_its_body_ran_or_is_refused")]
    [TestCase("IEnumerable<int>", "private IEnumerable<int> ImportCore(int id, string name) { yield return 0; Store[id] = name; yield return id; }",
        "foreach (var step in users.Import(1, \"new\")) { if (step == 0) during = users.Get(1); }", TestName = "An_InvalidateCache_iterator_invalidates_after_its_body_ran_or_is_refused")]
    [TestCase("IAsyncEnumerable<int>", "private async IAsyncEnumerable<int> ImportCore(int id, string name) { yield return 0; await Task.Yield(); Store[id] = name; yield return id; }",
        "await foreach (var step in users.Import(1, \"new\")) { if (step == 0) during = users.Get(1); }", "InvalidateTags(\"user:{id}\")",
        TestName = "An_InvalidateTags_async_stream_invalidates_after_its_body_ran_or_is_refused")]
    public void An_InvalidateCache_lazy_sequence_invalidates_after_its_body_ran_or_is_refused(string result, string core, string consume, string invalidation = "InvalidateCache(nameof(Get))")
    {
        // docs/decorators.md: "After the body returns (awaited for Task/ValueTask methods), the entries of the named
        // [Cached] methods are deleted." An iterator's body runs when it is enumerated, after the generated method has
        // already deleted the entry: a read while the import runs (here between its two steps, before its write)
        // stores the old value, and no invalidation follows the write.
        var source = $$"""
            namespace Demo;
            public partial class Users
            {
                public Dictionary<int, string> Store = new() { [1] = "old" };

                [Cached(Key = "user:{id}", Tags = new[] { "user:{id}" })]
                public partial string Get(int id);
                private string GetCore(int id) => Store[id];

                [{{invalidation}}]
                public partial {{result}} Import(int id, string name);
                {{core}}
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var users = new Users();
                    var before = users.Get(1);
                    var during = "";
                    await Task.Yield();
                    {{consume}}
                    return before + "," + during + "," + users.Get(1);
                }
            }
            """;
        var run = Generate(source);
        // Decided: refused; its body would run on enumeration, after the invalidation.
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Does.Contain("CACHED034"));
    }

    [Test]
    public void A_Core_inherited_from_a_base_class_is_called_not_reported_missing()
    {
        // docs/decorators.md: the body that runs on a miss is "the same signature, named <Name>Core"; nothing asks it
        // to be declared in the same class. The generated call GetCore(id) compiles against a protected base member,
        // but CACHED002 asks to "add 'private int GetCore(int id)'", which would hide it (CS0108).
        var run = Generate("""
            namespace Demo;
            public abstract class RepositoryBase
            {
                protected int GetCore(int id) => id * 10;
            }
            public partial class Repository : RepositoryBase
            {
                [Cached] public partial int Get(int id);
            }
            """);

        Assert.That(UserScenario.Problems(run), Is.Empty);
    }

    [Test]
    public void A_key_template_naming_a_primary_constructor_parameter_is_CACHED005()
    {
        var run = Generate("""
            namespace Demo;
            public partial class RegionRepo(string region)
            {
                [Cached(Key = "r:{region}:{id}")]
                public partial string Get(int id);
                private string GetCore(int id) => region + id;
            }
            """);

        var diagnostics = run.GeneratorDiagnostics.Where(static d => d.Id == "CACHED005").ToArray();
        Assert.That(diagnostics, Has.Length.EqualTo(1));
        Assert.That(diagnostics[0].GetMessage(CultureInfo.InvariantCulture), Does.Contain("'region'").And.Contain("parameters: id"));
    }

    /// <summary>True when a compiler output line is a diagnostic of Source.cs on the line of <paramref name="marker"/>.</summary>
    private static bool OnLine(string outputLine, string source, string marker)
    {
        var line = source[..source.IndexOf(marker, StringComparison.Ordinal)].Count(static c => c == '\n') + 1;
        return outputLine.StartsWith($"Source.cs({line},", StringComparison.Ordinal);
    }

    private static void RunUnder(CultureInfo culture, Assembly scenario)
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = culture;
        try
        {
            UserScenario.Run(scenario);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    /// <summary>
    /// Compiles a user file with the C# compiler of the SDK this test runs on (newer than the Roslyn the generator tests
    /// reference, so C# 14 syntax parses), the generator loaded as an analyzer, as a project build would. Hands back the
    /// compiler's output lines: diagnostics of the user's file and of generated files alike.
    /// </summary>
    private static class SdkCompiler
    {
        public static string[] Compile(string source)
        {
            var work = Directory.CreateTempSubdirectory("cached-modern-shapes-");
            try
            {
                var file = Path.Combine(work.FullName, "Source.cs");
                File.WriteAllText(file, source);
                var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
                    .Append(typeof(ICache).Assembly.Location)
                    .Distinct();
                var arguments = new[]
                    {
                        "-nologo", "-langversion:preview", "-nullable:enable", "-target:library",
                        "-out:" + Path.Combine(work.FullName, "Scenario.dll"),
                        "-analyzer:" + typeof(CachedGenerator).Assembly.Location,
                    }
                    .Concat(references.Select(static r => "-reference:" + r))
                    .Append(file)
                    .Select(static a => "\"" + a + "\"");
                var rsp = Path.Combine(work.FullName, "csc.rsp");
                File.WriteAllLines(rsp, arguments);
                var (dotnet, csc) = Locate();
                var (_, output) = ProcessRunner.Run(work.FullName, dotnet, [csc, "-noconfig", "@" + rsp]);
                return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            }
            finally
            {
                work.Delete(recursive: true);
            }
        }

        /// <summary>dotnet, and the csc.dll of its newest SDK: the runtime this test runs on lives in dotnet/shared/Microsoft.NETCore.App/x.</summary>
        private static (string Dotnet, string Csc) Locate()
        {
            var root = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
            var dotnet = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
            var csc = Directory.GetDirectories(Path.Combine(root, "sdk"))
                .Select(static dir => (Dir: dir, Version: Version.TryParse(Path.GetFileName(dir).Split('-')[0], out var v) ? v : null))
                .Where(static sdk => sdk.Version is not null && File.Exists(Path.Combine(sdk.Dir, "Roslyn", "bincore", "csc.dll")))
                .OrderByDescending(static sdk => sdk.Version)
                .Select(static sdk => Path.Combine(sdk.Dir, "Roslyn", "bincore", "csc.dll"))
                .FirstOrDefault();
            if (csc is null || !File.Exists(dotnet))
            {
                // The tests run under the SDK's own 'dotnet test', so its compiler is always there: its absence is a
                // fault of the machine, reported as a failure rather than a test left unjudged.
                Assert.Fail("no .NET SDK compiler found beside the runtime at " + root);
            }

            return (dotnet, csc!);
        }
    }
}
