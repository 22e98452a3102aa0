namespace Cached.Generators;

/// <summary>The version written into [GeneratedCode]; kept equal to the package version in Directory.Build.props.</summary>
internal static class ThisAssembly
{
    public const string Version = "0.1.0";
}
