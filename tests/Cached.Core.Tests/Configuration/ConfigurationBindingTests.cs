using System.Text;
using Cached.Plugins;
using Cached.Serializers;
using Microsoft.Extensions.Configuration;

namespace Cached.Tests.Configuration;

/// <summary>Caches.SetConfig(IConfiguration): appsettings.json in the shape of pycached's dictionary.</summary>
[NonParallelizable]
public class ConfigurationBindingTests
{
    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    internal static IConfigurationSection Section(string json, string section = "Cached")
        => new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build().GetSection(section);

    private const string PycachedShape = """
        {
          "Cached": {
            "default": {
              "Cache": "Cached.SimpleMemoryCache",
              "Serializer": { "Class": "Cached.Serializers.StringSerializer" }
            },
            "memory_alt": {
              "Cache": "Cached.SimpleMemoryCache",
              "Namespace": "main",
              "Ttl": 10,
              "Timeout": 1.5,
              "Serializer": { "Class": "Cached.Serializers.JsonSerializer" },
              "Plugins": [
                { "Class": "Cached.Plugins.HitMissRatioPlugin" },
                { "Class": "Cached.Plugins.TimingPlugin" }
              ]
            }
          }
        }
        """;

    [Test]
    public void SetConfig_binds_every_alias_with_its_cache_settings_serializer_and_plugins()
    {
        Caches.SetConfig(Section(PycachedShape));

        var @default = (SimpleMemoryCache)Caches.Get();
        var alt = (SimpleMemoryCache)Caches.Get("memory_alt");
        Assert.Multiple(() =>
        {
            Assert.That(@default.Serializer, Is.InstanceOf<StringSerializer>());
            Assert.That(alt.Namespace, Is.EqualTo("main"));
            Assert.That(alt.Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(alt.Timeout, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
            Assert.That(alt.Serializer, Is.InstanceOf<JsonSerializer>());
            Assert.That(alt.Plugins.Select(static p => p.GetType()), Is.EqualTo(new[] { typeof(HitMissRatioPlugin), typeof(TimingPlugin) }));
            Assert.That(alt.Alias, Is.EqualTo("memory_alt"));
            Assert.That(Caches.IsDefaultConfigured, Is.True);
        });
    }

    [Test]
    public void The_bound_configuration_reads_back_like_the_dictionary_form()
    {
        Caches.SetConfig(Section(PycachedShape));

        var alt = Caches.GetAliasConfig("memory_alt");
        Assert.Multiple(() =>
        {
            Assert.That(alt.Cache, Is.EqualTo("Cached.SimpleMemoryCache"));
            Assert.That(alt["Namespace"], Is.EqualTo("main"));
            Assert.That(alt["Ttl"], Is.EqualTo("10"));
            Assert.That(alt.Serializer?.Class, Is.EqualTo("Cached.Serializers.JsonSerializer"));
            Assert.That(alt.Plugins.Select(static p => p.Class), Is.EqualTo(new[] { "Cached.Plugins.HitMissRatioPlugin", "Cached.Plugins.TimingPlugin" }));
            Assert.That(Caches.GetConfig().Keys, Is.EquivalentTo(new[] { "default", "memory_alt" }));
        });
    }

    [Test]
    public void Pycached_lower_case_keys_and_snake_case_settings_bind_too()
    {
        Caches.SetConfig(Section("""
            { "Cached": { "default": {
                "cache": "Cached.SimpleMemoryCache",
                "namespace": "py",
                "serializer": { "class": "Cached.Tests.Configuration.ConfiguredTestSerializer", "prefix": ">", "level": 3 },
                "plugins": [ { "class": "Cached.Tests.Configuration.ConfiguredTestPlugin", "label": "first" } ]
            } } }
            """));

        var cache = (SimpleMemoryCache)Caches.Get();
        var serializer = (ConfiguredTestSerializer)cache.Serializer;
        Assert.Multiple(() =>
        {
            Assert.That(cache.Namespace, Is.EqualTo("py"));
            Assert.That(serializer.Prefix, Is.EqualTo(">"));
            Assert.That(serializer.Level, Is.EqualTo(3));
            Assert.That(((ConfiguredTestPlugin)cache.Plugins[0]).Label, Is.EqualTo("first"));
        });
    }

    [Test]
    public void A_serializer_may_be_given_as_its_class_name_alone()
    {
        Caches.SetConfig(Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Serializer": "Cached.Serializers.NullSerializer" } } }"""));

        Assert.That(Caches.Get().Serializer, Is.InstanceOf<NullSerializer>());
    }

    [Test]
    public void Plugins_keep_list_order_past_ten_entries()
    {
        var plugins = string.Join(",", Enumerable.Range(0, 12).Select(static i => $$"""{ "Class": "Cached.Tests.Configuration.ConfiguredTestPlugin", "Label": "p{{i}}" }"""));
        Caches.SetConfig(Section($$"""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Plugins": [ {{plugins}} ] } } }"""));

        var labels = Caches.Get().Plugins.Select(static p => ((ConfiguredTestPlugin)p).Label);

        Assert.That(labels, Is.EqualTo(Enumerable.Range(0, 12).Select(static i => $"p{i}")));
    }

    [Test]
    public void Environment_style_overrides_layer_over_the_json_file()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(PycachedShape)))
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Cached:memory_alt:Namespace"] = "from-env" })
            .Build();

        Caches.SetConfig(configuration.GetSection("Cached"));

        Assert.That(Caches.Get("memory_alt").Namespace, Is.EqualTo("from-env"));
    }

    [Test]
    public void Create_builds_a_new_instance_from_the_bound_alias()
    {
        Caches.SetConfig(Section(PycachedShape));

        var first = Caches.Create("memory_alt");
        var second = Caches.Create("memory_alt", new Dictionary<string, string?> { ["Namespace"] = "other" });

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.Not.SameAs(Caches.Get("memory_alt")));
            Assert.That(first.Namespace, Is.EqualTo("main"));
            Assert.That(second.Namespace, Is.EqualTo("other"));
        });
    }

    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Bogus": "1" } } }""", "Cached:default:Bogus", "has no setting 'Bogus'")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Ttl": "ten" } } }""", "Cached:default:Ttl", "'ten' cannot be read as TimeSpan")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.NoSuchCache" } } }""", "Cached:default:Cache", "'Cached.NoSuchCache' was not found")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.Redis.RedisCache" } } }""", "Cached:default:Cache", "'Cached.Redis.RedisCache' is in the Cached.Redis package, which the application does not reference (add it: dotnet add package Cached.Redis)")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.Redis.RedisCache, Cached.Redis" } } }""", "Cached:default:Cache", "is in the Cached.Redis package")]
    [TestCase("""{ "Cached": { "default": { "Namespace": "x" } } }""", "Cached:default:Cache", "no cache type is given")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Serializer": { "Class": "Cached.NoSuchSerializer" } } } }""", "Cached:default:Serializer:Class", "was not found")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Serializer": { "Class": "Cached.Serializers.StringSerializer", "Colour": "red" } } } }""", "Cached:default:Serializer:Colour", "has no setting 'Colour'")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Plugins": [ { "Label": "no class" } ] } } }""", "Cached:default:Plugins:0:Class", "no class is given")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Plugins": [ { "Class": "Cached.Serializers.StringSerializer" } ] } } }""", "Cached:default:Plugins:0:Class", "is not a concrete ICachePlugin")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Plugins": "Cached.Plugins.TimingPlugin" } } }""", "Cached:default:Plugins", "must be a list")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Plugins": { "first": { "Class": "Cached.Plugins.TimingPlugin" } } } } }""", "Cached:default:Plugins:first", "must be a list")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Namespace": { "Name": "x" } } } }""", "Cached:default:Namespace", "a single value is expected")]
    [TestCase("""{ "Cached": { "default": "Cached.SimpleMemoryCache" } }""", "Cached:default", "must be an object")]
    [TestCase("""{ "Cached": { "default": { "Cache": "Cached.Tests.Configuration.NotACacheComponent" } } }""", "Cached:default:Cache", "is not a concrete cache")]
    [TestCase("""{ "Other": { } }""", "Cached", "the section is missing or empty")]
    public void A_bad_entry_fails_at_SetConfig_naming_its_configuration_path(string json, string path, string message)
    {
        var ex = Assert.Catch<CacheConfigurationException>(() => Caches.SetConfig(Section(json)))!;

        Assert.Multiple(() =>
        {
            Assert.That(ex.Path, Is.EqualTo(path));
            Assert.That(ex.Message, Does.StartWith(path + ": ").And.Contain(message));
        });
    }

    [Test]
    public void A_bad_entry_leaves_the_previous_configuration_in_place()
    {
        Caches.SetConfig(Section(PycachedShape));

        Assert.Throws<CacheConfigurationException>(() => Caches.SetConfig(Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Ttl": "soon" } } }""")));

        Assert.That(Caches.GetConfig().Keys, Is.EquivalentTo(new[] { "default", "memory_alt" }));
    }

    [Test]
    public void A_configuration_without_a_default_alias_is_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => Caches.SetConfig(Section("""{ "Cached": { "other": { "Cache": "Cached.SimpleMemoryCache" } } }""")))!;

        Assert.That(ex.Message, Does.Contain("'default' alias"));
    }

    [Test]
    public void A_null_configuration_is_refused_naming_the_argument()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => Caches.SetConfig((IConfiguration)null!))!;

        Assert.That(ex.ParamName, Is.EqualTo("configuration"));
    }

    [Test]
    public void A_package_type_is_found_by_its_full_name_before_its_assembly_is_loaded()
    {
        static bool Loaded() => AppDomain.CurrentDomain.GetAssemblies().Any(static a => a.GetName().Name == "Cached.MessagePack");
        Assert.That(Loaded(), Is.False, "nothing in these tests touches Cached.MessagePack's types directly");

        Caches.SetConfig(Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "Serializer": { "Class": "Cached.Serializers.MessagePackSerializer" } } } }"""));

        Assert.That(Caches.Get().Serializer.GetType().FullName, Is.EqualTo("Cached.Serializers.MessagePackSerializer"));
    }

    [Test]
    public void A_configuration_root_can_be_bound_too()
    {
        var root = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["default:Cache"] = "Cached.SimpleMemoryCache",
            ["default:Namespace"] = "root",
        }).Build();

        Caches.SetConfig(root);

        Assert.That(Caches.Get().Namespace, Is.EqualTo("root"));
    }
}
