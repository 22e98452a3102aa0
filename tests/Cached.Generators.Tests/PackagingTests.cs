using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// Packs Cached.Core, then builds a user's project (tests/Packaging/Consumer) that has only
/// <c>&lt;PackageReference Include="Cached.Core" /&gt;</c> from a local feed: the generator must ride inside the
/// package, the [Cached] method must run, and the same project must publish and run with NativeAOT.
/// </summary>
[Category("Packaging")]
public sealed class PackagingTests
{
    private const string ExpectedOutput = "Lisbon 21.5 | same: True | body calls: 1";

    /// <summary>
    /// The builds these tests start leave no MSBuild node or compiler server running after them: such a server
    /// outlives the test run, keeps the machine busy for the projects still testing, and may hold the output pipes
    /// the test reads to their end.
    /// </summary>
    private const string NoBuildServers = "--disable-build-servers";

    private string _work = null!;
    private string _version = null!;

    [OneTimeSetUp]
    public void PackCachedCore()
    {
        _work = Directory.CreateTempSubdirectory("cached-packaging-").FullName;
        _version = "0.0.0-packaging" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var root = RepositoryRoot();
        Run(root, "dotnet", "pack", NoBuildServers, Path.Combine("src", "Cached.Core", "Cached.Core.csproj"), "-c", "Release", "-o", Path.Combine(_work, "feed"), $"-p:Version={_version}");

        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests", "Packaging", "Consumer")))
        {
            File.Copy(file, Path.Combine(_work, Path.GetFileName(file)));
        }

        // Outside the repository: none of its build props apply, only the feed and the machine's own sources.
        File.WriteAllText(Path.Combine(_work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(_work, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(_work, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="cached-local" value="feed" />
              </packageSources>
            </configuration>
            """);
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        Directory.Delete(_work, recursive: true);
        var extracted = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "cached.core", _version);
        if (Directory.Exists(extracted))
        {
            Directory.Delete(extracted, recursive: true);
        }
    }

    [Test]
    public void The_package_carries_the_generator_and_its_code_fixes_as_analyzers()
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_work, "feed", $"Cached.Core.{_version}.nupkg"));
        var entries = package.Entries.Select(static e => e.FullName).ToList();

        Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Cached.Generators.dll"));
        Assert.That(entries, Does.Contain("analyzers/dotnet/cs/Cached.CodeFixes.dll"));
        Assert.That(entries, Does.Contain("lib/net8.0/Cached.Core.dll"));
        Assert.That(entries, Does.Contain("lib/net10.0/Cached.Core.dll"));
    }

    [Test]
    public void A_project_with_only_the_package_compiles_and_runs_a_cached_method()
    {
        var output = Run(_work, "dotnet", "run", NoBuildServers, "-c", "Debug", $"-p:CachedVersion={_version}");

        Assert.That(output, Does.Contain(ExpectedOutput));
    }

    /// <summary>
    /// The compiler loads every assembly in analyzers/dotnet/cs, the code fixes' too, which need the IDE's Workspaces
    /// assemblies: it must find nothing to run there, or it warns that it cannot load or create an analyzer
    /// (CS8032, AD0001). The consumer treats warnings as errors; the build is made anew and its log read as well.
    /// </summary>
    [Test]
    public void The_compiler_builds_the_project_without_a_warning_about_the_analyzer_assemblies()
    {
        var output = Run(_work, "dotnet", "build", NoBuildServers, "--no-incremental", "-c", "Debug", $"-p:CachedVersion={_version}");

        Assert.That(output, Does.Not.Contain("CS8032").And.Not.Contain("AD0001").And.Not.Contain("CS8784"));
        Assert.That(output, Does.Contain("0 Warning(s)"));
    }

    [Test]
    public void The_same_project_publishes_and_runs_with_NativeAOT_without_warnings()
    {
        var arguments = new List<string> { "publish", NoBuildServers, "-c", "Release", $"-p:CachedVersion={_version}", "-p:PublishAot=true", "-o", "aot" };
        if (!OnPath("clang") && OnPath("clang-14"))
        {
            arguments.Add("-p:CppCompilerAndLinker=clang-14");
        }

        var publish = Run(_work, "dotnet", [.. arguments]);
        Assert.That(publish, Does.Not.Contain("warning IL"), "trim and AOT analysis must be clean");

        var output = Run(_work, Path.Combine(_work, "aot", "Consumer"));
        Assert.That(output, Does.Contain(ExpectedOutput));
    }

    private static string Run(string directory, string program, params string[] arguments)
    {
        var (exitCode, output) = ProcessRunner.Run(directory, program, arguments);
        Assert.That(exitCode, Is.EqualTo(0), $"{program} {string.Join(' ', arguments)} failed:\n{output}");
        return output;
    }

    private static bool OnPath(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, program)));

    private static string RepositoryRoot()
    {
        for (var dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "Cached.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("Cached.sln was not found above " + AppContext.BaseDirectory);
    }
}
