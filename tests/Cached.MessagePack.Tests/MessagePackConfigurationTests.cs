using Cached.Serializers;
using MessagePack.Resolvers;

namespace Cached.Tests.Serializers;

/// <summary>Creating the serializer from configuration; <see cref="Caches"/> is process-wide, so one test at a time.</summary>
[NonParallelizable]
public sealed class MessagePackConfigurationTests
{
    private ICache? _cache;

    [TearDown]
    public void TearDown()
    {
        // Back to the shape of the library's default configuration (Caches.Reset is internal to Cached.Core).
        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new CacheConfig { Cache = "Cached.SimpleMemoryCache", Serializer = new ClassConfig("Cached.Serializers.StringSerializer") },
        });
        _cache?.Dispose();
        _cache = null;
    }

    // That the short name also resolves before anything has loaded Cached.MessagePack is checked in Cached.Core.Tests,
    // which has the assembly beside it but never touches it.
    [TestCase("Cached.Serializers.MessagePackSerializer")]
    [TestCase("Cached.Serializers.MessagePackSerializer, Cached.MessagePack")]
    public void The_serializer_is_created_from_configuration_by_its_class_name(string className)
    {
        Caches.SetConfig(new Dictionary<string, CacheConfig>
        {
            ["default"] = new CacheConfig { Cache = "Cached.SimpleMemoryCache", Serializer = new ClassConfig(className) },
        });

        _cache = Caches.Get();

        Assert.That(_cache.Serializer, Is.InstanceOf<MessagePackSerializer>());
        Assert.That(((MessagePackSerializer)_cache.Serializer).Options.Resolver, Is.SameAs(ContractlessStandardResolver.Instance));
        _cache.Set("k", new Person("Ada", 36, ["math"]));
        Assert.That(_cache.Raw("get", "k"), Is.InstanceOf<byte[]>());
        Assert.That(_cache.Get<Person>("k")!.Name, Is.EqualTo("Ada"));
    }
}
