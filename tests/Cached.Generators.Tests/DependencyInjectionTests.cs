using Cached.Generators.Tests.Scenarios;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cached.Generators.Tests;

/// <summary>Generated methods in an application that registers its caches with AddCached.</summary>
[NonParallelizable]
public sealed class DependencyInjectionTests
{
    [SetUp]
    public void SetUp() => Caches.Reset();

    [TearDown]
    public void TearDown() => Caches.Reset();

    private static ServiceProvider BuildApp() => new ServiceCollection()
        .AddCached(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cached:default:Cache"] = "Cached.SimpleMemoryCache",
            [$"Cached:{UserService.Alias}:Cache"] = "Cached.SimpleMemoryCache",
            [$"Cached:{UserService.Alias}:Namespace"] = "users",
        }).Build().GetSection("Cached"))
        .AddSingleton<CallCounter>()
        .AddSingleton<UserService>()
        .BuildServiceProvider();

    [Test]
    public void The_generated_module_initializer_registers_every_alias_this_assembly_s_methods_use()
    {
        // The test assembly's own generated Cached.Aliases.g.cs ran when it loaded: nothing here registers by hand.
        var used = Cached.Runtime.CachedAliases.Missing(static _ => false);

        Assert.That(used.Select(static u => u.Alias), Does.Contain(UserService.Alias));
        Assert.That(used.Single(static u => u.Alias == UserService.Alias).Methods, Does.Contain(typeof(UserService).FullName + ".GetUser"));
        Assert.That(Cached.Runtime.CachedAliases.Missing(static alias => alias != UserService.Alias).Select(static u => u.Alias), Is.EqualTo(new[] { UserService.Alias }));
    }

    [Test]
    public async Task A_host_whose_configuration_lacks_an_alias_of_a_generated_method_does_not_start()
    {
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddCached(cached => cached.AddCache("default", new SimpleMemoryCache())))
            .Build();

        var failure = Assert.ThrowsAsync<CacheConfigurationException>(() => host.StartAsync());
        Assert.That(failure!.Message, Does.Contain($"'{UserService.Alias}' (used by"));
        await Task.CompletedTask;
    }

    [Test]
    public async Task A_generated_method_stores_into_the_cache_the_container_hands_out_for_its_alias()
    {
        using var app = BuildApp();
        var service = app.GetRequiredService<UserService>();
        var calls = app.GetRequiredService<CallCounter>();
        var cache = app.GetRequiredKeyedService<ICache>(UserService.Alias);

        var first = service.GetUser(1);
        var second = await service.GetUserAsync(2);

        Assert.Multiple(() =>
        {
            Assert.That(cache.Namespace, Is.EqualTo("users"));
            Assert.That(cache.Get<User>("user:1"), Is.SameAs(first));
            Assert.That(cache.Get<User>("user-async:2"), Is.SameAs(second));
            Assert.That(service.GetUser(1), Is.SameAs(first));
            Assert.That(calls[nameof(UserService.GetUser)], Is.EqualTo(1));
        });
    }

    [Test]
    public void A_value_written_through_the_container_is_a_hit_for_the_generated_method()
    {
        using var app = BuildApp();
        var service = app.GetRequiredService<UserService>();
        var planted = new User(7, "planted");
        app.GetRequiredKeyedService<ICache>(UserService.Alias).Set("user:7", planted);

        Assert.Multiple(() =>
        {
            Assert.That(service.GetUser(7), Is.SameAs(planted));
            Assert.That(app.GetRequiredService<CallCounter>()[nameof(UserService.GetUser)], Is.Zero);
        });
    }

    [Test]
    public void After_the_container_is_disposed_a_new_one_serves_a_fresh_cache()
    {
        User? first;
        using (var app = BuildApp())
        {
            first = app.GetRequiredService<UserService>().GetUser(1);
        }

        using var next = BuildApp();
        var again = next.GetRequiredService<UserService>().GetUser(1);

        Assert.Multiple(() =>
        {
            Assert.That(again, Is.Not.SameAs(first), "the disposed container's cache is gone");
            Assert.That(next.GetRequiredKeyedService<ICache>(UserService.Alias).Get<User>("user:1"), Is.SameAs(again));
        });
    }
}
