using System.Collections.Immutable;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators.Tests;

/// <summary>
/// <see cref="ImplementationSuppressor"/>: CA1822 ("can be marked as static") is suppressed on the method a cached
/// method runs on a miss, which CACHED002 wants an instance method, and on nothing else. CA1822 itself comes from the
/// SDK's analyzers; <see cref="MarksAsStatic"/> reports it as they do (at the method's name) on the methods a test
/// names, so that the suppressor is tested on the compilation the generator produced.
/// </summary>
public sealed partial class ImplementationSuppressorTests
{
    private const string Source = """
        using Cached;
        using System.Threading.Tasks;
        namespace Demo;
        public partial class Service
        {
            [Cached(Ttl = 10)]
            public partial int Twice(int x);
            private int TwiceCore(int x) => x * 2;

            [Cached(Ttl = 10, Implementation = nameof(Compute))]
            public partial Task<int> NamedAsync(int x);
            private Task<int> Compute(int x) => Task.FromResult(x);

            [MultiCached(KeysFrom = "ids")]
            public partial System.Collections.Generic.Dictionary<int, int> Many(System.Collections.Generic.IReadOnlyList<int> ids);
            private System.Collections.Generic.Dictionary<int, int> ManyCore(System.Collections.Generic.IReadOnlyList<int> ids) => new();

            [InvalidateCache(nameof(Twice))]
            public partial void Forget(int x);
            private void ForgetCore(int x) { }

            private int Helper(int x) => x + 1;
            private int OtherCore(int x) => x - 1;
            private int TwiceCore(string text) => text.Length;
        }
        """;

    [Test]
    public void CA1822_is_suppressed_on_each_implementation_and_reported_on_other_methods()
    {
        var diagnostics = Analyze(Source, "TwiceCore", "Compute", "ManyCore", "ForgetCore", "Helper", "OtherCore");

        var suppressed = diagnostics.Where(static d => d.IsSuppressed).Select(Method).Order().ToArray();
        var reported = diagnostics.Where(static d => !d.IsSuppressed).Select(Method).Order().ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(suppressed, Is.EqualTo(new[] { "Compute", "ForgetCore", "ManyCore", "TwiceCore" }));
            // TwiceCore(string) is an overload of the body's name with other parameters: some other method.
            Assert.That(reported, Is.EqualTo(new[] { "Helper", "OtherCore", "TwiceCore" }), "a method no cached method runs keeps CA1822");
        });
    }

    [Test]
    public void CA1822_is_suppressed_on_a_body_a_base_class_declares_for_a_derived_class_s_cached_method()
    {
        // CACHED002 accepts a body the base class declares, protected or more visible; the base cannot list the types
        // that derive from it, so the suppressor looks for them. A base whose derived types cache nothing keeps CA1822.
        var diagnostics = Analyze(
            """
            using Cached;
            using System.Threading.Tasks;
            namespace Demo;
            public abstract class RepositoryBase
            {
                protected int LoadCore(int id) => id;
                protected Task<int> FetchCore(int id) => Task.FromResult(id);
                protected int KeepCore(int id) => id;
                protected int LoadCore(string text) => text.Length;
            }
            public abstract class Middle : RepositoryBase { }
            public partial class Repository : Middle
            {
                [Cached(Ttl = 10)]
                public partial int Load(int id);
                [Cached(Ttl = 10, Implementation = "FetchCore")]
                public partial Task<int> ByName(int id);
            }
            public class Unrelated
            {
                protected int LoadCore(int id) => id;
            }
            public abstract class StoreBase<T>
            {
                protected T FindCore(T id) => id;
            }
            public partial class Store : StoreBase<int>
            {
                [Cached(Ttl = 10)]
                public partial int Find(int id);
            }
            """,
            "LoadCore", "FetchCore", "KeepCore", "FindCore");

        var suppressed = diagnostics.Where(static d => d.IsSuppressed).Select(Where).Order().ToArray();
        var reported = diagnostics.Where(static d => !d.IsSuppressed).Select(Where).Order().ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(suppressed, Is.EqualTo(new[] { "RepositoryBase.FetchCore", "RepositoryBase.LoadCore", "StoreBase.FindCore" }));
            // LoadCore(string) is an overload of the body's name with other parameters: some other method.
            Assert.That(reported, Is.EqualTo(new[] { "RepositoryBase.KeepCore", "RepositoryBase.LoadCore", "Unrelated.LoadCore" }));
        });
    }

    [Test]
    public void CA1822_of_a_static_cached_method_s_static_body_is_not_the_suppressor_s()
    {
        // A static body of a static cached method is never reported; one reported anyway is left alone.
        var diagnostics = Analyze(
            """
            using Cached;
            namespace Demo;
            public static partial class Pure
            {
                [Cached(Ttl = 10)]
                public static partial int Twice(int x);
                private static int TwiceCore(int x) => x * 2;
            }
            """,
            "TwiceCore");

        Assert.That(diagnostics.Single().IsSuppressed, Is.False);
    }

    /// <summary>
    /// The SDK's own CA1822, raised to a warning by an .editorconfig as a team that builds with the analyzers does: a
    /// real build reports it on a helper and not on the body of a cached method.
    /// </summary>
    [Test]
    [Category("Build")]
    public void A_real_build_with_CA1822_as_a_warning_reports_it_on_a_helper_and_not_on_a_body()
    {
        var work = Directory.CreateTempSubdirectory("cached-ca1822-").FullName;
        try
        {
            ConsumerProject.Write(work);
            File.WriteAllText(Path.Combine(work, ".editorconfig"), "root = true\n[*.cs]\ndotnet_diagnostic.CA1822.severity = warning\n");
            File.WriteAllText(Path.Combine(work, "Service.cs"), Source);

            var output = ProcessRunner.Run(work, "dotnet", ["build", "--disable-build-servers", "--no-incremental", "-nologo"]).Output;

            Assert.Multiple(() =>
            {
                Assert.That(output, Does.Contain("warning CA1822: Member 'Helper'"), output);
                // TwiceCore(int), the body (line 8), is not reported; TwiceCore(string), an overload (line 24), is.
                Assert.That(output, Does.Not.Match(@"Service\.cs\(8,\d+\): warning CA1822"), output);
                Assert.That(output, Does.Match(@"Service\.cs\(24,\d+\): warning CA1822: Member 'TwiceCore'"), output);
                Assert.That(output, Does.Not.Contain("'Compute'"), output);
                Assert.That(output, Does.Not.Contain("error"), output);
            });
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public void The_suppression_names_CA1822_and_says_why()
    {
        var descriptor = new ImplementationSuppressor().SupportedSuppressions.Single(static d => d.SuppressedDiagnosticId == "CA1822");
        Assert.Multiple(() =>
        {
            Assert.That(descriptor.SuppressedDiagnosticId, Is.EqualTo("CA1822"));
            Assert.That(descriptor.Id, Does.StartWith("CACHED"));
            Assert.That(descriptor.Justification.ToString(), Does.Contain("CACHED002"));
        });
    }

    private static IReadOnlyList<Diagnostic> Analyze(string source, params string[] methods)
    {
        var run = GeneratorRunner.Run(source);
        Assert.That(run.CompilationProblems.Where(static d => d.Severity == DiagnosticSeverity.Error), Is.Empty, "the scenario compiles");
        return run.Output
            .WithAnalyzers(
                [new MarksAsStatic(methods), new ImplementationSuppressor()],
                new CompilationWithAnalyzersOptions(new AnalyzerOptions([]), onAnalyzerException: null, concurrentAnalysis: false, logAnalyzerExecutionTime: false, reportSuppressedDiagnostics: true))
            .GetAllDiagnosticsAsync().GetAwaiter().GetResult()
            .Where(static d => d.Id == "CA1822")
            .ToList();
    }

    private static string Method(Diagnostic diagnostic)
        => diagnostic.Location.SourceTree!.GetRoot().FindToken(diagnostic.Location.SourceSpan.Start).ValueText;

    private static string Where(Diagnostic diagnostic)
    {
        var token = diagnostic.Location.SourceTree!.GetRoot().FindToken(diagnostic.Location.SourceSpan.Start);
        return token.Parent!.FirstAncestorOrSelf<TypeDeclarationSyntax>()!.Identifier.ValueText + "." + token.ValueText;
    }

    /// <summary>Reports CA1822 at the name of each method it is given, as the SDK's analyzer does for a method that could be static.</summary>
    // A test double, run only by this test (RS1036 asks analyzer projects for the extended rules, which a test
    // project is not).
#pragma warning disable RS1036
    [DiagnosticAnalyzer(LanguageNames.CSharp)]
    private sealed class MarksAsStatic(string[] methods) : DiagnosticAnalyzer
#pragma warning restore RS1036
    {
        // The SDK's rule, stood in for: its id is the point (RS1029), and a test double has no releases (RS2008).
#pragma warning disable RS1029, RS2008
        private static readonly DiagnosticDescriptor s_rule = new(
            "CA1822", "Mark members as static", "Member '{0}' does not access instance data and can be marked as static",
            "Performance", DiagnosticSeverity.Warning, isEnabledByDefault: true);
#pragma warning restore RS1029, RS2008

        public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [s_rule];

        public override void Initialize(AnalysisContext context)
        {
            context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
            context.EnableConcurrentExecution();
            context.RegisterSyntaxNodeAction(
                node =>
                {
                    var declaration = (MethodDeclarationSyntax)node.Node;
                    if (methods.Contains(declaration.Identifier.ValueText) && (declaration.Body is not null || declaration.ExpressionBody is not null))
                    {
                        node.ReportDiagnostic(Diagnostic.Create(s_rule, declaration.Identifier.GetLocation(), declaration.Identifier.ValueText));
                    }
                },
                SyntaxKind.MethodDeclaration);
        }
    }
}
