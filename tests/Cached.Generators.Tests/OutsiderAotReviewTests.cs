using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Cached.Generators.Tests.Infrastructure;
using Cached.Redis.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's review of Cached under NativeAOT, as a user who publishes with it meets the library: the three
/// packages from a local feed, one application (tests/Packaging/AotReview) that uses many features at once, built
/// for the JIT and published with NativeAOT. The publish must warn only where the application itself calls an API
/// documented as needing reflection, and every feature must print in the native binary what it prints under the JIT.
/// One NativeAOT publish serves every test (about a minute on two cores once restored); each run of the application
/// has a redis-server of its own.
/// </summary>
[Category("Packaging")]
public sealed class OutsiderAotReviewTests
{
    private const string NoBuildServers = PackedFeed.NoBuildServers;

    private PackedFeed _feed = null!;
    private string _work = null!;
    private string _version = null!;
    private string _publishLog = null!;
    private TimeSpan _publishTime;
    private Dictionary<string, string> _jit = null!;
    private Dictionary<string, string> _native = null!;

    /// <summary>The sections the application prints, in its order (see its Program.cs).</summary>
    public static readonly string[] Sections =
    [
        "shapes", "multicached", "tags-memory", "own-cache-json", "plugins", "getorset-memory", "redis-json", "redis-tags",
        "getorset-redis", "multilevel", "config-dictionary", "di-builder", "di-builder-cacheconfig", "logs", "metrics",
    ];

    [OneTimeSetUp]
    public void PackPublishAndRun()
    {
        _feed = PackedFeed.Create("AotReview", "aotreview");
        (_work, _version) = (_feed.Work, _feed.Version);

        var arguments = new List<string> { "publish", NoBuildServers, "-c", "Release", $"-p:CachedVersion={_version}", "-p:PublishAot=true", "-o", "aot" };
        if (!OnPath("clang") && OnPath("clang-14"))
        {
            arguments.Add("-p:CppCompilerAndLinker=clang-14");
        }

        var watch = Stopwatch.StartNew();
        _publishLog = Run(_work, "dotnet", [.. arguments]);
        _publishTime = watch.Elapsed;
        TestContext.Progress.WriteLine($"NativeAOT publish took {_publishTime.TotalSeconds:F0} s");
        _native = RunApplication(Path.Combine(_work, "aot", "AotReview"));

        // Built after the publish, which so compiles the project itself and reports the compiler's warnings too.
        Run(_work, "dotnet", "build", NoBuildServers, "-c", "Release", $"-p:CachedVersion={_version}", "-o", "jit");
        _jit = RunApplication("dotnet", Path.Combine(_work, "jit", "AotReview.dll"));
    }

    [OneTimeTearDown]
    public void CleanUp()
    {
        _feed?.Dispose();
    }

    /// <summary>The trimming and AOT warnings of the publish, each once (the compiler and ILC may both report one).</summary>
    private IReadOnlyList<string> Warnings()
        => Regex.Matches(_publishLog, @"^.*warning IL\d{4}.*$", RegexOptions.Multiline)
            .Select(static m => m.Value.Trim())
            .Distinct()
            .ToList();

    [Test]
    public void No_warning_points_into_code_the_generator_wrote()
    {
        // [Cached(Serializer = typeof(X))] makes the generator write "new X()" into the project: when X's constructor
        // needs unreferenced or dynamic code, the warning lands on a generated line the user cannot edit or suppress
        // there, not on the attribute that chose X.
        var generated = Warnings().Where(static w => w.Contains(".g.cs(", StringComparison.Ordinal)).ToList();

        Assert.That(generated, Is.Empty, () => "warnings:\n" + string.Join("\n", Warnings()));
    }

    [Test]
    public void The_attribute_that_names_a_type_whose_creation_warns_is_reported_as_CACHED036()
    {
        var line = Array.FindIndex(File.ReadAllLines(Path.Combine(_work, "Types.cs")), static l => l.Contains("Serializer = typeof(MessagePackSerializer)", StringComparison.Ordinal)) + 1;

        Assert.That(line, Is.GreaterThan(0), "the application has the attribute");
        Assert.That(_publishLog, Does.Match($@"Types\.cs\({line},\d+\): warning CACHED036: .*'MessagePackSerializer'"));
    }

    [Test]
    public void The_only_warnings_about_an_assembly_as_a_whole_are_MessagePack_s_which_serializers_md_announces()
    {
        // IL2104/IL3053 ("Assembly 'X' produced trim/AOT warnings") name no line of the user's and no API they called:
        // MessagePack 2.x's own (it emits code), which no code of Cached's or the user's can move, are documented.
        var whole = Warnings().Where(static w => Regex.IsMatch(w, @"warning IL(2104|3053)")).ToList();
        var serializers = File.ReadAllText(Path.Combine(PackedFeed.RepositoryRoot(), "docs", "serializers.md"));

        Assert.That(whole.Where(static w => !w.Contains("'MessagePack'", StringComparison.Ordinal)), Is.Empty, () => "warnings:\n" + string.Join("\n", Warnings()));
        Assert.That(serializers, Does.Contain("IL2104").And.Contain("IL3053").And.Contain("Assembly 'MessagePack'"));
    }

    [Test]
    public void Every_other_warning_is_at_the_applications_own_lines()
    {
        var elsewhere = Warnings()
            .Where(static w => !w.Contains(".g.cs(", StringComparison.Ordinal) && !Regex.IsMatch(w, @"warning IL(2104|3053)"))
            .Where(static w => !Regex.IsMatch(w, @"(^|[/\\])(Program|Types)\.cs\(\d+(,\d+)?\): (Trim analysis |AOT analysis )?warning IL"))
            .ToList();

        Assert.That(elsewhere, Is.Empty, () => "warnings:\n" + string.Join("\n", Warnings()));
    }

    [Test]
    public void Every_warning_is_for_an_API_the_docs_announce()
    {
        // configuration.md, serializers.md: Caches.Get/Create/SetConfig(IConfiguration), AddCached(configuration),
        // Cache.FromUrl and the MessagePack serializer's constructors need reflection or dynamic code.
        string[] announced = ["Caches.Get(", "Caches.Create(", "Caches.SetConfig(", "Caches.Add(", "CachedBuilder.AddCache(", "Cache.FromUrl(", "CachedServiceCollectionExtensions.AddCached(", "MessagePackSerializer.MessagePackSerializer("];
        var unexpected = Warnings().Where(w => !announced.Any(w.Contains) && !Regex.IsMatch(w, @"warning IL(2104|3053)")).ToList();

        Assert.That(unexpected, Is.Empty, () => "warnings:\n" + string.Join("\n", Warnings()));
    }

    /// <summary>
    /// Caches.SetConfig with CacheConfig objects, and CachedBuilder.AddCache(alias, CacheConfig), name types as text as
    /// SetConfig(IConfiguration) does, and the caches are then made by reflection (ComponentFactory), for generated
    /// methods behind a suppression (CachedMethodOptions.FromConfiguration, CachedRegistry.Get): trimming removes what
    /// they name, so these calls must warn as the IConfiguration overloads do, not fail at run time in silence.
    /// </summary>
    [TestCase("Caches.SetConfig(new Dictionary<string, CacheConfig>", "Cached.Caches.SetConfig(")]
    [TestCase(".AddCache(\"cfgjson\", new CacheConfig", "Cached.DependencyInjection.CachedBuilder.AddCache(String, CacheConfig)")]
    [TestCase("Caches.Add(\"cfgadd\", new CacheConfig", "Cached.Caches.Add(String, CacheConfig)")]
    public void A_configuration_made_of_type_names_is_warned_about_where_the_application_gives_it(string call, string member)
    {
        var line = LineOf(call);

        Assert.That(line, Is.GreaterThan(0), "the application has the call");
        // The compiler reports a call at the start of its expression: a call inside a fluent chain, at the chain's
        // first line, a few lines above the call's own.
        var lines = Warnings()
            .Where(w => w.Contains("warning IL2026", StringComparison.Ordinal) && w.Contains($"Using member '{member}", StringComparison.Ordinal))
            .Select(static w => Regex.Match(w, @"Program\.cs\((\d+)"))
            .Where(static m => m.Success)
            .Select(static m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.That(lines, Has.Some.InRange(line - 4, line), () => "warnings:\n" + string.Join("\n", Warnings()));
    }

    /// <summary>
    /// APIs the docs announce as needing reflection (Caches.Get and Create, Cache.FromUrl, AddCached(configuration)):
    /// in the native binary they may fail for a type trimming removed, but then with a message that says so and names
    /// the way out (an instance: Caches.AddInstance or AddCache(alias, instance)), not one that blames the type's name.
    /// </summary>
    [TestCase("caches-get-create")]
    [TestCase("url")]
    [TestCase("di-configuration")]
    public void An_announced_reflection_API_works_or_fails_naming_the_way_out(string section)
    {
        var native = _native.GetValueOrDefault(section);
        Assert.That(native, Is.Not.Null);
        if (native == _jit.GetValueOrDefault(section))
        {
            return;
        }

        foreach (var failure in Regex.Split(native!, @" \| ").Where(static part => part.Contains("FAILED", StringComparison.Ordinal)))
        {
            Assert.That(failure, Does.Contain("AddInstance").Or.Contain("AddCache("), "a failure names the fix");
            Assert.That(failure, Does.Not.Contain("give its full name"), "the name is right: trimming removed the type");
        }
    }

    /// <summary>
    /// serializers.md: MessagePack 2.x needs dynamic code for records; the constructor warns. In the native binary a
    /// record must then be refused as a serialization error of the cache (CacheSerializationException), not crash,
    /// and primitives must still round-trip.
    /// </summary>
    [Test]
    public void MessagePack_in_the_native_binary_keeps_primitives_and_refuses_records_as_a_cache_error()
    {
        var native = _native.GetValueOrDefault("messagepack");

        Assert.That(native, Does.StartWith("text 42 | record "));
        Assert.That(native, Does.Not.Contain("FAILED"));
        Assert.That(native, Does.Match(@"record (Bergen|refused CacheSerializationException) \| attribute (m1m1 bodies 1|refused CacheSerializationException|m1m1 bodies 2)$"));
    }

    [TestCaseSource(nameof(Sections))]
    public void The_native_binary_prints_what_the_JIT_prints(string section)
    {
        Assert.That(_jit, Does.ContainKey(section), "the JIT run printed no such line");
        Assert.That(_jit[section], Does.Not.Contain("FAILED"), "the JIT run itself must work");
        // The MessagePack serializer cannot store a record in the native binary (serializers.md), so its generated
        // method logs a failed write there: the one difference in the logs that is announced.
        static string? Announced(string section, string? line)
            => section == "logs" && line is not null ? string.Join(" / ", line.Split(" / ").Where(static entry => !entry.Contains("Packed.Get", StringComparison.Ordinal))) : line;

        Assert.That(Announced(section, _native.GetValueOrDefault(section)), Is.EqualTo(Announced(section, _jit[section])));
    }

    [TestCase("shapes", "99,ada#1@2ada#1@2,66,Green29-Green29-,(1;2)(1;2)(2;1),555,88,5,ada#1@10 | bodies 10 | twice bodies 1")]
    [TestCase("multicached", "n1,n2 n2,n3 | asked 1,2;3")]
    [TestCase("tags-memory", "user bodies 3 | set with tag tea then (miss)")]
    [TestCase("own-cache-json", "Porto 20 | copy True | bodies 1")]
    [TestCase("plugins", "hits 2 misses 1 ratio 0.67 | timed gets 3 sets 1")]
    [TestCase("getorset-memory", "fail-safe first then first | eager v1 refreshed True")]
    [TestCase("redis-json", "Lisbon 21.5 | bodies 1 | many 2 again 10 many bodies 1 | direct Lisbon | list Rome | missing (miss)")]
    [TestCase("redis-tags", "tagged bodies 2 | set with tag Nice then (miss)")]
    [TestCase("getorset-redis", "fail-safe first then first | eager v1 refreshed True")]
    [TestCase("multilevel", "B read hello (in L1 True) | update reached B True | tag v invalidated on B True")]
    [TestCase("config-dictionary", "default p1p1 bodies 1 | cfgjson j1j1 bodies 1 | cfgredis r1r1 bodies 1")]
    [TestCase("di-builder", "SimpleMemoryCache ns di ttl 30 | p2p2 d2d2 bodies 2 | hits 1 misses 1 | keyed RedisCache")]
    [TestCase("di-builder-cacheconfig", "JsonSerializer Evora")]
    [TestCase("messagepack", "text 42 | record Bergen | attribute m1m1 bodies 1")]
    public void The_JIT_run_prints_what_the_docs_promise(string section, string expected)
    {
        // A check of the application itself: under the JIT every feature does what the docs say, so a difference in
        // the native binary is the binary's.
        Assert.That(_jit.GetValueOrDefault(section), Is.EqualTo(expected));
    }

    [Test]
    public void Redis_holds_the_generated_methods_entry_as_JSON_in_the_native_run()
    {
        Assert.That(_native.GetValueOrDefault("redis-stored"), Is.EqualTo("""{"City":"Lisbon","Celsius":21.5}"""));
    }

    private int LineOf(string text)
    {
        var lines = File.ReadAllLines(Path.Combine(_work, "Program.cs"));
        return Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal)) + 1;
    }

    /// <summary>Runs the application against a redis-server of its own; its lines by section.</summary>
    private Dictionary<string, string> RunApplication(string program, params string[] before)
    {
        using var redis = new RedisServer();
        var port = redis.Port.ToString(CultureInfo.InvariantCulture);
        var output = Run(Path.Combine(_work), program, [.. before, port]);
        TestContext.Progress.WriteLine(output);
        var sections = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                sections.TryAdd(line[..colon], line[(colon + 2)..]);
            }
        }

        sections["redis-stored"] = Run(_work, "redis-cli", "-h", "127.0.0.1", "-p", port, "GET", "review:forecast:Lisbon").Trim();
        return sections;
    }

    private static string Run(string directory, string program, params string[] arguments) => PackedFeed.Run(directory, program, arguments);

    private static bool OnPath(string program) => PackedFeed.OnPath(program);

}
