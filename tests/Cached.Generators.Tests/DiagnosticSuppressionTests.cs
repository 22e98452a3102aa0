using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using GeneratorRunResult = Cached.Generators.Tests.Infrastructure.GeneratorRunResult;

namespace Cached.Generators.Tests;

/// <summary>
/// The generator's diagnostics are configured like the compiler's own: <c>#pragma warning disable</c>,
/// <c>&lt;NoWarn&gt;</c> and an .editorconfig severity all apply, first through the generator driver with the options
/// the compiler would give it, then in a real <c>dotnet build</c>.
/// </summary>
public sealed class DiagnosticSuppressionTests
{
    private const string Filter = """
        namespace Demo;
        public sealed class Filter { public int Page { get; set; } }
        """;

    /// <summary>A service whose key parameter has no value-based ToString: CACHED012, a warning.</summary>
    private static string Service(string name, string before = "", string after = "") => $$"""
        using Cached;
        namespace Demo;
        public partial class {{name}}
        {
        {{before}}
            [Cached]
            public partial string Search(Filter filter);
        {{after}}
            private string SearchCore(Filter filter) => "x" + filter.Page;
        }
        """;

    /// <summary>
    /// The diagnostics a user sees. Like the compiler's own, one disabled by a pragma is still reported, marked
    /// suppressed (a build log can list it); the build does not print it.
    /// </summary>
    private static string[] Reported(GeneratorRunResult run)
        => run.GeneratorDiagnostics.Where(static d => !d.IsSuppressed).Select(static d => $"{d.Id} {d.Severity}").ToArray();

    [Test]
    public void CACHED012_is_reported_as_a_warning_without_configuration()
    {
        var run = GeneratorRunner.Run(GeneratorRunner.Compile(Service("Search"), Filter));
        Assert.That(Reported(run), Is.EqualTo(new[] { "CACHED012 Warning" }));
    }

    [Test]
    public void CACHED012_is_silenced_by_pragma_warning_disable_around_the_method()
    {
        var run = GeneratorRunner.Run(GeneratorRunner.Compile(
            Service("Search", before: "#pragma warning disable CACHED012", after: "#pragma warning restore CACHED012"), Filter));
        Assert.That(Reported(run), Is.Empty);
        Assert.That(run.GeneratorDiagnostics.Single().IsSuppressed, Is.True);
    }

    [Test]
    public void CACHED012_after_a_pragma_restore_is_reported_again()
    {
        var run = GeneratorRunner.Run(GeneratorRunner.Compile(
            Service("Search", before: "#pragma warning disable CACHED012\n#pragma warning restore CACHED012"), Filter));
        Assert.That(Reported(run), Is.EqualTo(new[] { "CACHED012 Warning" }));
    }

    [Test]
    public void CACHED012_is_silenced_by_NoWarn()
    {
        var compilation = GeneratorRunner.Compile(Service("Search"), Filter);
        compilation = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(
            new Dictionary<string, ReportDiagnostic> { ["CACHED012"] = ReportDiagnostic.Suppress }));
        Assert.That(Reported(GeneratorRunner.Run(compilation)), Is.Empty);
    }

    [TestCase(ReportDiagnostic.Suppress, new string[0], TestName = "CACHED012_is_silenced_in_a_file_whose_editorconfig_severity_is_none")]
    [TestCase(ReportDiagnostic.Error, new[] { "CACHED012 Error" }, TestName = "CACHED012_is_an_error_in_a_file_whose_editorconfig_severity_is_error")]
    public void CACHED012_follows_the_editorconfig_severity_of_its_file(ReportDiagnostic severity, string[] expected)
    {
        var compilation = GeneratorRunner.Compile(Service("Search"), Filter);
        var service = compilation.SyntaxTrees.Single(static t => t.FilePath == "Source0.cs");
        compilation = compilation.WithOptions(compilation.Options.WithSyntaxTreeOptionsProvider(new FileSeverities(service, "CACHED012", severity)));
        Assert.That(Reported(GeneratorRunner.Run(compilation)), Is.EqualTo(expected));
    }

    /// <summary>An [InvalidateTags] method without Alias in a type without tagged methods: CACHED026, on the attribute.</summary>
    private const string NothingTagged = """
        using Cached;
        namespace Demo;
        public partial class Users
        {
        #pragma warning disable CACHED026
            [InvalidateTags("user:{id}")]
        #pragma warning restore CACHED026
            public partial void Rename(int id);
            private void RenameCore(int id) { }
        }
        """;

    [Test]
    public void CACHED026_is_silenced_by_pragma_warning_disable_around_the_attribute()
    {
        var run = GeneratorRunner.Run(GeneratorRunner.Compile(NothingTagged));
        Assert.That(Reported(run), Is.Empty);
        Assert.That(run.GeneratorDiagnostics.Single().Id, Is.EqualTo("CACHED026"));
        Assert.That(run.GeneratorDiagnostics.Single().IsSuppressed, Is.True);

        var unsuppressed = GeneratorRunner.Run(GeneratorRunner.Compile(NothingTagged.Replace("#pragma warning disable CACHED026", string.Empty, StringComparison.Ordinal)));
        Assert.That(Reported(unsuppressed), Is.EqualTo(new[] { "CACHED026 Warning" }));
    }

    [Test]
    public void CACHED026_is_silenced_by_NoWarn()
    {
        var compilation = GeneratorRunner.Compile(NothingTagged.Replace("#pragma warning disable CACHED026", string.Empty, StringComparison.Ordinal));
        compilation = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(
            new Dictionary<string, ReportDiagnostic> { ["CACHED026"] = ReportDiagnostic.Suppress }));
        Assert.That(Reported(GeneratorRunner.Run(compilation)), Is.Empty);
    }

    /// <summary>
    /// A project built by the SDK with the generator as an analyzer: its warnings as the user sees them. One file
    /// keeps the warning, one disables it with a pragma, one sits under an .editorconfig that silences it and one
    /// under an .editorconfig that makes it an error; a second build adds <c>NoWarn</c>.
    /// </summary>
    [Test]
    [Category("Build")]
    public void A_real_build_applies_pragma_editorconfig_and_NoWarn_to_the_generator_warnings()
    {
        var work = Directory.CreateTempSubdirectory("cached-suppression-").FullName;
        try
        {
            WriteConsumer(work);

            var first = Build(work);
            Assert.That(first, Does.Match(@"Warned\.cs\(\d+,\d+\): warning CACHED012"), first);
            Assert.That(first, Does.Match(@"Strict\.cs\(\d+,\d+\): error CACHED012"), first);
            Assert.That(first, Does.Not.Contain("Pragma.cs("), first);
            Assert.That(first, Does.Not.Contain("Quiet.cs("), first);

            var second = Build(work, "-p:NoWarn=CACHED012");
            Assert.That(second, Does.Not.Contain("Warned.cs("), second);
            Assert.That(second, Does.Not.Contain("Pragma.cs("), second);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void WriteConsumer(string work)
    {
        ConsumerProject.Write(work, Directory.GetFiles(AppContext.BaseDirectory, "Microsoft.Extensions.*.dll"));
        File.WriteAllText(Path.Combine(work, ".editorconfig"), "root = true\n");
        File.WriteAllText(Path.Combine(work, "Filter.cs"), Filter);
        File.WriteAllText(Path.Combine(work, "Warned.cs"), Service("Warned"));
        File.WriteAllText(Path.Combine(work, "Pragma.cs"), Service("Pragma", before: "#pragma warning disable CACHED012", after: "#pragma warning restore CACHED012"));
        foreach (var (folder, severity) in new[] { ("Quiet", "none"), ("Strict", "error") })
        {
            Directory.CreateDirectory(Path.Combine(work, folder));
            File.WriteAllText(Path.Combine(work, folder, ".editorconfig"), $"[*.cs]\ndotnet_diagnostic.CACHED012.severity = {severity}\n");
            File.WriteAllText(Path.Combine(work, folder, folder + ".cs"), Service(folder));
        }
    }

    /// <summary>Builds the consumer from scratch and returns the build's output; the build may fail (Strict.cs).</summary>
    private static string Build(string directory, params string[] arguments)
    {
        // No build server may outlive the test; every build compiles again, so a change of NoWarn is seen.
        string[] build = ["build", "--disable-build-servers", "--no-incremental", "-c", "Debug", "-nologo"];
        return ProcessRunner.Run(directory, "dotnet", [.. build, .. arguments]).Output;
    }

    /// <summary>What the compiler makes of an .editorconfig: a severity for one diagnostic in one file.</summary>
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
}
