namespace Cached.Redis.Tests;

/// <summary>What a redis:// URL configures, read from the cache it makes (no connection is needed for that).</summary>
public sealed class RedisUrlPartsTests
{
    [Test]
    public void Port_zero_is_refused_as_any_port_outside_1_to_65535_instead_of_falling_back_to_6379()
    {
        // Regression (review of configuration): the port-0 URL skipped its port, so the cache connected to 6379.
        var refused = Assert.Throws<CacheConfigurationException>(() => Cache.FromUrl("redis://127.0.0.1:0/0"));
        Assert.That(refused!.Message, Does.Contain("Port"));
        Assert.That(((RedisCache)Cache.FromUrl("redis://127.0.0.1:/0")).Port, Is.EqualTo(6379), "an empty port is the default one");
        Assert.That(((RedisCache)Cache.FromUrl("redis://127.0.0.1:6390/0")).Port, Is.EqualTo(6390));
    }

    [TestCase("redis://:@127.0.0.1:6390?password=p%40ss", null)]
    [TestCase("redis://app:@127.0.0.1:6390?password=p%40ss", "app")]
    public void An_empty_password_in_the_url_leaves_the_querys_password(string url, string? user)
    {
        // Regression (review of configuration): the URL's empty password replaced the query's, and the login was
        // refused; aiocache takes the URL's password only when it is not empty.
        var cache = (RedisCache)Cache.FromUrl(url);

        Assert.That(cache.Password, Is.EqualTo("p@ss"));
        Assert.That(cache.User, Is.EqualTo(user));
    }

    [Test]
    public void A_password_in_the_url_still_wins_over_the_querys()
        => Assert.That(((RedisCache)Cache.FromUrl("redis://:url%3Apw@127.0.0.1:6390?password=query")).Password, Is.EqualTo("url:pw"));
}
