namespace Cached.Generators.Tests.Infrastructure;

/// <summary>
/// A project of a user's, for tests that build with the real SDK: it references the Cached.Core and generator this
/// test run built (as the package would bring them), and stands outside the repository's build props and settings.
/// </summary>
internal static class ConsumerProject
{
    /// <summary>Writes Consumer.csproj into <paramref name="work"/>, referencing <paramref name="extraReferences"/> too.</summary>
    public static void Write(string work, IEnumerable<string>? extraReferences = null)
    {
        var bin = AppContext.BaseDirectory;
        var references = string.Join(Environment.NewLine, (extraReferences ?? [])
            .Append(Path.Combine(bin, "Cached.Core.dll"))
            .Select(static path => $"    <Reference Include=\"{path}\" />"));
        File.WriteAllText(Path.Combine(work, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
              </PropertyGroup>
              <ItemGroup>
            {references}
                <Analyzer Include="{Path.Combine(bin, "Cached.Generators.dll")}" />
              </ItemGroup>
            </Project>
            """);
        // Outside the repository, so none of its build props or analyzer settings apply.
        File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(work, "Directory.Packages.props"), "<Project />");
    }
}
