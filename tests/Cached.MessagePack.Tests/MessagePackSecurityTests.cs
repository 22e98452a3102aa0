using System.Buffers;
using MessagePack;
using MessagePack.Formatters;
using MessagePack.Resolvers;
using MessagePackSerializer = Cached.Serializers.MessagePackSerializer;

namespace Cached.Tests.Serializers;

/// <summary>The default options never let a payload choose the type it is read as.</summary>
[NonParallelizable]
public sealed class MessagePackSecurityTests
{
    [SetUp]
    public void SetUp() => Gadget.ResetCount();

    /// <summary>A payload as an attacker with write access to the store would craft it: the gadget's type name inside.</summary>
    private static byte[] TypelessPayload()
    {
        var payload = MessagePack.MessagePackSerializer.Serialize(
            new Envelope { Label = "hi", Body = new Gadget { Command = "rm -rf /" } },
            TypelessContractlessStandardResolver.Options);
        Gadget.ResetCount();
        return payload;
    }

    [Test]
    public void The_default_resolver_is_not_a_typeless_one()
    {
        var resolver = MessagePackSerializer.DefaultOptions.Resolver;

        Assert.That(resolver, Is.Not.SameAs(TypelessContractlessStandardResolver.Instance));
        Assert.That(resolver, Is.Not.SameAs(TypelessObjectResolver.Instance));
        Assert.That(resolver.GetFormatter<object>(), Is.Not.InstanceOf<TypelessFormatter>());
    }

    [Test]
    public void The_crafted_payload_does_create_the_gadget_under_typeless_options()
    {
        // The control: this payload is a real attack when read with a typeless resolver.
        var read = MessagePack.MessagePackSerializer.Deserialize<Envelope>(TypelessPayload(), TypelessContractlessStandardResolver.Options);

        Assert.That(read.Body, Is.InstanceOf<Gadget>());
        Assert.That(Gadget.Created, Is.EqualTo(1));
    }

    [Test]
    public void A_payload_naming_a_type_is_refused_without_creating_it_under_the_default_options()
    {
        var serializer = new MessagePackSerializer();
        var payload = new ReadOnlySequence<byte>(TypelessPayload());

        // The typeless extension is not data an object member can hold, so the payload is refused outright.
        Assert.Throws<MessagePackSerializationException>(() => serializer.Deserialize<Envelope>(payload));
        Assert.That(Gadget.Created, Is.Zero, "no Gadget was constructed");
    }

    [Test]
    public void A_payload_naming_a_type_is_refused_without_creating_it_through_a_cache()
    {
        using var cache = new SimpleMemoryCache { Serializer = new MessagePackSerializer() };
        cache.Set("k", TypelessPayload(), serializer: Cached.Serializers.NullSerializer.Instance);

        var ex = Assert.Throws<CacheSerializationException>(() => cache.Get<Envelope>("k"));

        Assert.That(ex!.ValueType, Is.EqualTo(typeof(Envelope)));
        Assert.That(Gadget.Created, Is.Zero);
    }

    [Test]
    public void An_object_member_holding_a_derived_type_reads_back_as_plain_data()
    {
        var serializer = new MessagePackSerializer();
        var buffer = new ArrayBufferWriter<byte>();
        serializer.Serialize(buffer, new Envelope { Label = "hi", Body = new Gadget { Command = "calc" } });
        Gadget.ResetCount();

        var read = serializer.Deserialize<Envelope>(new ReadOnlySequence<byte>(buffer.WrittenMemory));

        Assert.That(read!.Label, Is.EqualTo("hi"));
        Assert.That(read.Body, Is.Not.InstanceOf<Gadget>());
        Assert.That(read.Body, Is.InstanceOf<IDictionary<object, object>>());
        Assert.That(((IDictionary<object, object>)read.Body!)["Command"], Is.EqualTo("calc"));
        Assert.That(Gadget.Created, Is.Zero);
    }
}
