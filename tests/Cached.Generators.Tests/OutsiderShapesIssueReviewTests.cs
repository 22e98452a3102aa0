using System.Reflection;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using GeneratorRunResult = Cached.Generators.Tests.Infrastructure.GeneratorRunResult;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's check of the shapes a past issue asked for (overloads, extension methods, sequence results, generic
/// methods, [InvalidateCache] of a [MultiCached] target) and of the diagnostics' configuration, as a user meets them:
/// each scenario is a user's source file, run through the generator, compiled with the generated code (every warning
/// counted), loaded, and run by its <c>Probe.Run()</c> / <c>Probe.RunAsync()</c> against the default cache. Each test
/// quotes the sentence of the docs it relies on.
/// </summary>
public sealed class OutsiderShapesIssueReviewTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Linq;
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
        _cache = Caches.Get();
        _cache.Clear();
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    // ---------------------------------------------------------------- helpers

    private static string[] Problems(GeneratorRunResult run) => UserScenario.Problems(run);

    /// <summary>Generates, compiles (no diagnostic, no warning) and loads the scenario.</summary>
    private static Assembly Build(params string[] sources) => UserScenario.Build(Usings, sources);

    /// <summary>Runs <c>Probe.Run()</c> of a built scenario.</summary>
    private static string Run(Assembly scenario) => UserScenario.Run(scenario);

    /// <summary>Runs <c>Probe.RunAsync()</c> of a built scenario.</summary>
    private static Task<string> RunAsync(Assembly scenario) => UserScenario.RunAsync(scenario);

    /// <summary>Runs the generator on one source (with the usings) under the compilation's default options.</summary>
    private static (GeneratorRunResult Run, string Source) Diagnose(string body)
    {
        var source = Usings + body;
        return (GeneratorRunner.Run(source), source);
    }

    /// <summary>
    /// The one diagnostic of <paramref name="id"/> lies in the user's file, inside the first occurrence of <paramref name="snippet"/> (the partial declaration).
    /// </summary>
    private static Diagnostic AssertOn(GeneratorRunResult run, string source, string id, string snippet)
    {
        var found = run.GeneratorDiagnostics.Where(d => d.Id == id).ToList();
        Assert.That(found, Has.Count.EqualTo(1), () => "diagnostics: " + string.Join("\n", run.GeneratorDiagnostics));
        var diagnostic = found[0];
        var start = source.IndexOf(snippet, StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0), "snippet not in the source");
        var expected = new TextSpan(start, snippet.Length);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(diagnostic.Location.Kind, Is.EqualTo(LocationKind.SourceFile), diagnostic.ToString());
            Assert.That(run.Input.SyntaxTrees, Does.Contain(diagnostic.Location.SourceTree), diagnostic + " should be in the user's own file");
            Assert.That(diagnostic.Location.SourceSpan.Length, Is.GreaterThan(0), diagnostic.ToString());
            Assert.That(expected.Contains(diagnostic.Location.SourceSpan), Is.True,
                $"{diagnostic} is on '{diagnostic.Location.SourceTree?.GetText().ToString(diagnostic.Location.SourceSpan)}', not inside '{snippet}'");
        }

        return diagnostic;
    }

    /// <summary>The diagnostics a user sees (one disabled by a pragma is still reported, marked suppressed).</summary>
    private static string[] Reported(GeneratorRunResult run)
        => run.GeneratorDiagnostics.Where(static d => !d.IsSuppressed).Select(static d => $"{d.Id} {d.Severity}").ToArray();

    /// <summary>An .editorconfig severity for one id in one file, as the compiler hands it to the generator.</summary>
    private sealed class FileSeverities(SyntaxTree file, string id, ReportDiagnostic severity) : SyntaxTreeOptionsProvider
    {
        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

        public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic value)
        {
            value = severity;
            return tree == file && diagnosticId == id;
        }

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic value)
        {
            value = ReportDiagnostic.Default;
            return false;
        }
    }

    // ================================================================ 1. overloads

    [Test]
    public void Overloads_of_int_long_string_double_nullable_int_object_and_a_params_array_keep_entries_of_their_own()
    {
        // docs/decorators.md, Overloads: "the default keys of that name carry the overload's parameter types in brackets,
        // so Price(int) and Price(long) never share an entry: Demo.Pricing.Price[int](1), Demo.Pricing.Price[long](1),
        // Demo.Pricing.Price[string,int?]("a",null). Types are written with C# keywords".
        var scenario = Build("""
            namespace Shapes;
            public static partial class P
            {
                public static List<string> Calls = new();
                [Cached] public static partial string Ov(int x);
                private static string OvCore(int x) { Calls.Add("int"); return "int"; }
                [Cached] public static partial string Ov(long x);
                private static string OvCore(long x) { Calls.Add("long"); return "long"; }
                [Cached] public static partial string Ov(string x);
                private static string OvCore(string x) { Calls.Add("string"); return "string"; }
                [Cached] public static partial string Ov(double x);
                private static string OvCore(double x) { Calls.Add("double"); return "double"; }
                [Cached] public static partial string Ov(int? x);
                private static string OvCore(int? x) { Calls.Add("int?"); return "int?"; }
                [Cached] public static partial string Ov(object x);
                private static string OvCore(object x) { Calls.Add("object"); return "object"; }
                [Cached] public static partial string Ov(params int[] x);
                private static string OvCore(params int[] x) { Calls.Add("params"); return "params"; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var results = new List<string>();
                    for (var i = 0; i < 2; i++)
                    {
                        results.Add(P.Ov(1)); results.Add(P.Ov(1L)); results.Add(P.Ov("1")); results.Add(P.Ov(1.0));
                        results.Add(P.Ov((int?)1)); results.Add(P.Ov((object)1)); results.Add(P.Ov(new[] { 1 }));
                    }
                    return string.Join(",", results) + "|" + string.Join(",", P.Calls);
                }
            }
            """);

        const string Each = "int,long,string,double,int?,object,params";
        Assert.That(Run(scenario), Is.EqualTo(Each + "," + Each + "|" + Each), "each overload runs its own body once, then hits its own entry");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_cache.Get<string>("Shapes.P.Ov[int](1)"), Is.EqualTo("int"));
            Assert.That(_cache.Get<string>("Shapes.P.Ov[long](1)"), Is.EqualTo("long"));
            Assert.That(_cache.Get<string>("Shapes.P.Ov[string](\"1\")"), Is.EqualTo("string"));
            Assert.That(_cache.Get<string>("Shapes.P.Ov[double](1)"), Is.EqualTo("double"));
            Assert.That(_cache.Get<string>("Shapes.P.Ov[int?](1)"), Is.EqualTo("int?"));
            Assert.That(_cache.Get<string>("Shapes.P.Ov[object](1)"), Is.EqualTo("object"));
            Assert.That(_cache.Get<string>("Shapes.P.Ov[int[]]([1])"), Is.EqualTo("params"));
        }
    }

    [Test]
    public void An_object_overload_keeps_1_1L_and_1D_apart()
    {
        // docs/decorators.md, Keys: "a number other than an int in a parameter declared object ... carries its type as a
        // C# literal does, 1L, 1D, 1M, (short)1, so M(1), M(1L) and M(1.0) are three entries".
        var scenario = Build("""
            namespace Shapes;
            public static partial class P
            {
                public static int Calls;
                [Cached] public static partial object Ov(object x);
                private static object OvCore(object x) { Calls++; return x; }
                [Cached] public static partial object Ov(string x);
                private static object OvCore(string x) { Calls++; return x; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var types = new[] { P.Ov((object)1), P.Ov((object)1L), P.Ov((object)1.0), P.Ov((object)1m), P.Ov((object)(short)1) }
                        .Select(o => o.GetType().Name);
                    return string.Join(",", types) + "|" + P.Calls;
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("Int32,Int64,Double,Decimal,Int16|5"));
        Assert.That(_cache.Exists("Shapes.P.Ov[object](1L)"), Is.True, "\"1L\" as a C# literal does, in the overload's marked key");
    }

    [Test]
    public void An_overload_with_an_optional_parameter_and_one_without_keep_apart()
    {
        // docs/decorators.md, Overloads: "every parameter counts, a CancellationToken and [CacheKeyIgnore] ones included,
        // because they are what tells overloads apart".
        var scenario = Build("""
            namespace Shapes;
            public static partial class P
            {
                public static List<string> Calls = new();
                [Cached] public static partial string Opt(int a);
                private static string OptCore(int a) { Calls.Add("one"); return "one"; }
                [Cached] public static partial string Opt(int a, int b = 0);
                private static string OptCore(int a, int b) { Calls.Add("two"); return "two"; }
                [Cached] public static partial string Tok(int a);
                private static string TokCore(int a) { Calls.Add("plain"); return "plain"; }
                [Cached] public static partial string Tok(int a, CancellationToken ct);
                private static string TokCore(int a, CancellationToken ct) { Calls.Add("token"); return "token"; }
                [Cached] public static partial string Ign(int a);
                private static string IgnCore(int a) { Calls.Add("bare"); return "bare"; }
                [Cached] public static partial string Ign(int a, [CacheKeyIgnore] string trace);
                private static string IgnCore(int a, string trace) { Calls.Add("ignored"); return "ignored"; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var r = new List<string>();
                    for (var i = 0; i < 2; i++)
                    {
                        r.Add(P.Opt(1)); r.Add(P.Opt(1, 0));
                        r.Add(P.Tok(1)); r.Add(P.Tok(1, CancellationToken.None));
                        r.Add(P.Ign(1)); r.Add(P.Ign(1, "t" + i));
                    }
                    return string.Join(",", r) + "|" + string.Join(",", P.Calls);
                }
            }
            """);

        const string Each = "one,two,plain,token,bare,ignored";
        Assert.That(Run(scenario), Is.EqualTo(Each + "," + Each + "|" + Each));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_cache.Exists("Shapes.P.Opt[int](1)"), Is.True);
            Assert.That(_cache.Exists("Shapes.P.Opt[int,int](1,0)"), Is.True);
            Assert.That(_cache.Exists("Shapes.P.Tok[int,System.Threading.CancellationToken](1)"), Is.True, "the token is in the mark, not in the arguments");
            Assert.That(_cache.Exists("Shapes.P.Ign[int,string](1)"), Is.True, "the ignored parameter is in the mark, not in the arguments");
        }
    }

    [Test]
    public void Overloads_whose_arguments_print_alike_keep_apart_by_their_declared_types()
    {
        // docs/decorators.md, Overloads: "Types are written with C# keywords and their namespaces (no global::, no ? on
        // reference types)", so sequences of several declared types and same-named types of two namespaces keep apart.
        var scenario = Build("""
            namespace A { public sealed record Id(int Value); }
            namespace B { public sealed record Id(int Value); }
            namespace Shapes
            {
                public static partial class P
                {
                    public static List<string> Calls = new();
                    [Cached] public static partial string Seq(int[] x);
                    private static string SeqCore(int[] x) { Calls.Add("array"); return "array"; }
                    [Cached] public static partial string Seq(List<int> x);
                    private static string SeqCore(List<int> x) { Calls.Add("list"); return "list"; }
                    [Cached] public static partial string Seq(IEnumerable<int> x);
                    private static string SeqCore(IEnumerable<int> x) { Calls.Add("enumerable"); return "enumerable"; }
                    [Cached] public static partial string Seq(A.Id x);
                    private static string SeqCore(A.Id x) { Calls.Add("A"); return "A"; }
                    [Cached] public static partial string Seq(B.Id x);
                    private static string SeqCore(B.Id x) { Calls.Add("B"); return "B"; }
                    [Cached] public static partial string Seq(string? x, int y);
                    private static string SeqCore(string? x, int y) { Calls.Add("nullable"); return "nullable"; }
                }
                public static class Probe
                {
                    public static string Run()
                    {
                        var r = new List<string>();
                        for (var i = 0; i < 2; i++)
                        {
                            r.Add(P.Seq(new[] { 1, 2 })); r.Add(P.Seq(new List<int> { 1, 2 })); r.Add(P.Seq(Enumerable.Range(1, 2)));
                            r.Add(P.Seq(new A.Id(1))); r.Add(P.Seq(new B.Id(1))); r.Add(P.Seq(null, 1));
                        }
                        return string.Join(",", r) + "|" + string.Join(",", P.Calls);
                    }
                }
            }
            """);

        const string Each = "array,list,enumerable,A,B,nullable";
        Assert.That(Run(scenario), Is.EqualTo(Each + "," + Each + "|" + Each));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_cache.Exists("Shapes.P.Seq[A.Id](1)") || _cache.Exists("Shapes.P.Seq[A.Id]((1))"), Is.True, "the namespace A in the mark");
            Assert.That(_cache.Exists("Shapes.P.Seq[string,int](null,1)"), Is.True, "no ? on a reference type");
        }
    }

    /// <summary>A service whose Ov(int) is cached, with <paramref name="more"/> members beside it.</summary>
    private static string OverloadFamily(string more) => $$"""
        namespace Shapes;
        public partial class P
        {
            [Cached] public partial string Ov(int x);
            private string OvCore(int x) => "int";
        {{more}}
        }
        public static class Probe { public static string Run() => new P().Ov(1); }
        """;

    [Test]
    public void Adding_overloads_beside_two_changes_no_existing_key_and_the_first_overload_changes_it_once_as_documented()
    {
        // docs/decorators.md, Overloads: "A name that is not overloaded keeps Namespace.Type.Method(args). The mark follows
        // the type's overloads, not which of them are cached, so caching a further overload, or adding or removing one
        // beside two others, leaves the keys as they are; giving a name its first overload (or removing its last) changes
        // that name's keys once".
        string KeyAfter(params string[] sources)
        {
            _cache.Clear();
            Run(Build(sources));
            foreach (var key in new[] { "Shapes.P.Ov(1)", "Shapes.P.Ov[int](1)" })
            {
                if (_cache.Exists(key))
                {
                    return key;
                }
            }

            return "(no known key)";
        }

        var alone = KeyAfter(OverloadFamily(""));
        var withLong = KeyAfter(OverloadFamily("""
                [Cached] public partial string Ov(long x);
                private string OvCore(long x) => "long";
            """));
        var withUncachedString = KeyAfter(OverloadFamily("""
                [Cached] public partial string Ov(long x);
                private string OvCore(long x) => "long";
                public string Ov(string x) => x;
            """));
        var withGeneric = KeyAfter(OverloadFamily("""
                [Cached] public partial string Ov(long x);
                private string OvCore(long x) => "long";
                [Cached] public partial string Ov<T>(T x, T y);
                private string OvCore<T>(T x, T y) => "generic";
            """));
        var withOtherPart = KeyAfter(OverloadFamily("""
                [Cached] public partial string Ov(long x);
                private string OvCore(long x) => "long";
            """), """
            namespace Shapes;
            public partial class P
            {
                public string Ov(decimal x) => "decimal";
            }
            """);
        var uncachedFirstOverloadInOtherPart = KeyAfter(OverloadFamily(""), """
            namespace Shapes;
            public partial class P
            {
                public string Ov(decimal x) => "decimal";
            }
            """);

        Assert.That(
            new[] { alone, withLong, withUncachedString, withGeneric, withOtherPart, uncachedFirstOverloadInOtherPart },
            Is.EqualTo(new[] { "Shapes.P.Ov(1)", "Shapes.P.Ov[int](1)", "Shapes.P.Ov[int](1)", "Shapes.P.Ov[int](1)", "Shapes.P.Ov[int](1)", "Shapes.P.Ov[int](1)" }));
    }

    [Test]
    public void A_generic_overload_an_overload_of_another_arity_and_a_plain_overload_keep_apart()
    {
        // docs/decorators.md, Overloads: "a generic overload's key also carries its type arguments, so overloads that
        // differ only in arity keep apart too".
        var scenario = Build("""
            namespace Shapes;
            public static partial class P
            {
                public static List<string> Calls = new();
                [Cached] public static partial string Ov(int x);
                private static string OvCore(int x) { Calls.Add("plain"); return "plain"; }
                [Cached] public static partial string Ov<T>(T x);
                private static string OvCore<T>(T x) { Calls.Add("one"); return "one"; }
                [Cached] public static partial string Ov<T, U>(T x);
                private static string OvCore<T, U>(T x) { Calls.Add("two"); return "two"; }
                [Cached] public static partial string Ar<T>();
                private static string ArCore<T>() { Calls.Add("ar1"); return "ar1"; }
                [Cached] public static partial string Ar<T, U>();
                private static string ArCore<T, U>() { Calls.Add("ar2"); return "ar2"; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var r = new List<string>();
                    for (var i = 0; i < 2; i++)
                    {
                        r.Add(P.Ov(1)); r.Add(P.Ov<int>(1)); r.Add(P.Ov<int, int>(1)); r.Add(P.Ar<int>()); r.Add(P.Ar<int, int>());
                    }
                    return string.Join(",", r) + "|" + string.Join(",", P.Calls);
                }
            }
            """);

        const string Each = "plain,one,two,ar1,ar2";
        Assert.That(Run(scenario), Is.EqualTo(Each + "," + Each + "|" + Each));
    }

    [Test]
    public void An_invalidation_naming_an_overloaded_method_drops_the_overload_its_parameters_build()
    {
        // docs/decorators.md, [InvalidateCache]: "the entries of the named [Cached] methods are deleted, their keys built
        // from this method's parameters of the same names and types (CACHED014 otherwise)". With Ov(int x) and
        // Ov(long x) named by nameof(Ov), a Forget(int x) has the parameters of Ov(int x) only.
        var scenario = Build("""
            namespace Shapes;
            public partial class P
            {
                public List<string> Calls = new();
                [Cached] public partial string Ov(int x);
                private string OvCore(int x) { Calls.Add("int"); return "int"; }
                [Cached] public partial string Ov(long x);
                private string OvCore(long x) { Calls.Add("long"); return "long"; }
                [InvalidateCache(nameof(Ov))] public partial void Forget(int x);
                private void ForgetCore(int x) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var p = new P();
                    p.Ov(1); p.Ov(1L);
                    p.Forget(1);
                    p.Ov(1); p.Ov(1L);
                    return string.Join(",", p.Calls);
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("int,long,int"));
    }

    [TestCase("in int x")]
    [TestCase("ref readonly int x")]
    [TestCase("ref int x")]
    public void An_overload_with_an_in_ref_readonly_or_ref_parameter_is_CACHED003_on_that_parameter(string parameter)
    {
        // docs/diagnostics.md, CACHED003: "A parameter is ref, out, in or ref readonly ... its value cannot be kept for
        // another call." and "reported ... on the code at fault: ... the parameter".
        var (run, source) = Diagnose($$"""
            namespace Shapes;
            public static partial class P
            {
                [Cached] public static partial string Ov(int x);
                private static string OvCore(int x) => "int";
                [Cached] public static partial string Ov(long y, {{parameter}});
                private static string OvCore(long y, {{parameter}}) => "in";
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Is.EqualTo(new[] { "CACHED003" }));
        AssertOn(run, source, "CACHED003", "Ov(long y, " + parameter + ");");
        var d = run.GeneratorDiagnostics.Single();
        Assert.That(source.Substring(d.Location.SourceSpan.Start, d.Location.SourceSpan.Length), Does.Contain("x"), "on the parameter x, not on y or the method");
    }

    [Test]
    public void An_uncached_overload_with_an_in_parameter_beside_a_cached_one_builds_and_marks_the_cached_key()
    {
        // docs/decorators.md, Overloads: "in any of its partial declarations, cached or not".
        var scenario = Build("""
            namespace Shapes;
            public partial class P
            {
                public int Calls;
                [Cached] public partial string Ov(int x);
                private string OvCore(int x) { Calls++; return "int"; }
                public string Ov(in long x) => "in long";
            }
            public static class Probe { public static string Run() { var p = new P(); return p.Ov(1) + p.Ov(1) + p.Calls; } }
            """);

        Assert.That(Run(scenario), Is.EqualTo("intint1"));
        Assert.That(_cache.Exists("Shapes.P.Ov[int](1)"), Is.True);
    }

    // ================================================================ 2. extension methods

    [Test]
    public void An_extension_method_in_a_static_class_is_cached_whether_called_as_extension_or_static()
    {
        // docs/decorators.md, Shapes: "extension methods (static partial int Twice(this int x) in a static partial class)
        // included".
        var scenario = Build("""
            namespace Ext;
            public static partial class Nums
            {
                public static int Calls;
                [Cached] public static partial int Twice(this int x);
                private static int TwiceCore(int x) { Calls++; return x * 2; }
            }
            public static class Probe
            {
                public static string Run() => $"{2.Twice()},{Nums.Twice(2)},{3.Twice()},{3.Twice()}|{Nums.Calls}";
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("4,4,6,6|2"));
        Assert.That(_cache.Get<int>("Ext.Nums.Twice(2)"), Is.EqualTo(4));
    }

    [Test]
    public void Overloaded_extension_methods_keep_entries_of_their_own()
    {
        // docs/decorators.md, Overloads: "Price(int) and Price(long) never share an entry".
        var scenario = Build("""
            namespace Ext;
            public static partial class Nums
            {
                public static List<string> Calls = new();
                [Cached] public static partial string Twice(this int x);
                private static string TwiceCore(int x) { Calls.Add("int"); return "int" + x * 2; }
                [Cached] public static partial string Twice(this long x);
                private static string TwiceCore(long x) { Calls.Add("long"); return "long" + x * 2; }
                [Cached] public static partial string Twice(this string x);
                private static string TwiceCore(string x) { Calls.Add("string"); return x + x; }
            }
            public static class Probe
            {
                public static string Run() => $"{1.Twice()},{1L.Twice()},{"1".Twice()},{1.Twice()},{1L.Twice()},{"1".Twice()}|{string.Join(",", Nums.Calls)}";
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("int2,long2,11,int2,long2,11|int,long,string"));
        Assert.That(_cache.Exists("Ext.Nums.Twice[long](1)"), Is.True);
    }

    [Test]
    public void A_generic_extension_method_keeps_one_entry_per_instantiation()
    {
        // docs/decorators.md, Generic methods: "Echo<int>(1) and Echo<string>("1") are two entries, under the default keys
        // Demo.Shapes.Echo<System.Int32>(1) and Demo.Shapes.Echo<System.String>("1")".
        var scenario = Build("""
            namespace Ext;
            public static partial class Gen
            {
                public static int Calls;
                [Cached] public static partial string Echo<T>(this T x) where T : notnull;
                private static string EchoCore<T>(T x) where T : notnull { Calls++; return typeof(T).Name + ":" + x; }
            }
            public static class Probe
            {
                public static string Run() => $"{1.Echo()},{"1".Echo()},{1L.Echo()},{1.Echo()},{"1".Echo()},{1L.Echo()}|{Gen.Calls}";
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("Int32:1,String:1,Int64:1,Int32:1,String:1,Int64:1|3"));
        Assert.That(_cache.Exists("Ext.Gen.Echo<System.Int32>(1)"), Is.True);
        Assert.That(_cache.Exists("Ext.Gen.Echo<System.String>(\"1\")"), Is.True);
    }

    [Test]
    public void An_extension_method_on_an_interface_is_cached_by_the_value_of_its_receiver()
    {
        // docs/decorators.md, Shapes: extension methods included; Keys: "other values their ToString() (run under the
        // invariant culture) quoted" (the argument is a record, whose ToString is value-based).
        var scenario = Build("""
            namespace Ext;
            public interface IShape { double Area { get; } }
            public sealed record Square(double Side) : IShape { public double Area => Side * Side; }
            public static partial class Geometry
            {
                public static int Calls;
                [Cached] public static partial double Describe(this IShape shape);
                private static double DescribeCore(IShape shape) { Calls++; return shape.Area; }
            }
            public static class Probe
            {
                public static string Run() => $"{new Square(2).Describe()},{new Square(2).Describe()},{new Square(3).Describe()}|{Geometry.Calls}";
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("4,4,9|2"));
    }

    [Test]
    public void An_extension_method_on_a_record_struct_is_cached_by_its_members()
    {
        // docs/decorators.md, Keys: "a record parameter whose text is the compiler's as the tuple of what that text prints
        // (User(3, "x") is (3,"x"))"; Shapes: extension methods included.
        var scenario = Build("""
            namespace Ext;
            public readonly record struct Point(int X, int Y);
            public static partial class Geometry
            {
                public static int Calls;
                [Cached] public static partial int Manhattan(this Point p);
                private static int ManhattanCore(Point p) { Calls++; return Math.Abs(p.X) + Math.Abs(p.Y); }
            }
            public static class Probe
            {
                public static string Run() => $"{new Point(1, -2).Manhattan()},{new Point(1, -2).Manhattan()},{new Point(2, 2).Manhattan()}|{Geometry.Calls}";
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("3,3,4|2"));
        Assert.That(_cache.Exists("Ext.Geometry.Manhattan((1,-2))"), Is.True);
    }

    [Test]
    public void An_extension_method_on_a_list_is_cached_by_its_elements()
    {
        // docs/decorators.md, Keys: "sequences [a,b] (collections, arrays, ...)"; Shapes: extension methods included.
        var scenario = Build("""
            namespace Ext;
            public static partial class Lists
            {
                public static int Calls;
                [Cached] public static partial int Total(this List<int> xs);
                private static int TotalCore(List<int> xs) { Calls++; return xs.Sum(); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var list = new List<int> { 1, 2 };
                    var before = $"{list.Total()},{list.Total()}";
                    list.Add(3);
                    return $"{before},{list.Total()}|{Lists.Calls}";
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("3,3,6|2"));
        Assert.That(_cache.Exists("Ext.Lists.Total([1,2,3])"), Is.True);
    }

    [TestCase("this ref Point p")]
    [TestCase("this in Point p")]
    public void A_ref_or_in_extension_receiver_is_CACHED003_on_the_receiver(string receiver)
    {
        // docs/diagnostics.md, CACHED003: "A parameter is ref, out, in or ref readonly ...: its value cannot be kept".
        var (run, source) = Diagnose($$"""
            namespace Ext;
            public record struct Point(int X, int Y);
            public static partial class Geometry
            {
                [Cached] public static partial int Manhattan({{receiver}});
                private static int ManhattanCore({{receiver.Replace("this ", "")}}) => p.X + p.Y;
            }
            """);

        AssertOn(run, source, "CACHED003", receiver + ")");
    }

    [Test]
    public void A_generic_extension_invalidation_drops_its_own_instantiation_only()
    {
        // docs/decorators.md, Generic methods: "[InvalidateCache] may be generic too ... it drops the entry of its own
        // instantiation (Forget<int>(1) drops Echo<int>(1), not Echo<string>)".
        var scenario = Build("""
            namespace Ext;
            public static partial class Gen
            {
                public static int Calls;
                [Cached] public static partial string Echo<T>(this T value) where T : notnull;
                private static string EchoCore<T>(T value) where T : notnull { Calls++; return value + "#" + Calls; }
                [InvalidateCache(nameof(Echo))] public static partial void Forget<T>(this T value) where T : notnull;
                private static void ForgetCore<T>(T value) where T : notnull { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var before = $"{1.Echo()},{1L.Echo()}";
                    1.Forget();
                    return $"{before};{1.Echo()},{1L.Echo()}|{Gen.Calls}";
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("1#1,1#2;1#3,1#2|3"));
    }

    // ================================================================ 3. sequence results

    private const string Feed = """
        namespace Seq;
        public partial class Feed
        {
            public int Calls;
            public int[] Buffer = { 1, 2, 3 };
            public static TaskCompletionSource Release = new(TaskCreationOptions.RunContinuationsAsynchronously);
            public static TaskCompletionSource Started = new(TaskCreationOptions.RunContinuationsAsynchronously);

            [Cached] public partial IEnumerable<int> Lazy(int n);
            private IEnumerable<int> LazyCore(int n)
            {
                var call = ++Calls;
                yield return 1;
                if (call == 1) throw new InvalidOperationException("halfway");
                for (var i = 2; i <= n; i++) yield return i;
            }

            [Cached] public partial Task<IEnumerable<int>> LazyTask(int n);
            private Task<IEnumerable<int>> LazyTaskCore(int n) => Task.FromResult(LazyCore(n));

            [Cached] public partial IEnumerable<int> Buffered(int n);
            private IEnumerable<int> BufferedCore(int n) { Calls++; return Buffer; }

            [Cached] public partial IEnumerable<int>? Nothing(int n);
            private IEnumerable<int>? NothingCore(int n) { Calls++; return null; }

            [Cached] public partial IEnumerable<int> Empty(int n);
            private IEnumerable<int> EmptyCore(int n) { Calls++; yield break; }

            [Cached] public partial IAsyncEnumerable<int> EmptyAsync(int n, CancellationToken ct = default);
            private async IAsyncEnumerable<int> EmptyAsyncCore(int n, [EnumeratorCancellation] CancellationToken ct) { Calls++; await Task.Yield(); yield break; }

            [Cached] public partial IAsyncEnumerable<int> Stream(int n, CancellationToken ct = default);
            private async IAsyncEnumerable<int> StreamCore(int n, [EnumeratorCancellation] CancellationToken ct)
            {
                Interlocked.Increment(ref Calls);
                for (var i = 1; i <= n; i++) { await Task.Yield(); yield return i; }
            }

            [Cached] public partial IAsyncEnumerable<int> Throwing(int n, CancellationToken ct = default);
            private async IAsyncEnumerable<int> ThrowingCore(int n, [EnumeratorCancellation] CancellationToken ct)
            {
                var call = ++Calls;
                await Task.Yield();
                yield return 1;
                if (call == 1) throw new InvalidOperationException("halfway");
                for (var i = 2; i <= n; i++) yield return i;
            }

            [Cached] public partial IAsyncEnumerable<int> Slow(int n, CancellationToken ct = default);
            private async IAsyncEnumerable<int> SlowCore(int n, [EnumeratorCancellation] CancellationToken ct)
            {
                var call = Interlocked.Increment(ref Calls);
                yield return 1;
                if (call == 1) { Started.TrySetResult(); await Task.Delay(30_000, ct); }
                for (var i = 2; i <= n; i++) yield return i;
            }

            [Cached] public partial IAsyncEnumerable<int> Gated(int n, CancellationToken ct = default);
            private async IAsyncEnumerable<int> GatedCore(int n, [EnumeratorCancellation] CancellationToken ct)
            {
                Interlocked.Increment(ref Calls);
                await Release.Task;
                for (var i = 1; i <= n; i++) yield return i;
            }
        }

        """;

    [Test]
    public void A_sync_sequence_whose_body_throws_halfway_stores_nothing_and_the_next_call_runs_the_body()
    {
        // docs/decorators.md, [Cached]: "The body's exception propagates unchanged and nothing is stored."; Sequence
        // results: "on a miss the body's sequence is read to the end into an array".
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static string Run()
                {
                    var feed = new Feed();
                    string first;
                    try { first = string.Join(",", feed.Lazy(3)); } catch (InvalidOperationException e) { first = "threw " + e.Message; }
                    var stored = Caches.Get().Exists("Seq.Feed.Lazy(3)");
                    return $"{first};{stored};{string.Join(",", feed.Lazy(3))};{string.Join(",", feed.Lazy(3))}|{feed.Calls}";
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("threw halfway;False;1,2,3;1,2,3|2"));
    }

    [Test]
    public async Task A_Task_of_a_lazy_sequence_whose_body_throws_halfway_stores_nothing()
    {
        // docs/decorators.md, Sequence results: "IEnumerable<T> (sync, Task<IEnumerable<T>> or ValueTask<IEnumerable<T>>)
        // ... caches the items"; [Cached]: "The body's exception propagates unchanged and nothing is stored."
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    string first;
                    try { first = string.Join(",", await feed.LazyTask(3)); } catch (InvalidOperationException e) { first = "threw " + e.Message; }
                    var stored = Caches.Get().Exists("Seq.Feed.LazyTask(3)");
                    return $"{first};{stored};{string.Join(",", await feed.LazyTask(3))};{string.Join(",", await feed.LazyTask(3))}|{feed.Calls}";
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("threw halfway;False;1,2,3;1,2,3|2"));
    }

    [Test]
    public void An_array_the_body_returns_is_copied_before_it_is_stored()
    {
        // docs/decorators.md, Sequence results: "The items are a copy: an array the body returns is copied before it is
        // stored, so a body may reuse its buffer." (The IEnumerable<T> bullet also says "(an array the body returns is
        // kept as it is)"; the body reusing its buffer is what the first sentence promises is safe.)
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static string Run()
                {
                    var feed = new Feed();
                    var first = string.Join(",", feed.Buffered(1));
                    feed.Buffer[0] = 99;
                    return $"{first};{string.Join(",", feed.Buffered(1))}|{feed.Calls}";
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("1,2,3;1,2,3|1"));
    }

    [Test]
    public async Task Empty_and_null_sequences_are_cached_like_any_result()
    {
        // docs/decorators.md, Sequence results: "A null result stays null."; "the body runs once per miss however often
        // the result is enumerated"; [Cached]: "A null result is cached like any other".
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    var r = new List<string>();
                    for (var i = 0; i < 2; i++)
                    {
                        r.Add(feed.Nothing(1) is null ? "null" : "not null");
                        r.Add("[" + string.Join(",", feed.Empty(1)) + "]");
                        var items = new List<int>();
                        await foreach (var x in feed.EmptyAsync(1)) items.Add(x);
                        r.Add("[" + string.Join(",", items) + "]");
                    }
                    return string.Join(",", r) + "|" + feed.Calls;
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("null,[],[],null,[],[]|3"));
        Assert.That(_cache.Exists("Seq.Feed.EmptyAsync(1)"), Is.True, "an empty stream is stored (no SkipCacheWhen)");
    }

    [Test]
    public async Task An_async_stream_whose_body_throws_halfway_yields_nothing_stores_nothing_and_propagates_the_exception()
    {
        // docs/decorators.md, Sequence results: "on a miss the body is called and its stream read to the end, the items
        // stored, then yielded"; [Cached]: "The body's exception propagates unchanged and nothing is stored."
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    var seen = new List<int>();
                    string outcome;
                    try { await foreach (var x in feed.Throwing(3)) seen.Add(x); outcome = "completed"; }
                    catch (InvalidOperationException e) { outcome = "threw " + e.Message; }
                    var stored = Caches.Get().Exists("Seq.Feed.Throwing(3)");
                    var again = new List<int>();
                    await foreach (var x in feed.Throwing(3)) again.Add(x);
                    await foreach (var x in feed.Throwing(3)) { }
                    return $"{outcome};[{string.Join(",", seen)}];{stored};{string.Join(",", again)}|{feed.Calls}";
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("threw halfway;[];False;1,2,3|2"));
    }

    [Test]
    public async Task One_stream_object_enumerated_twice_and_a_miss_left_early_run_the_body_once_and_store_every_item()
    {
        // docs/decorators.md, Sequence results: "Each enumeration reads the entry: on a miss the body is called and its
        // stream read to the end, the items stored, then yielded; on a hit the stored items are yielded without calling
        // the body."
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    var stream = feed.Stream(4);
                    var first = new List<int>();
                    await foreach (var x in stream) { first.Add(x); break; }
                    var second = new List<int>();
                    await foreach (var x in stream) second.Add(x);
                    var third = new List<int>();
                    await foreach (var x in feed.Stream(4)) third.Add(x);
                    return $"{string.Join(",", first)};{string.Join(",", second)};{string.Join(",", third)}|{feed.Calls}";
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("1;1,2,3,4;1,2,3,4|1"));
    }

    [Test]
    public async Task Cancelling_WithCancellation_during_a_replay_stops_at_the_next_item()
    {
        // docs/decorators.md, Sequence results: "the method's own CancellationToken and the enumerator's (await foreach
        // (... in PostsAsync(1).WithCancellation(token))) both cancel ... a replay stops at the next item once either
        // token is cancelled."
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    await foreach (var _ in feed.Stream(3)) { }
                    using var cts = new CancellationTokenSource();
                    var got = new List<int>();
                    string outcome = "completed";
                    try { await foreach (var x in feed.Stream(3).WithCancellation(cts.Token)) { got.Add(x); cts.Cancel(); } }
                    catch (OperationCanceledException) { outcome = "cancelled"; }
                    return $"{string.Join(",", got)};{outcome}|{feed.Calls}";
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("1;cancelled|1"));
    }

    [Test]
    public async Task Cancelling_WithCancellation_during_a_miss_cancels_the_body_and_stores_nothing()
    {
        // docs/decorators.md, Sequence results: "The body gets the two combined, as its CancellationToken argument and as
        // the token its stream is enumerated with ...; a cancelled read stores nothing".
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    using var cts = new CancellationTokenSource();
                    var reading = Task.Run(async () => { var l = new List<int>(); await foreach (var x in feed.Slow(3).WithCancellation(cts.Token)) l.Add(x); return l.Count; });
                    await Feed.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));
                    cts.Cancel();
                    string outcome;
                    try { outcome = "completed " + await reading.WaitAsync(TimeSpan.FromSeconds(10)); }
                    catch (OperationCanceledException) { outcome = "cancelled"; }
                    var stored = Caches.Get().Exists("Seq.Feed.Slow(3)");
                    var again = new List<int>();
                    await foreach (var x in feed.Slow(3)) again.Add(x);
                    return $"{outcome};{stored};{string.Join(",", again)}|{feed.Calls}";
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("cancelled;False;1,2,3|2"));
    }

    [Test]
    public async Task Concurrent_enumerations_of_one_cold_key_share_one_body_call()
    {
        // docs/decorators.md, Sequence results: "Single-flight, Ttl, Lease, SkipCacheWhen, scopes and fail-open work as for
        // any [Cached] method"; [Cached]: "Concurrent misses on one key in one process make one body call and every
        // caller gets its result".
        var scenario = Build(Feed + """
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var feed = new Feed();
                    var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
                    {
                        var l = new List<int>();
                        await foreach (var x in feed.Gated(3)) l.Add(x);
                        return string.Join(",", l);
                    })).ToArray();
                    await Task.Delay(200);
                    Feed.Release.TrySetResult();
                    var results = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10));
                    return string.Join("/", results.Distinct()) + "|" + feed.Calls;
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("1,2,3|1"));
    }

    [Test]
    public async Task A_generic_async_stream_extension_keeps_one_entry_per_instantiation()
    {
        // docs/decorators.md, Shapes: generic methods "each instantiation with entries of its own"; IAsyncEnumerable<T>
        // results "cached as their items".
        var scenario = Build("""
            namespace Seq;
            public static partial class Streams
            {
                public static int Calls;
                [Cached] public static partial IAsyncEnumerable<T> Repeat<T>(this T value, int times) where T : notnull;
                private static async IAsyncEnumerable<T> RepeatCore<T>(T value, int times) where T : notnull
                {
                    Calls++;
                    for (var i = 0; i < times; i++) { await Task.Yield(); yield return value; }
                }
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var r = new List<string>();
                    for (var round = 0; round < 2; round++)
                    {
                        var ints = new List<string>(); await foreach (var x in 1.Repeat(2)) ints.Add(x.GetType().Name);
                        var longs = new List<string>(); await foreach (var x in 1L.Repeat(2)) longs.Add(x.GetType().Name);
                        r.Add(string.Join(",", ints) + "/" + string.Join(",", longs));
                    }
                    return string.Join(";", r) + "|" + Streams.Calls;
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("Int32,Int32/Int64,Int64;Int32,Int32/Int64,Int64|2"));
    }

    // ================================================================ 4. generic methods

    [Test]
    public void Echo_of_int_string_long_nullable_list_and_array_keep_six_entries()
    {
        // docs/decorators.md, Generic methods: "Each closed instantiation of a generic [Cached] method has entries ... of
        // its own ... The type arguments are written as typeof(T).ToString() writes them (System.Int32, Demo.User,
        // System.Collections.Generic.List`1[System.Int32])".
        var scenario = Build("""
            namespace Gen;
            public static partial class G
            {
                public static int Calls;
                [Cached] public static partial string Echo<T>(T x);
                private static string EchoCore<T>(T x) { Calls++; return typeof(T).Name; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var r = new List<string>();
                    for (var i = 0; i < 2; i++)
                    {
                        r.Add(G.Echo<int>(1)); r.Add(G.Echo<string>("1")); r.Add(G.Echo<long>(1));
                        r.Add(G.Echo<int?>(1)); r.Add(G.Echo(new List<int> { 1 })); r.Add(G.Echo(new[] { 1 }));
                        r.Add(G.Echo(new List<List<int>> { new() { 1 } }));
                    }
                    return string.Join(",", r) + "|" + G.Calls;
                }
            }
            """);

        const string Each = "Int32,String,Int64,Nullable`1,List`1,Int32[],List`1";
        Assert.That(Run(scenario), Is.EqualTo(Each + "," + Each + "|7"));
        using (Assert.EnterMultipleScope())
        {
            Assert.That(_cache.Exists("Gen.G.Echo<System.Int32>(1)"), Is.True);
            Assert.That(_cache.Exists("Gen.G.Echo<System.String>(\"1\")"), Is.True);
            Assert.That(_cache.Exists("Gen.G.Echo<System.Int64>(1)"), Is.True);
            Assert.That(_cache.Exists("Gen.G.Echo<System.Collections.Generic.List`1[System.Int32]>([1])"), Is.True);
        }
    }

    [Test]
    public void Echo_of_object_keeps_1_1L_and_1D_apart()
    {
        // docs/decorators.md, Keys: "The default key is unambiguous"; "a number other than an int in a parameter declared
        // object ... carries its type as a C# literal does, 1L, 1D, 1M, (short)1, so M(1), M(1L) and M(1.0) are three
        // entries". Echo<object> takes a parameter whose type is object.
        var scenario = Build("""
            namespace Gen;
            public static partial class G
            {
                public static int Calls;
                [Cached] public static partial T Echo<T>(T x);
                private static T EchoCore<T>(T x) { Calls++; return x; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var types = new[] { G.Echo<object>(1), G.Echo<object>(1L), G.Echo<object>(1.0) }.Select(o => o!.GetType().Name);
                    return string.Join(",", types) + "|" + G.Calls;
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("Int32,Int64,Double|3"), "Echo<object>(1L) must not answer with the boxed int of Echo<object>(1)");
    }

    [Test]
    public void A_generic_method_of_a_generic_type_keys_both_type_arguments()
    {
        // docs/decorators.md, Generic methods: "the form generic containing types already use
        // (Demo.Repo<System.Int32>.Find<System.Int64>(1) for a generic method of a generic type)".
        var scenario = Build("""
            namespace Gen;
            public partial class Repo<TItem>
            {
                public static int Calls;
                [Cached] public partial string Find<TKey>(TKey key) where TKey : notnull;
                private string FindCore<TKey>(TKey key) where TKey : notnull { Calls++; return typeof(TItem).Name + "/" + typeof(TKey).Name; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var r = new List<string>();
                    for (var i = 0; i < 2; i++)
                    {
                        r.Add(new Repo<int>().Find<long>(1)); r.Add(new Repo<long>().Find<int>(1));
                        r.Add(new Repo<int>().Find<int>(1)); r.Add(new Repo<List<int>>().Find<int>(1));
                    }
                    return string.Join(",", r) + "|" + (Repo<int>.Calls + Repo<long>.Calls + Repo<List<int>>.Calls);
                }
            }
            """);

        const string Each = "Int32/Int64,Int64/Int32,Int32/Int32,List`1/Int32";
        Assert.That(Run(scenario), Is.EqualTo(Each + "," + Each + "|4"));
        Assert.That(_cache.Exists("Gen.Repo<System.Int32>.Find<System.Int64>(1)"), Is.True);
    }

    [Test]
    public void Every_kind_of_constraint_builds_and_caches()
    {
        // docs/decorators.md, Generic methods: "Constraints (class, class?, struct, unmanaged, notnull, new(), base types,
        // interfaces) are repeated on every generated member."
        var scenario = Build("""
            namespace Gen;
            public class Base { public int V; public override string ToString() => "base" + V; }
            public sealed class Derived : Base { }
            public partial class C
            {
                public int Calls;
                [Cached] public partial T S1<T>(T x) where T : struct;
                private T S1Core<T>(T x) where T : struct { Calls++; return x; }
                [Cached] public partial T S2<T>(T x) where T : class;
                private T S2Core<T>(T x) where T : class { Calls++; return x; }
                [Cached] public partial T S3<T>(T x) where T : unmanaged;
                private T S3Core<T>(T x) where T : unmanaged { Calls++; return x; }
                [Cached] public partial T S4<T>() where T : new();
                private T S4Core<T>() where T : new() { Calls++; return new T(); }
                [Cached] public partial T S5<T>(T x) where T : Base;
                private T S5Core<T>(T x) where T : Base { Calls++; return x; }
                [Cached] public partial T S6<T>(T x) where T : IComparable<T>;
                private T S6Core<T>(T x) where T : IComparable<T> { Calls++; return x; }
                [Cached] public partial T? S7<T>(T? x) where T : class?;
                private T? S7Core<T>(T? x) where T : class? { Calls++; return x; }
                [Cached] public partial T S8<T>(T x) where T : notnull;
                private T S8Core<T>(T x) where T : notnull { Calls++; return x; }
                [Cached] public partial TOut S9<TIn, TOut>(TIn x) where TIn : struct, IComparable<TIn> where TOut : class, new();
                private TOut S9Core<TIn, TOut>(TIn x) where TIn : struct, IComparable<TIn> where TOut : class, new() { Calls++; return new TOut(); }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var c = new C();
                    var d = new Derived { V = 1 };
                    for (var i = 0; i < 2; i++)
                    {
                        c.S1(1); c.S2("a"); c.S3(2L); c.S4<List<int>>(); c.S5(d); c.S6(3m); c.S7<string>(null); c.S8('x'); c.S9<int, Base>(4);
                    }
                    return c.Calls.ToString();
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("9"));
    }

    [Test]
    public async Task A_generic_invalidation_with_nested_type_arguments_drops_its_own_instantiation_only_sync_and_async()
    {
        // docs/decorators.md, Generic methods: "[InvalidateCache] may be generic too, and may name a generic [Cached]
        // method when it declares that method's type parameters under the same names ...: it drops the entry of its own
        // instantiation (Forget<int>(1) drops Echo<int>(1), not Echo<string>)".
        var scenario = Build("""
            namespace Gen;
            public partial class Shapes
            {
                public int Calls;
                [Cached(Namespace = "g")] public partial T Echo<T>(T value) where T : notnull;
                private T EchoCore<T>(T value) where T : notnull { Calls++; return value; }
                [InvalidateCache(nameof(Echo))] public partial void Forget<T>(T value) where T : notnull;
                private void ForgetCore<T>(T value) where T : notnull { }
                [InvalidateCache(nameof(Echo))] public partial Task ForgetAsync<T>(T value, CancellationToken ct = default) where T : notnull;
                private Task ForgetAsyncCore<T>(T value, CancellationToken ct) where T : notnull => Task.CompletedTask;
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var s = new Shapes();
                    var list = new List<int> { 1 };
                    var longs = new List<long> { 1 };
                    var array = new[] { 1 };
                    void All() { s.Echo(list); s.Echo(longs); s.Echo(array); s.Echo(1); s.Echo(1L); s.Echo("1"); }
                    All();
                    var cold = s.Calls;
                    s.Forget(list);
                    await s.ForgetAsync(1L);
                    All();
                    return $"{cold},{s.Calls}";
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("6,8"), "only Echo<List<int>> and Echo<long> run again");
        Assert.That(_cache.Exists("Gen.Shapes.Echo<System.Collections.Generic.List`1[System.Int64]>([1])", "g"), Is.True);
        Assert.That(_cache.Exists("Gen.Shapes.Echo<System.Int32>(1)", "g"), Is.True);
    }

    [Test]
    public void A_generic_invalidation_whose_type_parameter_has_another_name_is_CACHED015_on_the_name()
    {
        // docs/diagnostics.md, CACHED015: "an [InvalidateCache] method that names a generic method (reported on the name)
        // but does not declare its type parameters under the same names, or gives them fewer constraints".
        var (run, source) = Diagnose("""
            namespace Gen;
            public partial class Shapes
            {
                [Cached] public partial T Echo<T>(T value) where T : notnull;
                private T EchoCore<T>(T value) where T : notnull => value;
                [InvalidateCache(nameof(Echo))] public partial void Forget<U>(U value) where U : notnull;
                private void ForgetCore<U>(U value) where U : notnull { }
            }
            """);

        AssertOn(run, source, "CACHED015", "nameof(Echo)");
    }

    [Test]
    public void A_generic_invalidation_with_fewer_constraints_is_CACHED015_on_the_name()
    {
        // docs/diagnostics.md, CACHED015: "... or gives them fewer constraints ... (reported on the name)".
        var (run, source) = Diagnose("""
            namespace Gen;
            public partial class Shapes
            {
                [Cached] public partial T Echo<T>(T value) where T : struct;
                private T EchoCore<T>(T value) where T : struct => value;
                [InvalidateCache(nameof(Echo))] public partial void Forget<T>(T value);
                private void ForgetCore<T>(T value) { }
            }
            """);

        AssertOn(run, source, "CACHED015", "nameof(Echo)");
    }

    [Test]
    public void A_type_parameter_that_allows_ref_struct_is_CACHED015_on_that_constraint()
    {
        // docs/diagnostics.md, CACHED015: "a type parameter that allows ref struct (reported on that constraint)".
        var (run, source) = Diagnose("""
            namespace Gen;
            public partial class Shapes
            {
                [Cached] public partial int Size<T>(int id) where T : allows ref struct;
                private int SizeCore<T>(int id) where T : allows ref struct => id;
            }
            """);

        AssertOn(run, source, "CACHED015", "allows ref struct;");
    }

    // ================================================================ 5. [InvalidateCache] of a [MultiCached] target

    [Test]
    public async Task Invalidating_a_MultiCached_target_with_a_KeyBuilder_and_a_Namespace_drops_exactly_the_named_keys()
    {
        // docs/decorators.md, [InvalidateCache]: "The invalidating method names the keys to drop with a parameter of the
        // same name as the target's KeysFrom parameter: either one key (the key type itself) or any collection of keys
        // (IEnumerable<TKey>, an array, a list, a set...; null drops nothing). Each key's entry is deleted under the key
        // the target's own calls use (its KeyBuilder, if any, and its Namespace); the other keys' entries stay."
        // "An exception from the body skips the invalidation".
        var scenario = Build("""
            namespace Users;
            public partial class Repo
            {
                public List<string> Requests = new();
                private static string UserKey(int id) => $"u:{id}";
                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(UserKey), Namespace = "ns")]
                public partial Dictionary<int, string> GetMany(int[] ids);
                private Dictionary<int, string> GetManyCore(int[] ids) { Requests.Add(string.Join(";", ids)); return ids.ToDictionary(i => i, i => "v" + i); }

                [InvalidateCache(nameof(GetMany))] public partial void Forget(IEnumerable<int> ids);
                private void ForgetCore(IEnumerable<int> ids) { }
                [InvalidateCache(nameof(GetMany))] public partial void ForgetOne(int ids);
                private void ForgetOneCore(int ids) { }
                [InvalidateCache(nameof(GetMany))] public partial Task ForgetAsync(HashSet<int> ids, CancellationToken ct);
                private Task ForgetAsyncCore(HashSet<int> ids, CancellationToken ct) => Task.CompletedTask;
                [InvalidateCache(nameof(GetMany))] public partial ValueTask ForgetOneAsync(int ids);
                private ValueTask ForgetOneAsyncCore(int ids) => default;
                [InvalidateCache(nameof(GetMany))] public partial void ForgetThrowing(List<int> ids);
                private void ForgetThrowingCore(List<int> ids) => throw new InvalidOperationException("no");
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var repo = new Repo();
                    var all = new[] { 1, 2, 3, 4, 5, 6, 7 };
                    repo.GetMany(all);
                    repo.Forget(new List<int> { 1 });
                    repo.ForgetOne(2);
                    await repo.ForgetAsync(new HashSet<int> { 3 }, CancellationToken.None);
                    await repo.ForgetOneAsync(4);
                    try { repo.ForgetThrowing(new List<int> { 5 }); } catch (InvalidOperationException) { }
                    repo.Forget(null!);
                    var exists = string.Join(",", all.Select(i => Caches.Get().Exists($"u:{i}", "ns") ? "T" : "F"));
                    repo.GetMany(all);
                    return string.Join("|", repo.Requests) + "#" + exists;
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("1;2;3;4;5;6;7|1;2;3;4#F,F,F,F,T,T,T"));
    }

    [Test]
    public async Task Invalidating_a_MultiCached_target_without_a_KeyBuilder_uses_the_key_text_in_its_namespace()
    {
        // docs/decorators.md, [MultiCached]: "Without a KeyBuilder a key's cache key is its invariant text (a string as it
        // is ...)"; [InvalidateCache]: "Each key's entry is deleted under the key the target's own calls use (its
        // KeyBuilder, if any, and its Namespace); the other keys' entries stay." An async method "starts all their
        // deletes before it awaits any, the keys of a [MultiCached] target's too".
        var scenario = Build("""
            namespace Users;
            public partial class Cities
            {
                public List<string> Requests = new();
                [MultiCached(KeysFrom = "cities", Namespace = "geo")]
                public partial Task<IReadOnlyDictionary<string, int>> GetAsync(IReadOnlyList<string> cities, CancellationToken ct = default);
                private Task<IReadOnlyDictionary<string, int>> GetAsyncCore(IReadOnlyList<string> cities, CancellationToken ct)
                {
                    Requests.Add(string.Join(";", cities));
                    return Task.FromResult<IReadOnlyDictionary<string, int>>(cities.ToDictionary(c => c, c => c.Length));
                }
                [InvalidateCache(nameof(GetAsync))] public partial Task RefreshAsync(string[] cities, CancellationToken ct = default);
                private Task RefreshAsyncCore(string[] cities, CancellationToken ct) => Task.CompletedTask;
            }
            public static class Probe
            {
                public static async Task<string> RunAsync()
                {
                    var c = new Cities();
                    var all = new[] { "Lisbon", "Porto", "Faro", "a,b" };
                    await c.GetAsync(all);
                    await c.RefreshAsync(new[] { "Porto", "a,b", "Nowhere" });
                    await c.GetAsync(all);
                    var lisbon = Caches.Get().Exists("Lisbon", "geo");
                    return string.Join("|", c.Requests) + "#" + lisbon;
                }
            }
            """);

        Assert.That(await RunAsync(scenario), Is.EqualTo("Lisbon;Porto;Faro;a,b|Porto;a,b#True"));
    }

    [Test]
    public void One_invalidation_naming_a_Cached_and_a_MultiCached_target_with_a_shared_instance_KeyBuilder_drops_both()
    {
        // docs/decorators.md, One set of entries: "a KeyBuilder of the item's key type gives them exactly that, since
        // [Cached] passes the method's parameters to it and [MultiCached] one key at a time"; [InvalidateCache]: "Several
        // methods can be named".
        var scenario = Build("""
            namespace Users;
            public partial class Customers
            {
                public string Prefix = "c";
                public List<string> Requests = new();
                private string CustomerKey(int id) => $"{Prefix}:{id}";
                [Cached(KeyBuilder = nameof(CustomerKey), Namespace = "crm")]
                public partial string Get(int id);
                private string GetCore(int id) { Requests.Add("get " + id); return "n" + id; }
                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(CustomerKey), Namespace = "crm")]
                public partial Dictionary<int, string> GetMany(int[] ids);
                private Dictionary<int, string> GetManyCore(int[] ids) { Requests.Add("many " + string.Join(";", ids)); return ids.ToDictionary(i => i, i => "n" + i); }
                [InvalidateCache(nameof(Get), nameof(GetMany))]
                public partial void Rename(int id, int[] ids);
                private void RenameCore(int id, int[] ids) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var c = new Customers();
                    c.GetMany(new[] { 1, 2, 3 });
                    c.Get(1);
                    c.Rename(1, new[] { 2 });
                    c.Get(1);
                    c.GetMany(new[] { 1, 2, 3 });
                    return string.Join("|", c.Requests);
                }
            }
            """);

        Assert.That(Run(scenario), Is.EqualTo("many 1;2;3|get 1|many 2"));
    }

    [TestCase("IEnumerable<long> ids", TestName = "An_invalidation_whose_keys_are_of_another_type_is_CACHED018")]
    [TestCase("int[] keys", TestName = "An_invalidation_whose_keys_parameter_has_another_name_is_CACHED018")]
    [TestCase("IEnumerable<string?> names", TestName = "An_invalidation_whose_keys_differ_in_nullability_is_CACHED018")]
    public void An_invalidation_that_cannot_name_the_keys_is_CACHED018_on_the_invalidating_method(string parameter)
    {
        // docs/diagnostics.md, CACHED018: "An [InvalidateCache] method names a [MultiCached] method, but has no parameter of
        // the name of the target's KeysFrom parameter, or that parameter is neither the key type nor a collection of it
        // (element type and nullability as the target's)".
        var keyType = parameter.Contains("string", StringComparison.Ordinal) ? "string" : "int";
        var keysFrom = parameter.Contains("names", StringComparison.Ordinal) ? "names" : "ids";
        var (run, source) = Diagnose($$"""
            namespace Users;
            public partial class Repo
            {
                [MultiCached(KeysFrom = "{{keysFrom}}")]
                public partial Dictionary<{{keyType}}, string> GetMany({{keyType}}[] {{keysFrom}});
                private Dictionary<{{keyType}}, string> GetManyCore({{keyType}}[] {{keysFrom}}) => new();
                [InvalidateCache(nameof(GetMany))] public partial void Forget({{parameter}});
                private void ForgetCore({{parameter}}) { }
            }
            """);

        AssertOn(run, source, "CACHED018", "[InvalidateCache(nameof(GetMany))] public partial void Forget(" + parameter + ");");
    }

    [Test]
    public void A_static_invalidation_of_a_target_with_an_instance_KeyBuilder_is_CACHED018()
    {
        // docs/decorators.md, [InvalidateCache]: "from a static method when the target's KeyBuilder is an instance method,
        // the keys cannot be mapped: that is CACHED018."
        var (run, source) = Diagnose("""
            namespace Users;
            public partial class Repo
            {
                private string Key(int id) => "u" + id;
                [MultiCached(KeysFrom = "ids", KeyBuilder = nameof(Key))]
                public partial Dictionary<int, string> GetMany(int[] ids);
                private Dictionary<int, string> GetManyCore(int[] ids) => new();
                [InvalidateCache(nameof(GetMany))] public static partial void Forget(int[] ids);
                private static void ForgetCore(int[] ids) { }
            }
            """);

        AssertOn(run, source, "CACHED018", "[InvalidateCache(nameof(GetMany))] public static partial void Forget(int[] ids);");
    }

    // ================================================================ diagnostics configured like the compiler's own

    /// <summary>One source per warning: the snippet the warning lies on is written between [| and |].</summary>
    private static string WarningSource(string id) => id switch
    {
        "CACHED012" => """
            namespace Diag;
            public sealed class Filter { public int Page { get; set; } }
            public static partial class Search
            {
                [Cached] public static partial string Find(this int page);
                private static string FindCore(int page) => "p" + page;
            /*before*/
                [Cached] public static partial string Find([|this Filter filter|]);
            /*after*/
                private static string FindCore(Filter filter) => "f" + filter.Page;
            }
            """,
        "CACHED023" => """
            namespace Diag;
            public partial class Users
            {
            /*before*/
                [Cached([|SoftTimeout = 1|])]
                public partial string Get(int id);
            /*after*/
                private string GetCore(int id) => "u" + id;
            }
            """,
        "CACHED030" => """
            namespace Diag;
            public partial class Users
            {
            /*before*/
                [Cached([|IncludeInstance = true|])]
                public partial string Get(int id);
            /*after*/
                private string GetCore(int id) => "u" + id;
            }
            """,
        _ => throw new ArgumentOutOfRangeException(nameof(id)),
    };

    private static readonly string[] s_warnings = ["CACHED012", "CACHED023", "CACHED030"];

    private static (CSharpCompilationLike Compilation, string Source) WarningCompilation(string id, string before = "", string after = "")
    {
        var source = Usings + WarningSource(id).Replace("/*before*/", before, StringComparison.Ordinal).Replace("/*after*/", after, StringComparison.Ordinal);
        var open = source.IndexOf("[|", StringComparison.Ordinal);
        var close = source.IndexOf("|]", StringComparison.Ordinal);
        var snippet = source.Substring(open + 2, close - open - 2);
        source = source.Remove(close, 2).Remove(open, 2);
        return (new CSharpCompilationLike(GeneratorRunner.Compile(source), snippet), source);
    }

    private sealed record CSharpCompilationLike(Microsoft.CodeAnalysis.CSharp.CSharpCompilation Value, string Snippet);

    [TestCaseSource(nameof(s_warnings))]
    public void A_warning_without_configuration_is_a_warning_on_the_syntax_at_fault(string id)
    {
        // docs/diagnostics.md: "reported at compile time ... on the code at fault: the attribute argument (Key, KeysFrom,
        // SkipCacheWhen, ...), the parameter, the return type"; the table gives CACHED012, 023 and 030 severity Warning.
        var (compilation, source) = WarningCompilation(id);
        var run = GeneratorRunner.Run(compilation.Value);
        Assert.That(Reported(run), Is.EqualTo(new[] { id + " Warning" }));
        AssertOn(run, source, id, compilation.Snippet);
    }

    [TestCaseSource(nameof(s_warnings))]
    public void A_warning_is_silenced_by_pragma_warning_disable_with_its_id(string id)
    {
        // docs/diagnostics.md: "or around the method with #pragma warning disable CACHED012: each diagnostic lies in your
        // source file, not in generated code."
        var (compilation, _) = WarningCompilation(id, "#pragma warning disable " + id, "#pragma warning restore " + id);
        var run = GeneratorRunner.Run(compilation.Value);
        Assert.That(Reported(run), Is.Empty);
        Assert.That(run.GeneratorDiagnostics.Select(static d => d.IsSuppressed), Is.EqualTo(new[] { true }), "reported, marked suppressed, as the compiler's own");
    }

    [TestCaseSource(nameof(s_warnings))]
    public void A_warning_is_silenced_by_a_bare_pragma_warning_disable(string id)
    {
        // docs/diagnostics.md: "Like any compiler diagnostic, a warning can be ... silenced ... around the method with
        // #pragma warning disable". A bare '#pragma warning disable' silences every warning the compiler reports there.
        var (compilation, _) = WarningCompilation(id, "#pragma warning disable", "#pragma warning restore");
        Assert.That(Reported(GeneratorRunner.Run(compilation.Value)), Is.Empty);
    }

    [TestCaseSource(nameof(s_warnings))]
    public void A_warning_is_silenced_by_NoWarn(string id)
    {
        // docs/diagnostics.md: "for the project with <NoWarn>CACHED012</NoWarn>".
        var (compilation, _) = WarningCompilation(id);
        var options = compilation.Value.Options.WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { [id] = ReportDiagnostic.Suppress });
        Assert.That(Reported(GeneratorRunner.Run(compilation.Value.WithOptions(options))), Is.Empty);
    }

    [TestCaseSource(nameof(s_warnings))]
    public void A_warning_follows_its_editorconfig_severity(string id)
    {
        // docs/diagnostics.md: "a warning can be raised to an error or silenced in .editorconfig
        // (dotnet_diagnostic.CACHED012.severity = error)".
        var (compilation, _) = WarningCompilation(id);
        var tree = compilation.Value.SyntaxTrees.Single();
        var asError = compilation.Value.WithOptions(compilation.Value.Options.WithSyntaxTreeOptionsProvider(new FileSeverities(tree, id, ReportDiagnostic.Error)));
        var asNone = compilation.Value.WithOptions(compilation.Value.Options.WithSyntaxTreeOptionsProvider(new FileSeverities(tree, id, ReportDiagnostic.Suppress)));
        Assert.That(Reported(GeneratorRunner.Run(asError)), Is.EqualTo(new[] { id + " Error" }));
        Assert.That(Reported(GeneratorRunner.Run(asNone)), Is.Empty);
    }

    [TestCaseSource(nameof(s_warnings))]
    public void A_warning_becomes_an_error_under_TreatWarningsAsErrors_and_WarningsAsErrors(string id)
    {
        // docs/diagnostics.md: "Like any compiler diagnostic, a warning can be raised to an error" — as the compiler's own
        // warnings are under <TreatWarningsAsErrors> (general option) and <WarningsAsErrors>ID</WarningsAsErrors>.
        var (compilation, _) = WarningCompilation(id);
        var all = compilation.Value.WithOptions(compilation.Value.Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));
        var one = compilation.Value.WithOptions(compilation.Value.Options.WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { [id] = ReportDiagnostic.Error }));
        Assert.That(Reported(GeneratorRunner.Run(all)), Is.EqualTo(new[] { id + " Error" }));
        Assert.That(Reported(GeneratorRunner.Run(one)), Is.EqualTo(new[] { id + " Error" }));
    }

    [Test]
    public void A_pragma_around_one_overload_silences_that_overloads_CACHED012_only()
    {
        // docs/diagnostics.md: "around the method with #pragma warning disable CACHED012: each diagnostic lies in your
        // source file"; CACHED012 is reported on the parameter.
        var (run, source) = Diagnose("""
            namespace Diag;
            public sealed class Filter { public int Page { get; set; } }
            public partial class Search
            {
            #pragma warning disable CACHED012
                [Cached] public partial string Find(Filter quiet);
            #pragma warning restore CACHED012
                private string FindCore(Filter quiet) => "q";
                [Cached] public partial string Find(Filter loud, int page);
                private string FindCore(Filter loud, int page) => "l";
            }
            """);

        Assert.That(Reported(run), Is.EqualTo(new[] { "CACHED012 Warning" }));
        var loud = run.GeneratorDiagnostics.Single(static d => !d.IsSuppressed);
        Assert.That(source.Substring(loud.Location.SourceSpan.Start, loud.Location.SourceSpan.Length), Does.Contain("loud"));
    }

    [Test]
    public void A_silenced_CACHED012_still_generates_a_working_method()
    {
        // docs/diagnostics.md: "A method with an error gets no generated body"; a warning is not an error, so a silenced
        // warning leaves the method generated: "Fix: ... mark the parameter [CacheKeyIgnore], or set Key/KeyBuilder" is
        // advice, not a requirement.
        var source = Usings + """
            namespace Diag;
            public sealed class Filter { public int Page { get; set; } }
            public partial class Search
            {
                public int Calls;
            #pragma warning disable CACHED012
                [Cached] public partial string Find(Filter filter);
            #pragma warning restore CACHED012
                private string FindCore(Filter filter) { Calls++; return "p" + filter.Page; }
            }
            """;
        var run = GeneratorRunner.Run(source);
        Assert.That(run.CompilationProblems.Select(static d => d.ToString()), Is.Empty);
        Assert.That(Reported(run), Is.Empty);
    }

    [Test]
    public void An_async_stream_inside_a_Task_is_CACHED020_on_the_return_type()
    {
        // docs/diagnostics.md, CACHED020: "an IAsyncEnumerable<T> inside a Task or ValueTask"; reported "on the code at
        // fault: ... the return type".
        var (run, source) = Diagnose("""
            namespace Diag;
            public partial class Feed
            {
                [Cached] public partial Task<IAsyncEnumerable<int>> Items(int n);
                private Task<IAsyncEnumerable<int>> ItemsCore(int n) => throw new NotImplementedException();
            }
            """);

        AssertOn(run, source, "CACHED020", "Task<IAsyncEnumerable<int>>");
    }

    [Test]
    public void A_generic_MultiCached_method_is_CACHED015()
    {
        // docs/decorators.md, [MultiCached]: "For the same reason a generic [MultiCached] method is refused (CACHED015)."
        var (run, source) = Diagnose("""
            namespace Diag;
            public partial class Repo
            {
                [MultiCached(KeysFrom = "ids")] public partial Dictionary<int, T> GetMany<T>(int[] ids);
                private Dictionary<int, T> GetManyCore<T>(int[] ids) => new();
            }
            """);

        AssertOn(run, source, "CACHED015", "[MultiCached(KeysFrom = \"ids\")] public partial Dictionary<int, T> GetMany<T>(int[] ids);");
    }
}
