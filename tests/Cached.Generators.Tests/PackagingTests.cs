using Cached.Generators.Tests.Infrastructure;
using Cached.Redis.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// Packs Cached.Core and Cached.Redis, then builds a user's project (tests/Packaging/Consumer) that has only their
/// <c>&lt;PackageReference&gt;</c>s from a local feed: the generator must ride inside the package, the [Cached] method
/// must run, and the same project must publish and run with NativeAOT, caching in Redis as JSON through its own
/// JsonSerializerContext.
/// </summary>
[Category("Packaging")]
public sealed class PackagingTests
{
    private const string ExpectedOutput = "Lisbon 21.5 | same: True | body calls: 1";

    // From Redis the second call gets a copy read back from JSON; a new process finds the entry the first one stored.
    private const string FirstRedisRun = "Lisbon 21.5 | same: False | body calls: 1";
    private const string NextRedisRun = "Lisbon 21.5 | same: False | body calls: 0";

    /// <summary>
    /// The builds these tests start leave no MSBuild node or compiler server running after them: such a server
    /// outlives the test run, keeps the machine busy for the projects still testing, and may hold the output pipes
    /// the test reads to their end.
    /// </summary>
    private const string NoBuildServers = PackedFeed.NoBuildServers;

    private PackedFeed _feed = null!;
    private string _work = null!;
    private string _version = null!;

    [OneTimeSetUp]
    public void PackCachedCore()
    {
        _feed = PackedFeed.Create("Consumer", "packaging");
        (_work, _version) = (_feed.Work, _feed.Version);
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        _feed.Dispose();
    }

    [TestCase("Cached.Core")]
    [TestCase("Cached.Redis")]
    [TestCase("Cached.MessagePack")]
    public void Each_package_stands_alone_on_its_package_page(string id)
    {
        using var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(_work, "feed", $"{id}.{_version}.nupkg"));
        var nuspec = System.Xml.Linq.XDocument.Load(package.Entries.Single(static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        string Field(string name) => nuspec.Descendants().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";

        Assert.That(Field("readme"), Is.EqualTo("README.md"));
        Assert.That(Field("description"), Has.Length.GreaterThan(40));
        Assert.That(Field("tags").Split(' ', StringSplitOptions.RemoveEmptyEntries), Has.Length.GreaterThanOrEqualTo(3));

        using var reader = new StreamReader(package.GetEntry("README.md")!.Open());
        var readme = reader.ReadToEnd();
        Assert.That(readme, Does.StartWith($"# {id}\n"), "its own readme, not the repository's");
        // A package page has no repository around it: every link must be absolute, and no path may point into one.
        Assert.That(System.Text.RegularExpressions.Regex.Matches(readme, @"\]\((?!https?://)[^)]*\)").Select(static m => m.Value), Is.Empty);
        Assert.That(System.Text.RegularExpressions.Regex.Matches(readme, @"(docs|samples|src|tests)/[\w./-]+").Select(static m => m.Value), Is.Empty);
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
        Assert.That(entries, Does.Contain("build/Cached.Core.props"), "the build properties CACHED021 reads");
        Assert.That(entries, Does.Contain("buildTransitive/Cached.Core.props"));
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
    public void Without_its_JsonSerializerContext_the_project_is_told_at_build_time()
    {
        // The package's build properties tell the analyzer that the project is AOT-compatible, and Cached.Redis is
        // referenced, so the [Cached] method may store its Forecast as JSON with no metadata for it.
        var output = Run(_work, "dotnet", "build", NoBuildServers, "-c", "Debug", $"-p:CachedVersion={_version}",
            "-p:CachedWithoutJsonContext=true", "-p:TreatWarningsAsErrors=false", "-o", "no-context");

        Assert.That(output, Does.Match(@"Program\.cs\(\d+,\d+\): warning CACHED021: 'Weather\.GetForecastAsync' .*\[JsonSerializable\(typeof\(Forecast\)\)\]"));
    }

    [Test]
    public void The_same_project_publishes_and_runs_with_NativeAOT_without_warnings_and_caches_in_Redis()
    {
        var arguments = new List<string> { "publish", NoBuildServers, "-c", "Release", $"-p:CachedVersion={_version}", "-p:PublishAot=true", "-o", "aot" };
        if (!OnPath("clang") && OnPath("clang-14"))
        {
            arguments.Add("-p:CppCompilerAndLinker=clang-14");
        }

        var publish = Run(_work, "dotnet", [.. arguments]);
        Assert.That(publish, Does.Not.Contain("warning IL"), "trim and AOT analysis must be clean");
        Assert.That(publish, Does.Not.Contain("warning CACHED"), "the project's context covers its cached result");

        var consumer = Path.Combine(_work, "aot", "Consumer");
        Assert.That(Run(_work, consumer), Does.Contain(ExpectedOutput));

        using var redis = new RedisServer();
        var port = redis.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(Run(_work, consumer, port), Does.Contain(FirstRedisRun), "the second call is served from Redis");
        Assert.That(Run(_work, "redis-cli", "-h", "127.0.0.1", "-p", port, "GET", "forecast:Lisbon").Trim(), Is.EqualTo("""{"City":"Lisbon","Celsius":21.5}"""), "the entry is JSON written through the context");
        Assert.That(Run(_work, consumer, port), Does.Contain(NextRedisRun), "a new process reads the entry back");
    }

    private static string Run(string directory, string program, params string[] arguments) => PackedFeed.Run(directory, program, arguments);

    private static bool OnPath(string program) => PackedFeed.OnPath(program);

}
