using Cached.Docs.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace Cached.Docs.Tests;

/// <summary>
/// A newcomer's second hour (an outsider's review): past the quick start, the same user combines what the pages show
/// one at a time (tags or fail-safe with the plain commands, the docs' code blocks with each other) and checks what the
/// pages promise against what the packed packages do. Each test asserts what the docs say.
/// </summary>
public sealed class OutsiderSecondHourReviewTests
{
    // ---------------------------------------------------------------- an invalidated tag and the plain commands

    // README: "`InvalidateTags("user:42")` makes every entry that carries the tag a miss", "`Exists`: whether the key
    // exists", "`Add`: only adds the key/value if the key does not exist". After the invalidation Get answered a miss,
    // but Exists said true, Expire said true, and Add threw KeyExistsException, and no page said so: the usage.md lock
    // pattern `if (!cache.Exists("report")) cache.Set(...)` never refilled such an entry. The entry stays, as a stale
    // fail-safe entry does (kept for GetOrSet's last value); docs/tags.md, "The other commands", now says what each
    // command answers, and that `Set` writes the key again.
    [Test]
    public void After_InvalidateTags_reads_miss_and_the_other_commands_answer_as_docs_tags_md_says()
    {
        using var cache = new SimpleMemoryCache();
        var tagged = new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), Tags = ["user:42"] };
        cache.Set("profile:42", "likes tea", tagged);

        cache.InvalidateTags("user:42");

        var page = File.ReadAllText(Repository.PathOf("docs/tags.md"));
        Assert.That(page, Does.Contain("so `Exists` and `Expire` still find it and `Add` of its key throws `KeyExistsException`"));
        Assert.That(cache.Get<string>("profile:42"), Is.Null, "docs/tags.md: a plain read misses");
        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("profile:42"), Is.True, "tags.md: Exists still finds it");
            Assert.That(() => cache.Add("profile:42", "likes coffee"), Throws.TypeOf<KeyExistsException>());
        });
        cache.Set("profile:42", "likes coffee");
        Assert.That(cache.Get<string>("profile:42"), Is.EqualTo("likes coffee"), "tags.md: Set writes it again");
    }

    // ---------------------------------------------------------------- Increment of a value written with options

    // docs/caches.md, Increment: "`CacheValueNotIntegerException` for a value that is not an integer"; docs/
    // resilience.md: "`Set(key, value, options)` ... stores a value exactly as `GetOrSet` with the same options would".
    // A counter written with Tags (or FailSafe) holds the integer 5, yet Increment throws
    // "Key 'hits' does not hold an integer, so it cannot be incremented": the entry is stamped (30-byte header or a
    // wrapper object), which no page connects with Increment. Same on every backend and serializer tried (memory with
    // and without JsonSerializer, Redis). Either Increment reads through the stamp, or the refusal says why.
    [TestCase("tags")]
    [TestCase("failsafe")]
    public void Increment_of_an_integer_written_with_entry_options_increments_or_says_why_it_cannot(string kind)
    {
        using var cache = new SimpleMemoryCache();
        var options = kind == "tags"
            ? new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), Tags = ["counters"] }
            : new CacheEntryOptions { Ttl = TimeSpan.FromMinutes(10), FailSafe = TimeSpan.FromHours(1) };
        cache.Set("hits", 5L, options);
        Assert.That(cache.Get<long>("hits"), Is.EqualTo(5L), "the value is the integer 5");

        long? incremented = null;
        Exception? refused = null;
        try
        {
            incremented = cache.Increment("hits");
        }
        catch (CacheException e)
        {
            refused = e;
        }

        if (refused is not null)
        {
            Assert.That(refused.Message, Does.Not.Contain("does not hold an integer"),
                "the key holds an integer: a refusal must name the real cause (an entry written with options)");
            Assert.That(refused.Message, Does.Contain(kind == "tags" ? "Tags" : "FailSafe").Or.Contain("options"));
        }
        else
        {
            Assert.That(incremented, Is.EqualTo(6L));
        }
    }

    // ---------------------------------------------------------------- one page's blocks used together

    // docs/configuration.md, "From appsettings.json", configures the "default" alias with
    // `"Serializer": { "Class": "Cached.Serializers.StringSerializer" }`; "Dependency injection", on the same section,
    // maps `/users/{id}` to `(int id, ICache cache) => cache.GetAsync<User>(...)`, and `ICache` "is the "default"
    // alias". A StringSerializer refuses records by type (docs/serializers.md), so that endpoint can only ever answer
    // null, and storing the User it reads throws CacheSerializationException ("User has no exact text form"). The
    // page's two blocks, copied together as a newcomer does, do not make a working endpoint.
    [Test]
    public void The_default_alias_of_the_configuration_page_can_hold_the_User_its_DI_endpoint_reads()
    {
        var page = Repository.Markdown.Single(static f => f.File == "docs/configuration.md");
        var json = page.Blocks.First(
            static b => b.Language == "json" && b.Code.Contains("\"redis_alt\"", StringComparison.Ordinal));
        var di = page.Blocks.First(static b => b.IsCSharp && b.Code.Contains("ICache cache", StringComparison.Ordinal));
        Assert.That(di.Code, Does.Contain("cache.GetAsync<User>"), "the endpoint reads a User from the default alias");

        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json.Code)))
            .Build();
        var serializerName = configuration["Cached:default:Serializer:Class"]
            ?? configuration["Cached:default:Serializer"];
        var serializer = serializerName is null
            ? null
            : (Cached.Serializers.ISerializer)Activator.CreateInstance(
                typeof(ICache).Assembly.GetType(serializerName, throwOnError: true)!)!;
        using var cache = serializer is null
            ? new SimpleMemoryCache()
            : new SimpleMemoryCache { Serializer = serializer };

        Assert.That(() => cache.Set("user:1", new SecondHourUser(1, "Ada")), Throws.Nothing,
            $"the default alias's {serializerName} cannot store the record the DI endpoint reads");
        Assert.That(cache.Get<SecondHourUser>("user:1"), Is.EqualTo(new SecondHourUser(1, "Ada")));
    }

    // ---------------------------------------------------------------- the package readmes (what nuget.org shows)

    // A newcomer's first page is the package's readme on nuget.org (each package packs its src/<Project>/README.md).
    // CodeBlockTests compiles README.md and docs/*.md only, so these blocks are checked by nothing. Pasted as they
    // stand: in src/Cached.Redis/README.md the "For cached methods" block has no `using Cached;` (so `[Cached]` binds
    // to the namespace: CS0616 "'Cached' is not an attribute class") and names a `User` type and a `LoadUserAsync`
    // method no block declares; its "Two levels" block has no usings at all (CS0246 for MultiLevelCache,
    // SimpleMemoryCache, RedisCache, RedisBackplane); the `builder.Services.AddCached(...)` lines of both readmes have
    // no `builder`. The docs pages give such fragments their context in `<!-- docs-test: prelude -->` comments (which
    // nuget.org does not render either); the readmes have none.
    public static IEnumerable<TestCaseData> PackageReadmeBlocks()
        => new[] { "src/Cached.Core/README.md", "src/Cached.Redis/README.md", "src/Cached.MessagePack/README.md" }
            .Select(static path => MarkdownFile.Parse(path, File.ReadAllText(Repository.PathOf(path))))
            .SelectMany(static file => file.Blocks.Where(static b => b.IsCSharp && b.SkipReason is null)
                .Select(block => new TestCaseData(file, block).SetArgDisplayNames($"{block.File}:{block.FenceLine}")));

    [TestCaseSource(nameof(PackageReadmeBlocks))]
    public void A_csharp_block_of_a_package_readme_compiles(object fileArgument, object blockArgument)
    {
        var file = (MarkdownFile)fileArgument;
        var block = (CodeBlock)blockArgument;
        Assert.That(file.Problems, Is.Empty);

        var outcome = DocCompiler.Compile(block, file.FilePreludes);

        Assert.That(outcome.Problems, Is.Empty,
            () => $"{block} does not compile:\n  {string.Join("\n  ", outcome.Problems)}");
    }
}

public sealed record SecondHourUser(int Id, string Name);
