using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Generators.Tests.Infrastructure;

/// <summary>Runs the generator on source text with CSharpGeneratorDriver, against the real Cached.Core.</summary>
internal static class GeneratorRunner
{
    private static readonly ImmutableArray<MetadataReference> s_references = LoadReferences();

    public static CSharpCompilation Compile(params string[] sources) => Compile(LanguageVersion.Latest, sources);

    /// <summary>The sources parsed at <paramref name="version"/>, as in a project that sets <c>LangVersion</c>.</summary>
    public static CSharpCompilation Compile(LanguageVersion version, params string[] sources)
        => CSharpCompilation.Create(
            "Scenario",
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, new CSharpParseOptions(version), path: $"Source{i}.cs")),
            s_references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorRunResult Run(params string[] sources) => Run(Compile(sources));

    /// <summary>Runs the generator at <paramref name="version"/>: the user's sources and the generated files are parsed at it.</summary>
    public static GeneratorRunResult Run(LanguageVersion version, params string[] sources)
        => Run(Compile(version, sources), new CSharpParseOptions(version));

    /// <summary>
    /// Runs the generator on a compilation, with its options (diagnostic severities among them); the generated files
    /// are parsed with <paramref name="parseOptions"/>, the latest language version when not given.
    /// </summary>
    public static GeneratorRunResult Run(CSharpCompilation compilation, CSharpParseOptions? parseOptions = null)
    {
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            [new CachedGenerator().AsSourceGenerator()],
            parseOptions: parseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        return new GeneratorRunResult(driver, compilation, output, generatorDiagnostics);
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return platform
            .Append(typeof(Cached.ICache).Assembly.Location)
            .Distinct()
            .Select(static path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToImmutableArray();
    }
}

internal sealed record GeneratorRunResult(GeneratorDriver Driver, Compilation Input, Compilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics)
{
    /// <summary>The generated files, by hint name.</summary>
    public IReadOnlyDictionary<string, string> Sources => Driver.GetRunResult().Results
        .SelectMany(static r => r.GeneratedSources)
        .ToDictionary(static s => s.HintName, static s => s.SourceText.ToString());

    /// <summary>Errors and warnings of the compilation with the generated code.</summary>
    public IReadOnlyList<Diagnostic> CompilationProblems => Output.GetDiagnostics()
        .Where(static d => d.Severity >= DiagnosticSeverity.Warning)
        .ToList();
}
