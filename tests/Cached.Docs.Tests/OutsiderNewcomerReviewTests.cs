using System.Collections.Immutable;
using System.Diagnostics;
using System.IO.Compression;
using System.Xml.Linq;
using Cached.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Cached.Docs.Tests;

/// <summary>
/// A newcomer's first hour with the packed packages (an outsider's review): what a user who has only the NuGet
/// packages, the package readmes and the build output meets. The first tests run the generator in process on a
/// user's source; the fixture below packs Cached.Core and Cached.Redis and builds small projects against them.
/// </summary>
public sealed class OutsiderNewcomerReviewTests
{
    // ---------------------------------------------------------------- diagnostics a package user can follow

    // Every CACHED error ends in "(docs/diagnostics.md#cachednnn)" and its help link (what the IDE opens from the
    // error list, and what SARIF logs carry as helpUri) is that same relative path. A package user has no docs/ folder
    // and the package names no repository URL, so the link leads nowhere.
    [Test]
    [Ignore("Blocked: the project has no public repository or documentation URL yet, so neither the help links (DiagnosticDescriptors.HelpBase) nor the packages (PackageProjectUrl/RepositoryUrl) can name one; the maintainers must choose it")]
    public void The_help_link_of_a_generator_diagnostic_is_an_absolute_url()
    {
        var diagnostics = Generate("""
            using Cached;
            public partial class Bad
            {
                [Cached] public int NotPartial(int id) => id;
                [Cached] public partial int NoCore(int id);
                [Cached] public partial int RefParam(ref int id);
                private int RefParamCore(ref int id) => id;
                [Cached(Key = "u:{idd}")] public partial int BadKey(int id);
                private int BadKeyCore(int id) => id;
            }
            """).Where(static d => d.Id.StartsWith("CACHED", StringComparison.Ordinal)).ToList();

        Assert.That(diagnostics.Select(static d => d.Id), Is.SupersetOf(new[] { "CACHED001", "CACHED002", "CACHED003", "CACHED005" }));
        Assert.Multiple(() =>
        {
            foreach (var d in diagnostics)
            {
                var link = d.Descriptor.HelpLinkUri;
                Assert.That(Uri.TryCreate(link, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp), Is.True,
                    $"{d.Id}: help link '{link}' is not a URL a package user can open");
            }
        });
    }

    // ---------------------------------------------------------------- generated code and the user's parameter names

    // The reviewer's finding: a parameter named '__key' (the generated method's key local) or '__cached_<Name>' (its
    // state field) broke the build inside the generated file (CS0136, CS1061) with no word of why. C# keeps names with
    // two underscores for the implementation; the generator now refuses such a parameter with CACHED003, on the
    // parameter, and writes nothing that fails (docs/diagnostics.md#cached003).
    [TestCase("[Cached] public partial int M(int id, int __key);", "private int MCore(int id, int __key) => id + __key;", "__key")]
    [TestCase("[Cached] public partial ValueTask<int> C(int __cached_C);", "private ValueTask<int> CCore(int __cached_C) => new(__cached_C);", "__cached_C")]
    public void A_parameter_named_like_a_generated_name_is_refused_with_CACHED003_not_a_broken_generated_file(string method, string core, string name)
    {
        var errors = CompileErrors($$"""
            using Cached;
            using System.Threading.Tasks;
            public partial class Hygiene
            {
                {{method}}
                {{core}}
            }
            """);

        Assert.That(errors.Where(static e => e.Contains("CACHED003")).ToList(), Has.Count.EqualTo(1).And.Some.Contain("'" + name + "'"));
        Assert.That(errors.Where(static e => e.Contains(".g.cs")), Is.Empty, "no error inside generated code");
    }

    private static readonly CSharpParseOptions s_parse = new(LanguageVersion.Latest);

    private static ImmutableArray<Diagnostic> Generate(string source, out Compilation output)
    {
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Append(typeof(CachedAttribute).Assembly.Location)
            .Distinct()
            .Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(
            "NewcomerReview",
            [CSharpSyntaxTree.ParseText(source, s_parse)],
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new CachedGenerator().AsSourceGenerator()], parseOptions: s_parse);
        driver.RunGeneratorsAndUpdateCompilation(compilation, out output, out var diagnostics);
        return diagnostics;
    }

    private static IEnumerable<Diagnostic> Generate(string source) => Generate(source, out _);

    private static List<string> CompileErrors(string source)
    {
        var generatorDiagnostics = Generate(source, out var output);
        return generatorDiagnostics.Concat(output.GetDiagnostics())
            .Where(static d => d.Severity == DiagnosticSeverity.Error)
            .Select(static d => d.ToString())
            .ToList();
    }
}

/// <summary>
/// Packs Cached.Core and Cached.Redis into a local feed, as tests/Cached.Generators.Tests/PackagingTests.cs does, and
/// builds a newcomer's projects against that feed alone.
/// </summary>
[Category("Packaging")]
[NonParallelizable]
public sealed class OutsiderNewcomerPackageReviewTests
{
    private const string NoBuildServers = "--disable-build-servers";
    private static readonly string[] s_packages = ["Cached.Core", "Cached.Redis"];

    private string _work = null!;
    private string _version = null!;

    [OneTimeSetUp]
    public void Pack()
    {
        _work = Directory.CreateTempSubdirectory("cached-newcomer-").FullName;
        _version = "0.0.0-newcomer" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var root = Infrastructure.Repository.Root;
        foreach (var project in s_packages)
        {
            Run(root, "dotnet", "pack", NoBuildServers, Path.Combine("src", project, project + ".csproj"), "-c", "Release", "-o", Path.Combine(_work, "feed"), $"-p:Version={_version}");
        }

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
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (var id in s_packages.Select(static p => p.ToLowerInvariant()))
        {
            var extracted = Path.Combine(packages, id, _version);
            if (Directory.Exists(extracted))
            {
                Directory.Delete(extracted, recursive: true);
            }
        }
    }

    // Each package readme ends with "The full documentation is in the docs folder of the source repository", and every
    // diagnostic points into docs/diagnostics.md; but the nuspec has neither projectUrl nor a repository url (only
    // <repository type="git" commit="..."/>), so nuget.org shows no link to that repository.
    [TestCase("Cached.Core")]
    [TestCase("Cached.Redis")]
    [Ignore("Blocked: the project has no public repository or documentation URL yet, so neither the help links (DiagnosticDescriptors.HelpBase) nor the packages (PackageProjectUrl/RepositoryUrl) can name one; the maintainers must choose it")]
    public void The_package_links_to_the_repository_its_readme_sends_users_to(string id)
    {
        using var package = ZipFile.OpenRead(Path.Combine(_work, "feed", $"{id}.{_version}.nupkg"));
        var nuspec = XDocument.Load(package.Entries.Single(static e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var projectUrl = nuspec.Descendants().SingleOrDefault(static e => e.Name.LocalName == "projectUrl")?.Value;
        var repositoryUrl = nuspec.Descendants().SingleOrDefault(static e => e.Name.LocalName == "repository")?.Attribute("url")?.Value;

        Assert.That(projectUrl ?? repositoryUrl, Is.Not.Null.And.Not.Empty, "no projectUrl and no repository url in the nuspec");
    }

    // A trimmed application that names Cached.Redis.RedisCache in configuration, with the Cached.Redis package
    // referenced: the IL2026 warning at Caches.Get says what to do, but the exception at run time tells the user to
    // add a package the project already references ("... is in the Cached.Redis package, which the application does
    // not reference: add it (dotnet add package Cached.Redis)"), instead of saying the type was trimmed away.
    [Test]
    public void A_trimmed_away_cache_type_is_reported_with_trimming_as_a_cause()
    {
        var dir = Project("trimmed", "Microsoft.NET.Sdk", """
            using Cached;
            Caches.SetConfig(new Dictionary<string, CacheConfig>
            {
                ["default"] = new() { Cache = "Cached.SimpleMemoryCache" },
                ["redis"] = new() { Cache = "Cached.Redis.RedisCache", ["Port"] = "1" },
            });
            try { Caches.Get("redis"); Console.WriteLine("made"); }
            catch (Exception e) { Console.WriteLine(e.GetType().Name + ": " + e.Message); }
            """);

        Assert.That(Run(dir, "dotnet", "run", NoBuildServers, $"-p:CachedVersion={_version}"), Does.Contain("made"), "untrimmed, the alias is made");
        Run(dir, "dotnet", "publish", NoBuildServers, "-c", "Release", "-r", "linux-x64", "--self-contained", "-p:PublishTrimmed=true",
            "-p:TreatWarningsAsErrors=false", $"-p:CachedVersion={_version}", "-o", "out");
        var output = Run(dir, Path.Combine(dir, "out", "trimmed"));

        // The message now names both causes: a missing reference, and trimming (with what to do about it).
        Assert.That(output, Does.Contain("CacheConfigurationException"));
        Assert.That(output, Does.Contain("trimming removed").And.Contain("Caches.AddInstance"), "the project references Cached.Redis; trimming removed the type");
    }

    // The reviewer's finding: README said, without a condition, "a host built with AddCached does not start while an
    // alias a method names is missing", but a method's alias registers when its assembly loads, and a library first
    // used inside an endpoint's body loads after the host started. README now says so: "a library first loaded later
    // reports its missing alias at its first call, log event 12, and runs uncached". This checks that sentence.
    [Test]
    public void A_library_first_loaded_after_the_host_started_reports_its_missing_alias_at_its_first_call_as_the_README_says()
    {
        var lib = Project("lib", "Microsoft.NET.Sdk", """
            using Cached;
            namespace Lib;
            public partial class LibService
            {
                [Cached(Alias = "libalias", Ttl = 60)]
                public partial string Get(int id);
                private string GetCore(int id) => "lib" + id;
            }
            """, library: true);
        var app = Project("app", "Microsoft.NET.Sdk.Web", """
            using Cached;
            var builder = WebApplication.CreateBuilder(args);
            builder.Services.AddCached(cached => cached.AddCache("default", new SimpleMemoryCache()));
            var app = builder.Build();
            app.MapGet("/lib/{id}", (int id) => Helper.Call(id));
            try
            {
                await app.StartAsync();
                Console.WriteLine("started");
                Console.WriteLine("answer: " + Helper.Call(1));
                await app.StopAsync();
            }
            catch (CacheConfigurationException e)
            {
                Console.WriteLine("refused: " + e.Message);
            }

            static class Helper
            {
                public static string Call(int id) => new Lib.LibService().Get(id);
            }
            """, reference: lib);

        var output = Run(app, "dotnet", "run", NoBuildServers, $"-p:CachedVersion={_version}", "--", "--urls", "http://127.0.0.1:0");

        Assert.That(output, Does.Contain("started").And.Contain("answer: lib1"), output);
        Assert.That(output, Does.Contain("'libalias' is not configured"), "event 12 at the first call");
    }

    private string Project(string name, string sdk, string program, bool library = false, string? reference = null)
    {
        var dir = Path.Combine(_work, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, library ? "Lib.cs" : "Program.cs"), program);
        File.WriteAllText(Path.Combine(dir, name + ".csproj"), $"""
            <Project Sdk="{sdk}">
              <PropertyGroup>
                {(library ? "" : "<OutputType>Exe</OutputType>")}
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Cached.Core" Version="$(CachedVersion)" />
                <PackageReference Include="Cached.Redis" Version="$(CachedVersion)" />
                {(reference is null ? "" : $"<ProjectReference Include=\"{Path.Combine(reference, Path.GetFileName(reference) + ".csproj")}\" />")}
              </ItemGroup>
            </Project>
            """);
        return dir;
    }

    private static string Run(string directory, string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within 5 minutes");
        }

        var output = stdout.Result + stderr.Result;
        Assert.That(process.ExitCode, Is.EqualTo(0), $"{program} {string.Join(' ', arguments)} failed:\n{output}");
        return output;
    }
}

/// <summary>Checks of docs/redis.md's command table against a real redis-server this fixture starts.</summary>
[NonParallelizable]
public sealed class OutsiderNewcomerRedisReviewTests
{
    private Process? _redis;
    private int _port;

    [OneTimeSetUp]
    public void StartRedis()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        _port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var start = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--bind", "127.0.0.1", "--port", _port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--dir", Path.GetTempPath() })
        {
            start.ArgumentList.Add(a);
        }

        _redis = Process.Start(start)!;
        _redis.OutputDataReceived += (_, _) => { };
        _redis.ErrorDataReceived += (_, _) => { };
        _redis.BeginOutputReadLine();
        _redis.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var client = new System.Net.Sockets.TcpClient();
                client.Connect(System.Net.IPAddress.Loopback, _port);
                break;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
    }

    [OneTimeTearDown]
    public void StopRedis()
    {
        if (_redis is { } redis)
        {
            try
            {
                redis.Kill();
                redis.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }

            redis.Dispose();
        }
    }

    // docs/redis.md's command table: "| `Delete` | `DEL` |". The cache sends UNLINK (after its fence script), so
    // INFO commandstats counts no DEL; an ACL user allowed DEL but not UNLINK cannot delete.
    [Test]
    public void Delete_sends_UNLINK_as_the_command_table_says()
    {
        using var cache = new Cached.Redis.RedisCache { ConnectionString = $"127.0.0.1:{_port},allowAdmin=true", Namespace = "newcomer-del" };
        cache.Set("a", 1);
        cache.Raw("CONFIG", "RESETSTAT");

        Assert.That(cache.Delete("a"), Is.EqualTo(1));
        var stats = Convert.ToString(cache.Raw("INFO", "commandstats"), System.Globalization.CultureInfo.InvariantCulture) ?? "";

        // docs/redis.md's table now says what the client sends: UNLINK (it said DEL, which matters to an ACL).
        Assert.That(stats, Does.Contain("cmdstat_unlink:").And.Not.Contain("cmdstat_del:"), stats);
    }
}
