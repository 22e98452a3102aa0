using Cached.Serializers;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Backends;

public sealed class MemoryBackend : CacheBackend
{
    private readonly FakeTimeProvider _time = new();

    public override string Name => "memory";

    public override BaseCache Create(CacheOptions options) => new SimpleMemoryCache
    {
        Namespace = options.Namespace,
        Ttl = options.Ttl,
        Plugins = options.Plugins,
        KeyBuilder = options.KeyBuilder,
        TimeProvider = _time,
        // NullSerializer is the memory backend's own default.
        Serializer = options.Serializer ?? NullSerializer.Instance,
    };

    public override void Advance(TimeSpan duration) => _time.Advance(duration);
}
