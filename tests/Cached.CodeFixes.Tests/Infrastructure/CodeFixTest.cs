using System.Collections.Immutable;
using Cached.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace Cached.CodeFixes.Tests.Infrastructure;

/// <summary>
/// A code-fix test whose diagnostics come from the generator itself, as in the IDE: the test library runs
/// <see cref="CachedGenerator"/> on the code before and after the fix, adds what it generates to the compilation and
/// checks the generator's diagnostics with the compiler's, warnings included. So the fixed code must compile, generated
/// part and all, with exactly the diagnostics the test expects, usually none. There is no analyzer: Cached reports
/// these diagnostics from the generator only.
/// </summary>
internal sealed class CodeFixTest<TCodeFix> : CSharpCodeFixTest<EmptyDiagnosticAnalyzer, TCodeFix, DefaultVerifier>
    where TCodeFix : CodeFixProvider, new()
{
    /// <summary>The assemblies of the running .NET and Cached.Core: no reference package to fetch.</summary>
    private static readonly ImmutableArray<MetadataReference> s_references =
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(ICache).Assembly.Location)
            .Distinct()
            .Select(static path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();

    public CodeFixTest()
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(s_references);
        CompilerDiagnostics = CompilerDiagnostics.Warnings;
        // What the generator writes is checked by its own snapshot tests; here it only has to compile.
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        SolutionTransforms.Add(static (solution, projectId) =>
        {
            var options = (CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!;
            // The library parses doc comments, so every public type would need one (CS1591): not what these tests are about.
            return solution.WithProjectCompilationOptions(projectId, options
                .WithNullableContextOptions(NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(options.SpecificDiagnosticOptions.SetItem("CS1591", ReportDiagnostic.Suppress)));
        });
    }

    protected override IEnumerable<Type> GetSourceGenerators()
    {
        yield return typeof(CachedGenerator);
    }

    protected override ParseOptions CreateParseOptions()
        => ((CSharpParseOptions)base.CreateParseOptions()).WithLanguageVersion(LanguageVersion.Latest);
}
