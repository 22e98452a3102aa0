using Cached.Serializers;
using Cached.Tests.Backends;
using Cached.Tests.Commands;

namespace Cached.Tests.Reliability;

/// <summary>Namespaces never leak into each other, whatever their names, and stored bytes never choose a type. On every backend.</summary>
[TestFixtureSource(typeof(Backends.Backends), nameof(Backends.Backends.All))]
public sealed class IsolationTests(CacheBackend backend) : CommandFixture(backend)
{
    private static readonly string[] s_adversarialNamespaces =
    [
        "app", "app:", "app:x", "ap", "app*", "*", "?", "a?p", "[a]", "[", "]", "\\", "app\\", "app\\*", "a:b:*", "app ", "APP", "app\r\n",
    ];

    public sealed record Account(string Owner, decimal Balance);

    public sealed class Gadget
    {
        public static int Created;

        public Gadget() => Interlocked.Increment(ref Created);
    }

    [Test]
    public void Clear_of_a_namespace_removes_exactly_that_namespace_whatever_the_names()
    {
        var cache = NewCache(new CacheOptions { Serializer = new JsonSerializer() });
        foreach (var ns in s_adversarialNamespaces)
        {
            cache.Set("key", ns, @namespace: ns);
            cache.Set("*", ns, @namespace: ns);
        }

        cache.Set("outside", "bare");

        foreach (var cleared in s_adversarialNamespaces)
        {
            cache.Clear(cleared);

            var survivors = s_adversarialNamespaces.Where(ns => cache.Exists("key", ns)).ToList();
            var expected = s_adversarialNamespaces.SkipWhile(ns => ns != cleared).Skip(1).ToList();
            Assert.That(survivors, Is.EqualTo(expected), $"after Clear(\"{cleared}\")");
            Assert.That(cache.Exists("*", cleared), Is.False);
        }

        Assert.That(cache.Get<string>("outside"), Is.EqualTo("bare"), "a key outside every namespace is untouched");
    }

    [Test]
    public void The_same_key_in_two_namespaces_is_two_entries_even_when_the_names_contain_the_separator()
    {
        var cache = NewCache(new CacheOptions { Serializer = new JsonSerializer() });

        cache.Set("b:c", "first", @namespace: "a");
        cache.Set("c", "second", @namespace: "a:b");

        Assert.That((cache.Get<string>("b:c", @namespace: "a"), cache.Get<string>("c", @namespace: "a:b")), Is.EqualTo(("first", "second")));
    }

    [Test]
    public void A_key_carrying_protocol_text_is_one_key_and_runs_nothing()
    {
        var cache = NewCache(new CacheOptions { Namespace = "inj", Serializer = new JsonSerializer() });
        cache.Set("bystander", "still here");
        const string Hostile = "x\r\n*1\r\n$8\r\nFLUSHALL\r\n";

        cache.Set(Hostile, "value");
        cache.Delete(Hostile + "\r\nDEL bystander");

        Assert.Multiple(() =>
        {
            Assert.That(cache.Get<string>(Hostile), Is.EqualTo("value"));
            Assert.That(cache.Get<string>("bystander"), Is.EqualTo("still here"));
        });
    }

    [Test]
    public void A_stored_type_name_is_never_instantiated()
    {
        var cache = NewCache(new CacheOptions { Namespace = "types", Serializer = new JsonSerializer() });
        var gadget = typeof(Gadget).AssemblyQualifiedName;
        cache.Set("account", $$"""{"$type":"{{gadget}}","Owner":"mallory","Balance":1}""", serializer: new StringSerializer());
        Gadget.Created = 0;

        var account = cache.Get<Account>("account");
        var asObject = cache.Get<object>("account");

        Assert.Multiple(() =>
        {
            Assert.That(account, Is.EqualTo(new Account("mallory", 1)));
            Assert.That(asObject, Is.Not.InstanceOf<Gadget>());
            Assert.That(Gadget.Created, Is.Zero);
        });
    }
}
