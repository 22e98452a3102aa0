using System.Text;
using Cached.Plugins;
using Microsoft.Extensions.Configuration;

namespace Cached.Tests.Configuration;

/// <summary>A plugin with the settings pycached names differently (<c>host</c>, <c>db</c>), as a Redis cache has them.</summary>
public sealed class ServerSettingsTestPlugin : CachePlugin
{
    public string? Endpoint { get; set; }

    public int? Database { get; set; }
}

/// <summary>
/// pycached's spellings of a setting (<c>host</c>, <c>db</c>, <c>max_entries</c>) beside the .NET name of the same
/// property: one of them alone works; both, from one file or from two layered sources, are refused naming both paths,
/// instead of the one that comes last by key order winning over the source layered last.
/// </summary>
[NonParallelizable]
public class SettingSpellingTests
{
    private const string Plugin = "Cached.Tests.Configuration.ServerSettingsTestPlugin";

    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static IConfigurationSection Layered(string json, Dictionary<string, string?> environment)
        => new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)))
            .AddInMemoryCollection(environment)
            .Build()
            .GetSection("Cached");

    private static string PluginFile(string setting, string value) => $$"""
        { "Cached": {
            "default": { "Cache": "Cached.SimpleMemoryCache" },
            "alt": { "Cache": "Cached.SimpleMemoryCache", "Plugins": [ { "Class": "{{Plugin}}", "{{setting}}": {{value}} } ] } } }
        """;

    [TestCase("host", "\"127.0.0.1\"", "Endpoint", "10.1.2.3")]
    [TestCase("db", "3", "Database", "7")]
    public void A_pycached_name_in_the_file_and_the_dotnet_name_from_the_environment_are_refused_naming_both(
        string fileSetting, string fileValue, string environmentSetting, string environmentValue)
    {
        var section = Layered(PluginFile(fileSetting, fileValue), new() { [$"Cached:alt:Plugins:0:{environmentSetting}"] = environmentValue });

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.SetConfig(section));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain($"'Cached:alt:Plugins:0:{fileSetting}'"));
            Assert.That(ex.Message, Does.Contain($"'Cached:alt:Plugins:0:{environmentSetting}'"));
            Assert.That(ex.Message, Does.Contain("keep one"));
            Assert.That(ex.Path, Is.EqualTo($"Cached:alt:Plugins:0:{fileSetting}").Or.EqualTo($"Cached:alt:Plugins:0:{environmentSetting}"));
        });
    }

    [Test]
    public void Max_entries_in_the_file_and_MaxEntries_from_the_environment_are_refused_naming_both()
    {
        var section = Layered("""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "max_entries": 10 } } }
            """, new() { ["Cached:default:MaxEntries"] = "20" });

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.SetConfig(section));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("'Cached:default:max_entries'").And.Contain("'Cached:default:MaxEntries'"));
            Assert.That(ex.Message, Does.Contain("MaxEntries"));
        });
    }

    [Test]
    public void Both_spellings_in_one_file_are_refused_and_the_previous_configuration_stays()
    {
        Caches.SetConfig(ConfigurationBindingTests.Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "MaxEntries": 5 } } }"""));
        var section = ConfigurationBindingTests.Section("""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "MaxEntries": 20, "max_entries": 10 } } }
            """);

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.SetConfig(section));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("'Cached:default:max_entries'").And.Contain("'Cached:default:MaxEntries'"));
            Assert.That(((SimpleMemoryCache)Caches.Get()).MaxEntries, Is.EqualTo(5));
        });
    }

    [Test]
    public void Both_spellings_set_on_a_CacheConfig_are_refused_when_its_cache_is_made()
    {
        Caches.Add("alias", new CacheConfig { Cache = "Cached.SimpleMemoryCache", ["max_entries"] = "10", ["MaxEntries"] = "20" });

        var ex = Assert.Throws<CacheConfigurationException>(() => Caches.Get("alias"));

        Assert.That(ex!.Message, Does.Contain("'alias:max_entries'").And.Contain("'alias:MaxEntries'"));
    }

    [TestCase("host", "\"10.9.9.9\"")]
    [TestCase("Endpoint", "\"10.9.9.9\"")]
    public void One_spelling_of_the_host_alone_still_sets_Endpoint(string setting, string value)
    {
        Caches.SetConfig(Layered(PluginFile(setting, value), new()));

        Assert.That(((ServerSettingsTestPlugin)Caches.Get("alt").Plugins.Single()).Endpoint, Is.EqualTo("10.9.9.9"));
    }

    [TestCase("db")]
    [TestCase("Database")]
    public void One_spelling_of_the_database_alone_still_sets_Database(string setting)
    {
        Caches.SetConfig(Layered(PluginFile(setting, "3"), new()));

        Assert.That(((ServerSettingsTestPlugin)Caches.Get("alt").Plugins.Single()).Database, Is.EqualTo(3));
    }

    [Test]
    public void An_environment_override_in_the_files_own_spelling_wins()
    {
        var section = Layered("""
            { "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "max_entries": 10 } } }
            """, new() { ["Cached:default:max_entries"] = "20" });

        Caches.SetConfig(section);

        Assert.That(((SimpleMemoryCache)Caches.Get()).MaxEntries, Is.EqualTo(20));
    }

    [Test]
    public void A_Create_override_in_another_spelling_replaces_the_aliases_setting()
    {
        Caches.SetConfig(ConfigurationBindingTests.Section("""{ "Cached": { "default": { "Cache": "Cached.SimpleMemoryCache", "max_entries": 5 } } }"""));

        var created = (SimpleMemoryCache)Caches.Create("default", new Dictionary<string, string?> { ["MaxEntries"] = "9" });

        Assert.That(created.MaxEntries, Is.EqualTo(9));
    }
}
