namespace Cached.Generators.Tests.Infrastructure;

/// <summary>
/// Cached's three packages packed into a local feed inside a work directory, with a consumer project copied beside it
/// that restores from that feed and sees none of the repository's build props: the project a new user would have.
/// </summary>
internal sealed class PackedFeed : IDisposable
{
    /// <summary>Each dotnet command runs without the shared build servers, so that no server outlives the test's files.</summary>
    public const string NoBuildServers = "--disable-build-servers";

    public static IReadOnlyList<string> Packages { get; } = ["Cached.Core", "Cached.Redis", "Cached.MessagePack"];

    private PackedFeed(string work, string version)
    {
        Work = work;
        Version = version;
    }

    /// <summary>The directory of the feed (<c>feed</c>) and of the consumer project.</summary>
    public string Work { get; }

    /// <summary>The packages' version, unique to this run, which the consumer takes as <c>-p:CachedVersion=</c>.</summary>
    public string Version { get; }

    /// <summary>Packs the packages and copies the consumer project of <c>tests/Packaging/<paramref name="consumer"/></c> into a new work directory.</summary>
    public static PackedFeed Create(string consumer, string versionTag)
    {
        var feed = new PackedFeed(
            Directory.CreateTempSubdirectory($"cached-{versionTag}-").FullName,
            $"0.0.0-{versionTag}" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture));
        var root = RepositoryRoot();
        foreach (var project in Packages)
        {
            Run(root, "dotnet", "pack", NoBuildServers, Path.Combine("src", project, project + ".csproj"), "-c", "Release", "-o", Path.Combine(feed.Work, "feed"), $"-p:Version={feed.Version}");
        }

        foreach (var file in Directory.GetFiles(Path.Combine(root, "tests", "Packaging", consumer)))
        {
            File.Copy(file, Path.Combine(feed.Work, Path.GetFileName(file)));
        }

        // Outside the repository: none of its build props apply, only the feed and the machine's own sources.
        File.WriteAllText(Path.Combine(feed.Work, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(feed.Work, "Directory.Packages.props"), "<Project />");
        File.WriteAllText(Path.Combine(feed.Work, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="cached-local" value="feed" />
              </packageSources>
            </configuration>
            """);
        return feed;
    }

    /// <summary>The directory of Cached.sln, above the test's own.</summary>
    public static string RepositoryRoot()
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

    /// <summary>Whether a program is on the PATH.</summary>
    public static bool OnPath(string program)
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(dir => File.Exists(Path.Combine(dir, program)));

    /// <summary>Runs a program to its end; a failure fails the test with the program's output.</summary>
    public static string Run(string directory, string program, params string[] arguments)
    {
        var (exitCode, output) = ProcessRunner.Run(directory, program, arguments);
        Assert.That(exitCode, Is.EqualTo(0), $"{program} {string.Join(' ', arguments)} failed:\n{output}");
        return output;
    }

    /// <summary>Deletes the work directory and the packages of this version that restores extracted.</summary>
    public void Dispose()
    {
        Directory.Delete(Work, recursive: true);
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in Packages.Select(static p => p.ToLowerInvariant()))
        {
            var extracted = Path.Combine(packages, id, Version);
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }
        }
    }
}
