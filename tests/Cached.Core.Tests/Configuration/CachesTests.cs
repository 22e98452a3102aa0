using System.Buffers;
using System.Text;
using Cached.Plugins;
using Cached.Serializers;

namespace Cached.Tests.Configuration;

/// <summary>A serializer defined in the test assembly, created by configuration from its full name.</summary>
public sealed class ConfiguredTestSerializer : ISerializer
{
    public string Prefix { get; set; } = "";

    public int Level { get; set; }

    public bool Verbose { get; set; }

    public DayOfWeek Day { get; set; }

    public TimeSpan Delay { get; set; }

    public bool StoresReferences => false;

    public void Serialize<T>(IBufferWriter<byte> destination, T value)
        => Encoding.UTF8.GetBytes(Prefix + value, destination);

    public T? Deserialize<T>(ReadOnlySequence<byte> payload)
        => (T)(object)Encoding.UTF8.GetString(payload);
}

/// <summary>A plugin defined in the test assembly that counts the Set commands it sees.</summary>
public sealed class ConfiguredTestPlugin : CachePlugin
{
    public string? Label { get; set; }

    public int Sets { get; private set; }

    protected override void PostSet(CacheCommandContext context) => Sets++;
}

/// <summary>A type with a public parameterless constructor that is not a cache, a serializer or a plugin.</summary>
public sealed class NotACacheComponent
{
}

public class CachesTests
{
    private const string MemoryCache = "Cached.SimpleMemoryCache";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static CacheConfig Memory(string? @namespace = null)
    {
        var config = new CacheConfig { Cache = MemoryCache };
        if (@namespace is not null)
        {
            config["Namespace"] = @namespace;
        }

        return config;
    }

    private static void Configure(string alias, CacheConfig config)
        => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory(), [alias] = config });

    // ---- default configuration ----

    [Test]
    public void The_default_configuration_is_a_SimpleMemoryCache_that_keeps_references()
    {
        var config = Caches.GetConfig();

        Assert.That(config.Keys, Is.EquivalentTo(new[] { "default" }));
        Assert.That(config["default"].Cache, Is.EqualTo(typeof(SimpleMemoryCache).FullName));
        Assert.That(config["default"].Serializer, Is.Null, "the memory cache's own serializer: references as they are");
        Assert.That(config["default"].Plugins, Is.Empty);
        Assert.That(config["default"].Settings, Is.Empty);
        Assert.That(Caches.IsDefaultConfigured, Is.False);
    }

    [Test]
    public void Before_any_configuration_the_default_alias_is_the_one_instance_generated_methods_use()
    {
        var cache = Caches.Get();
        var method = new Cached.Runtime.CachedMethod<Point>(new Cached.Runtime.CachedMethodOptions { Method = "T.P" });
        var stored = method.Invoke("p", 0, static _ => new Point(1, 2));

        Assert.That(cache, Is.SameAs(method.CurrentCache));
        Assert.That(cache.Serializer, Is.InstanceOf<NullSerializer>());
        Assert.That(cache.Get<Point>("p"), Is.SameAs(stored), "a record caches as it is");
        Assert.That(cache.Delete("p"), Is.EqualTo(1), "a hand-made Delete reaches what the method stored");
        Assert.That(Caches.Create(), Is.Not.SameAs(cache).And.InstanceOf<SimpleMemoryCache>(), "Create still makes a new one");
    }

    public sealed record Point(int X, int Y);

    // ---- Get and Create ----

    [Test]
    public void Get_returns_the_same_instance_on_every_call()
    {
        var first = Caches.Get("default");
        var second = Caches.Get("default");

        Assert.That(second, Is.SameAs(first));
        Assert.That(Caches.Get(), Is.SameAs(first));
    }

    [Test]
    public void Create_returns_a_new_instance_on_every_call()
    {
        var first = Caches.Create("default");
        var second = Caches.Create("default");

        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(first, Is.Not.SameAs(Caches.Get("default")));
        first.Set("k", "v");
        Assert.That(second.Exists("k"), Is.False, "two created instances do not share a store");
    }

    [Test]
    public void Create_overrides_apply_to_that_instance_only()
    {
        Configure("main", Memory("configured"));

        var created = Caches.Create("main", new Dictionary<string, string?> { ["Namespace"] = "whatever", ["Ttl"] = "10" });

        Assert.That(created.Namespace, Is.EqualTo("whatever"));
        Assert.That(created.Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(Caches.Get("main").Namespace, Is.EqualTo("configured"));
        Assert.That(Caches.Create("main").Namespace, Is.EqualTo("configured"));
        Assert.That(Caches.GetAliasConfig("main")["Namespace"], Is.EqualTo("configured"));
        Assert.That(Caches.GetAliasConfig("main")["Ttl"], Is.Null);
    }

    [Test]
    public void Create_overrides_the_cache_type_and_the_serializer_by_class_name()
    {
        // pycached's caches.create(alias, serializer={...}): the class by name, as appsettings.json names it.
        Configure("main", Memory("configured"));

        var created = Caches.Create("main", new Dictionary<string, string?> { ["Serializer"] = "Cached.Serializers.JsonSerializer", ["cache"] = "Cached.SimpleMemoryCache" });
        var defaulted = Caches.Create("main", new Dictionary<string, string?> { ["serializer"] = null });

        Assert.That(created.Serializer, Is.InstanceOf<Cached.Serializers.JsonSerializer>());
        Assert.That(defaulted.Serializer, Is.InstanceOf<Cached.Serializers.NullSerializer>(), "null: the cache type's default");
        Assert.That(Caches.GetAliasConfig("main").Serializer, Is.Null, "the alias's own configuration is unchanged");
        Assert.That(created.Namespace, Is.EqualTo("configured"));
    }

    [Test]
    public void Create_overrides_accept_snake_case_settings()
    {
        var created = (SimpleMemoryCache)Caches.Create("default", new Dictionary<string, string?> { ["max_entries"] = "7" });

        Assert.That(created.MaxEntries, Is.EqualTo(7));
    }

    [Test]
    public void Create_with_a_bad_override_throws_naming_the_setting()
    {
        var ex = Assert.Throws<CacheConfigurationException>(
            () => Caches.Create("default", new Dictionary<string, string?> { ["Ttl"] = "soon" }));

        Assert.That(ex!.Path, Is.EqualTo("default:Ttl"));
    }

    // ---- unknown aliases ----

    [Test]
    public void Get_of_an_unknown_alias_throws_naming_the_alias()
    {
        var ex = Assert.Throws<UnknownCacheAliasException>(() => Caches.Get("missing"));

        Assert.That(ex!.Alias, Is.EqualTo("missing"));
        Assert.That(ex.Path, Is.EqualTo("missing"));
        Assert.That(ex.Message, Does.Contain("missing"));
        Assert.That(ex, Is.InstanceOf<CacheConfigurationException>());
    }

    [Test]
    public void An_unknown_alias_s_message_names_the_configured_alias_it_was_likely_meant_to_be_and_every_alias()
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory(), ["redis_alt"] = Memory() });
        Caches.AddInstance("sessions", new SimpleMemoryCache());

        var typo = Assert.Throws<UnknownCacheAliasException>(() => Caches.Get("redis-alt"));
        var far = Assert.Throws<UnknownCacheAliasException>(() => Caches.Get("reports"));
        Assert.Multiple(() =>
        {
            Assert.That(typo!.Message, Does.Contain("Did you mean 'redis_alt'?"));
            Assert.That(typo.Message, Does.Contain("Configured aliases: 'default', 'redis_alt', 'sessions'."));
            Assert.That(far!.Message, Does.Not.Contain("Did you mean"), "nothing close");
            Assert.That(far.Message, Does.Contain("Configured aliases: 'default', 'redis_alt', 'sessions'."));
        });
    }

    [TestCase("Redis", "redis")]
    [TestCase("redis-alt", "redis_alt")]
    [TestCase("sesions", "sessions")]
    [TestCase("sessoins", "sessions")]
    [TestCase("cache", null)]
    [TestCase("rdis", "redis")]
    [TestCase("ab", null)]
    public void The_closest_alias_is_the_same_but_for_case_and_separators_or_a_few_edits_away(string alias, string? expected)
        => Assert.That(Cached.Runtime.AliasSuggestions.Closest(alias, ["default", "redis", "redis_alt", "sessions", "ac"]), Is.EqualTo(expected));

    [Test]
    public void Create_of_an_unknown_alias_throws_naming_the_alias()
    {
        var ex = Assert.Throws<UnknownCacheAliasException>(() => Caches.Create("missing"));

        Assert.That(ex!.Alias, Is.EqualTo("missing"));
    }

    [Test]
    public void GetAliasConfig_of_an_unknown_alias_throws_naming_the_alias()
    {
        var ex = Assert.Throws<UnknownCacheAliasException>(() => Caches.GetAliasConfig("missing"));

        Assert.That(ex!.Alias, Is.EqualTo("missing"));
    }

    [TestCase("")]
    [TestCase(" ")]
    public void An_empty_alias_is_refused(string alias)
    {
        Assert.Throws<ArgumentException>(() => Caches.Get(alias));
        Assert.Throws<ArgumentException>(() => Caches.Create(alias));
        Assert.Throws<ArgumentException>(() => Caches.Add(alias, Memory()));
    }

    // ---- SetConfig ----

    [Test]
    public void SetConfig_without_a_default_alias_throws_and_keeps_the_previous_configuration()
    {
        Configure("main", Memory("kept"));

        Assert.Throws<ArgumentException>(() => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["other"] = Memory() }));
        Assert.Throws<ArgumentException>(() => Caches.SetConfig(new Dictionary<string, CacheConfig>()));

        Assert.That(Caches.GetConfig().Keys, Is.EquivalentTo(new[] { "default", "main" }));
        Assert.That(Caches.Get("main").Namespace, Is.EqualTo("kept"));
    }

    [Test]
    public void SetConfig_with_a_null_entry_throws()
    {
        Assert.Throws<ArgumentException>(() => Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory(), ["bad"] = null! }));
    }

    [Test]
    public void SetConfig_marks_the_caches_as_configured()
    {
        Configure("main", Memory());

        Assert.That(Caches.IsDefaultConfigured, Is.True);
    }

    [Test]
    public void SetConfig_drops_the_instances_of_the_aliases_it_names()
    {
        Configure("main", Memory("old"));
        var before = Caches.Get("main");
        var defaultBefore = Caches.Get("default");

        Configure("main", Memory("new"));

        var after = Caches.Get("main");
        Assert.That(after, Is.Not.SameAs(before));
        Assert.That(after.Namespace, Is.EqualTo("new"));
        Assert.That(Caches.Get("default"), Is.Not.SameAs(defaultBefore));
    }

    [Test]
    public void SetConfig_keeps_the_instance_of_an_alias_it_does_not_name()
    {
        Configure("main", Memory("old"));
        var before = Caches.Get("main");

        Caches.SetConfig(new Dictionary<string, CacheConfig> { ["default"] = Memory() });

        Assert.That(Caches.Get("main"), Is.SameAs(before));
        Assert.Throws<UnknownCacheAliasException>(() => Caches.Create("main"));
    }

    [Test]
    public void SetConfig_stores_a_copy_of_the_configuration()
    {
        var main = Memory("original");
        var config = new Dictionary<string, CacheConfig> { ["default"] = Memory(), ["main"] = main };
        Caches.SetConfig(config);

        main["Namespace"] = "changed";
        config["extra"] = Memory();

        Assert.That(Caches.Get("main").Namespace, Is.EqualTo("original"));
        Assert.That(Caches.GetConfig().ContainsKey("extra"), Is.False);
    }

    // ---- GetConfig / GetAliasConfig ----

    [Test]
    public void GetConfig_returns_every_alias_as_a_copy()
    {
        Configure("main", Memory("ns"));

        var config = Caches.GetConfig();
        config["main"]["Namespace"] = "tampered";

        Assert.That(config.Keys, Is.EquivalentTo(new[] { "default", "main" }));
        Assert.That(Caches.GetConfig()["main"]["Namespace"], Is.EqualTo("ns"));
        Assert.That(Caches.Get("main").Namespace, Is.EqualTo("ns"));
    }

    [Test]
    public void GetAliasConfig_returns_a_copy_of_one_alias()
    {
        var main = Memory("ns");
        main.Serializer = new ClassConfig(typeof(StringSerializer).FullName!);
        main.Plugins.Add(new ClassConfig(typeof(TimingPlugin).FullName!));
        Configure("main", main);

        var copy = Caches.GetAliasConfig("main");
        Assert.That(copy.Cache, Is.EqualTo(MemoryCache));
        Assert.That(copy["Namespace"], Is.EqualTo("ns"));
        Assert.That(copy.Serializer!.Class, Is.EqualTo(typeof(StringSerializer).FullName));
        Assert.That(copy.Plugins.Select(p => p.Class), Is.EqualTo(new[] { typeof(TimingPlugin).FullName }));

        copy.Serializer.Class = "Nope";
        copy.Plugins.Clear();
        Assert.That(Caches.GetAliasConfig("main").Serializer!.Class, Is.EqualTo(typeof(StringSerializer).FullName));
        Assert.That(Caches.GetAliasConfig("main").Plugins, Has.Count.EqualTo(1));
    }

    // ---- Add ----

    [Test]
    public void Add_inserts_an_alias_and_keeps_the_others()
    {
        Caches.Add("extra", Memory("x"));

        Assert.That(Caches.GetConfig().Keys, Is.EquivalentTo(new[] { "default", "extra" }));
        Assert.That(Caches.GetAliasConfig("extra")["Namespace"], Is.EqualTo("x"));
        Assert.That(Caches.Get("extra").Namespace, Is.EqualTo("x"));
        Assert.That(Caches.IsDefaultConfigured, Is.False, "adding another alias does not configure the default one");
    }

    [Test]
    public void Add_overwrites_the_configuration_of_an_alias()
    {
        Caches.Add("extra", Memory("first"));
        Caches.Add("extra", Memory("second"));

        Assert.That(Caches.GetAliasConfig("extra")["Namespace"], Is.EqualTo("second"));
        Assert.That(Caches.Get("extra").Namespace, Is.EqualTo("second"));
    }

    [Test]
    public void Add_on_an_alias_already_created_keeps_serving_the_old_instance()
    {
        Caches.Add("extra", Memory("first"));
        var before = Caches.Get("extra");

        Caches.Add("extra", Memory("second"));

        Assert.That(Caches.Get("extra"), Is.SameAs(before), "pycached quirk: add does not drop the memoised instance");
        Assert.That(Caches.Get("extra").Namespace, Is.EqualTo("first"));
        Assert.That(Caches.Create("extra").Namespace, Is.EqualTo("second"));
    }

    [Test]
    public void Add_stores_a_copy_of_the_configuration()
    {
        var config = Memory("original");
        Caches.Add("extra", config);

        config["Namespace"] = "changed";

        Assert.That(Caches.Get("extra").Namespace, Is.EqualTo("original"));
    }

    // ---- serializer, plugins and settings ----

    [Test]
    public void The_serializer_is_created_from_its_class_name()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(JsonSerializer).FullName!);
        Configure("json", config);

        var cache = Caches.Get("json");

        Assert.That(cache.Serializer, Is.InstanceOf<JsonSerializer>());
        cache.Set("k", new[] { 1, 2 });
        Assert.That(cache.Raw("get", "k"), Is.EqualTo("[1,2]"u8.ToArray()));
    }

    [Test]
    public void Without_a_serializer_the_cache_type_default_is_used()
    {
        Configure("plain", Memory());

        Assert.That(Caches.Get("plain").Serializer, Is.InstanceOf<NullSerializer>());
    }

    [Test]
    public void Plugins_are_created_from_their_class_names_in_order()
    {
        var config = Memory();
        config.Plugins.Add(new ClassConfig(typeof(TimingPlugin).FullName!));
        config.Plugins.Add(new ClassConfig(typeof(HitMissRatioPlugin).FullName!));
        config.Plugins.Add(new ClassConfig(typeof(TimingPlugin).FullName!));
        Configure("plugged", config);

        var plugins = Caches.Get("plugged").Plugins;

        Assert.That(plugins, Has.Count.EqualTo(3));
        Assert.That(plugins[0], Is.InstanceOf<TimingPlugin>());
        Assert.That(plugins[1], Is.InstanceOf<HitMissRatioPlugin>());
        Assert.That(plugins[2], Is.InstanceOf<TimingPlugin>());
        Assert.That(plugins[2], Is.Not.SameAs(plugins[0]));
    }

    [Test]
    public void Configured_plugins_run_on_the_commands_of_the_cache()
    {
        var config = Memory();
        config.Plugins.Add(new ClassConfig(typeof(HitMissRatioPlugin).FullName!));
        Configure("plugged", config);
        var cache = Caches.Get("plugged");

        cache.Set("k", "v");
        cache.Get<string>("k");
        cache.Get<string>("absent");

        var ratio = (HitMissRatioPlugin)cache.Plugins[0];
        Assert.That(ratio.Total, Is.EqualTo(2));
        Assert.That(ratio.Hits, Is.EqualTo(1));
    }

    [Test]
    public void Each_instance_gets_its_own_plugins_and_serializer()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(StringSerializer).FullName!);
        config.Plugins.Add(new ClassConfig(typeof(TimingPlugin).FullName!));
        Configure("main", config);

        var a = Caches.Create("main");
        var b = Caches.Create("main");

        Assert.That(b.Plugins[0], Is.Not.SameAs(a.Plugins[0]));
        Assert.That(b.Serializer, Is.Not.SameAs(a.Serializer));
    }

    [Test]
    public void Settings_are_converted_to_the_property_types()
    {
        var config = Memory("main");
        config["Ttl"] = "10";
        config["Timeout"] = "1.5";
        config["MaxEntries"] = "100";
        config["SweepInterval"] = "00:00:30";
        Configure("typed", config);

        var cache = (SimpleMemoryCache)Caches.Get("typed");

        Assert.That(cache.Namespace, Is.EqualTo("main"));
        Assert.That(cache.Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(cache.Timeout, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        Assert.That(cache.MaxEntries, Is.EqualTo(100));
        Assert.That(cache.SweepInterval, Is.EqualTo(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void Settings_are_read_with_the_invariant_culture()
    {
        var saved = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var config = Memory();
            config["Timeout"] = "1.5";
            Configure("typed", config);

            Assert.That(Caches.Get("typed").Timeout, Is.EqualTo(TimeSpan.FromSeconds(1.5)));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = saved;
        }
    }

    [Test]
    public void Setting_names_are_case_insensitive_and_accept_snake_case()
    {
        var config = Memory();
        config["namespace"] = "lower";
        config["TTL"] = "5";
        config["max_entries"] = "3";
        config["sweep_interval"] = "2";
        Configure("snake", config);

        var cache = (SimpleMemoryCache)Caches.Get("snake");

        Assert.That(cache.Namespace, Is.EqualTo("lower"));
        Assert.That(cache.Ttl, Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(cache.MaxEntries, Is.EqualTo(3));
        Assert.That(cache.SweepInterval, Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public void A_zero_ttl_setting_means_no_expiry()
    {
        var config = Memory();
        config["Ttl"] = "0";
        Configure("forever", config);

        Assert.That(Caches.Get("forever").Ttl, Is.Null);
    }

    [Test]
    public void An_empty_setting_for_a_nullable_property_leaves_it_null()
    {
        var config = Memory();
        config["MaxEntries"] = "";
        config["Namespace"] = null;
        Configure("empty", config);

        var cache = (SimpleMemoryCache)Caches.Get("empty");

        Assert.That(cache.MaxEntries, Is.Null);
        Assert.That(cache.Namespace, Is.Null);
    }

    [Test]
    public void User_defined_serializer_and_plugin_are_created_by_full_name_with_their_settings()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(ConfiguredTestSerializer).FullName!)
        {
            ["Prefix"] = "p-",
            ["level"] = "7",
            ["verbose"] = "true",
            ["Day"] = "tuesday",
            ["Delay"] = "2.5",
        };
        config.Plugins.Add(new ClassConfig(typeof(ConfiguredTestPlugin).FullName!) { ["label"] = "counter" });
        Configure("custom", config);

        var cache = Caches.Get("custom");

        var serializer = (ConfiguredTestSerializer)cache.Serializer;
        Assert.That(serializer.Prefix, Is.EqualTo("p-"));
        Assert.That(serializer.Level, Is.EqualTo(7));
        Assert.That(serializer.Verbose, Is.True);
        Assert.That(serializer.Day, Is.EqualTo(DayOfWeek.Tuesday));
        Assert.That(serializer.Delay, Is.EqualTo(TimeSpan.FromSeconds(2.5)));
        var plugin = (ConfiguredTestPlugin)cache.Plugins.Single();
        Assert.That(plugin.Label, Is.EqualTo("counter"));

        cache.Set("k", "v");
        Assert.That(cache.Get<string>("k"), Is.EqualTo("p-v"));
        Assert.That(plugin.Sets, Is.EqualTo(1));
    }

    [Test]
    public void An_assembly_qualified_user_type_name_is_accepted()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(ConfiguredTestSerializer).AssemblyQualifiedName!);
        Configure("qualified", config);

        Assert.That(Caches.Get("qualified").Serializer, Is.InstanceOf<ConfiguredTestSerializer>());
    }

    // ---- configuration errors ----

    [Test]
    public void An_unknown_cache_type_throws_naming_the_Cache_entry()
    {
        Configure("redis_alt", new CacheConfig { Cache = "Cached.Nowhere.NoSuchCache" });

        var ex = Assert.Throws(Is.InstanceOf<CacheConfigurationException>(), () => Caches.Get("redis_alt")) as CacheConfigurationException;

        Assert.That(ex!.Path, Is.EqualTo("redis_alt:Cache"));
        Assert.That(ex.Message, Does.Contain("Cached.Nowhere.NoSuchCache"));
    }

    [Test]
    public void A_missing_cache_type_throws_naming_the_Cache_entry()
    {
        Configure("bare", new CacheConfig());

        var ex = Assert.Throws(Is.InstanceOf<CacheConfigurationException>(), () => Caches.Get("bare")) as CacheConfigurationException;

        Assert.That(ex!.Path, Is.EqualTo("bare:Cache"));
    }

    [TestCase("System.String")]
    [TestCase("Cached.Tests.Configuration.NotACacheComponent")]
    [TestCase("Cached.BaseCache")]
    [TestCase("Cached.Serializers.JsonSerializer")]
    public void A_type_that_is_not_a_concrete_cache_throws_InvalidCacheTypeException(string typeName)
    {
        Configure("alias", new CacheConfig { Cache = typeName });

        var ex = Assert.Throws<InvalidCacheTypeException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Cache"));
    }

    [Test]
    public void An_unknown_serializer_class_throws_naming_the_serializer_entry()
    {
        var config = Memory();
        config.Serializer = new ClassConfig("Cached.Serializers.NoSuchSerializer");
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Serializer:Class"));
    }

    [Test]
    public void A_serializer_class_that_is_not_a_serializer_throws_naming_the_serializer_entry()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(TimingPlugin).FullName!);
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Serializer:Class"));
    }

    [Test]
    public void A_serializer_entry_without_a_class_throws_naming_the_entry()
    {
        var config = Memory();
        config.Serializer = new ClassConfig();
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Serializer:Class"));
    }

    [Test]
    public void An_unknown_plugin_class_throws_naming_its_index()
    {
        var config = Memory();
        config.Plugins.Add(new ClassConfig(typeof(TimingPlugin).FullName!));
        config.Plugins.Add(new ClassConfig("Cached.Plugins.NoSuchPlugin"));
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Plugins:1:Class"));
        Assert.That(ex.Message, Does.Contain("Cached.Plugins.NoSuchPlugin"));
    }

    [Test]
    public void A_plugin_class_that_is_not_a_plugin_throws_naming_its_index()
    {
        var config = Memory();
        config.Plugins.Add(new ClassConfig(typeof(NotACacheComponent).FullName!));
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Plugins:0:Class"));
    }

    [Test]
    public void A_null_plugin_entry_is_reported_as_a_configuration_error()
    {
        var config = Memory();
        config.Plugins.Add(null!);

        // Refused either when the configuration is set or when the cache is created, but never as a NullReferenceException.
        var ex = Assert.Catch(() =>
        {
            Configure("alias", config);
            Caches.Get("alias");
        });

        Assert.That(ex, Is.InstanceOf<ArgumentException>().Or.InstanceOf<CacheConfigurationException>());
        if (ex is CacheConfigurationException configError)
        {
            Assert.That(configError.Path, Does.StartWith("alias:Plugins:0"));
        }
    }

    [Test]
    public void An_unknown_cache_setting_throws_naming_the_setting()
    {
        var config = Memory();
        config["Colour"] = "blue";
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Colour"));
    }

    [Test]
    public void A_read_only_property_is_not_a_setting()
    {
        var config = Memory();
        config["Count"] = "3";
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Count"));
    }

    [Test]
    public void An_unknown_serializer_setting_throws_naming_the_setting()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(StringSerializer).FullName!) { ["Encoding"] = "utf-8" };
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Serializer:Encoding"));
    }

    [Test]
    public void An_unknown_plugin_setting_throws_naming_the_setting()
    {
        var config = Memory();
        config.Plugins.Add(new ClassConfig(typeof(TimingPlugin).FullName!) { ["Precision"] = "high" });
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Plugins:0:Precision"));
    }

    [TestCase("Ttl", "ten")]
    [TestCase("Ttl", "-1")]
    [TestCase("Timeout", "-2")]
    [TestCase("Timeout", "NaN")]
    [TestCase("MaxEntries", "lots")]
    [TestCase("MaxEntries", "0")]
    [TestCase("MaxEntries", "99999999999")]
    [TestCase("SweepInterval", "0")]
    public void A_bad_setting_value_throws_naming_the_setting(string setting, string value)
    {
        var config = Memory();
        config[setting] = value;
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo($"alias:{setting}"));
    }

    [Test]
    public void A_bad_snake_case_setting_value_names_the_setting_as_written()
    {
        var config = Memory();
        config["max_entries"] = "many";
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:max_entries"));
    }

    [Test]
    public void A_bad_user_serializer_setting_value_throws_naming_the_setting()
    {
        var config = Memory();
        config.Serializer = new ClassConfig(typeof(ConfiguredTestSerializer).FullName!) { ["Verbose"] = "maybe" };
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:Serializer:Verbose"));
    }

    [Test]
    public void A_property_that_cannot_be_read_from_text_throws_naming_the_setting()
    {
        var config = Memory();
        config["KeyBuilder"] = "concat";
        Configure("alias", config);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Path, Is.EqualTo("alias:KeyBuilder"));
    }

    [Test]
    public void A_failed_creation_memoises_nothing_and_a_fixed_configuration_works()
    {
        var bad = Memory();
        bad["Ttl"] = "ten";
        Caches.Add("alias", bad);
        Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        var good = Memory();
        good["Ttl"] = "10";
        Caches.Add("alias", good);

        Assert.That(Caches.Get("alias").Ttl, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void The_created_instance_is_memoised_across_threads()
    {
        Configure("main", Memory());
        var seen = new ICache[16];

        Parallel.For(0, seen.Length, i => seen[i] = Caches.Get("main"));

        Assert.That(seen.Distinct().Count(), Is.EqualTo(1));
    }
}
