using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace Cached.Generators.Tests.Infrastructure;

/// <summary>
/// System.Text.Json's source generator, loaded from where the test project's own build found it
/// (tests/SystemTextJsonGenerator.targets), so that code with a JsonSerializerContext compiles as it does in a build.
/// </summary>
internal static class SystemTextJsonGenerator
{
    private static readonly Lazy<ISourceGenerator> s_generator = new(Load);

    public static ISourceGenerator Instance => s_generator.Value;

    private static ISourceGenerator Load()
    {
        var path = typeof(SystemTextJsonGenerator).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(static a => a.Key == "SystemTextJsonGenerator")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException($"System.Text.Json's source generator was not found (recorded path: '{path}'); see tests/SystemTextJsonGenerator.targets.");
        }

        return new AnalyzerFileReference(path, new Loader()).GetGenerators(LanguageNames.CSharp).Single();
    }

    private sealed class Loader : IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }
}
