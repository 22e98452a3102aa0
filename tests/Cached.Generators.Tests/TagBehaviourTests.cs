using Cached.Generators.Tests.Scenarios;

namespace Cached.Generators.Tests;

/// <summary>
/// Generated tagged methods and [InvalidateTags] methods against SimpleMemoryCache (issue 17): an entry carries the
/// tags its method's templates build from the call's arguments, and invalidating one of them makes it miss.
/// </summary>
public sealed class TagBehaviourTests
{
    private CallCounter _calls = null!;
    private TaggedUserService _service = null!;

    [SetUp]
    public void PointTheScenarioAliasAtAFreshCache()
    {
        Caches.Reset();
        Caches.AddInstance(UserService.Alias, new SimpleMemoryCache());
        _calls = new CallCounter();
        _service = new TaggedUserService(_calls);
    }

    [TearDown]
    public void ResetCaches() => Caches.Reset();

    [Test]
    public async Task A_tagged_method_hits_on_its_second_call()
    {
        _service.GetUser(1);
        await _service.GetProfileAsync(1);

        Assert.That(_service.GetUser(1), Is.EqualTo(new User(1, "user1")));
        Assert.That(await _service.GetProfileAsync(1), Is.EqualTo("profile1"));
        Assert.That((_calls[nameof(TaggedUserService.GetUser)], _calls[nameof(TaggedUserService.GetProfileAsync)]), Is.EqualTo((1, 1)));
    }

    [Test]
    public void After_InvalidateTags_the_entries_of_that_user_miss_and_the_other_users_entries_still_hit()
    {
        _service.GetUser(1);
        _service.GetUser(2);
        _service.GetUsers([1, 2], "north");

        _service.Rename(1, "renamed");

        _service.GetUser(1);
        _service.GetUser(2);
        Assert.That(_calls[nameof(TaggedUserService.GetUser)], Is.EqualTo(3), "user 1 ran again, user 2 hit");
        _service.GetUsers([1, 2], "north");
        Assert.That(_service.Requests.Last(), Is.EqualTo(new[] { 1 }), "the entry of user 1 missed, the entry of user 2 hit");
        Assert.That(_calls[nameof(TaggedUserService.Rename)], Is.EqualTo(1));
    }

    [Test]
    public async Task A_read_that_finds_an_invalidated_entry_counts_as_a_miss_for_plugins_sync_and_async([Values] bool json)
    {
        // Found by reading dotnet-counters against the WebApp sample (JSON in memory): such reads counted as hits.
        var ratio = new Cached.Plugins.HitMissRatioPlugin();
        var cache = json ? new SimpleMemoryCache { Plugins = [ratio], Serializer = new Cached.Serializers.JsonSerializer() } : new SimpleMemoryCache { Plugins = [ratio] };
        Caches.AddInstance(UserService.Alias, cache);
        _service.GetUser(1);                      // miss
        _service.GetUser(1);                      // hit
        await _service.GetProfileAsync(1);        // miss
        await _service.GetProfileAsync(1);        // hit

        _service.Rename(1, "renamed");            // invalidates user:1
        await _service.RenameAsync(1, default);   // invalidates user:000001
        _service.GetUser(1);                      // found, invalidated: a miss
        await _service.GetProfileAsync(1);        // found, invalidated: a miss

        Assert.That((ratio.Hits, ratio.Misses), Is.EqualTo((2L, 4L)));
        Assert.That((_calls[nameof(TaggedUserService.GetUser)], _calls[nameof(TaggedUserService.GetProfileAsync)]), Is.EqualTo((2, 2)));
    }

    [Test]
    public async Task A_tag_template_is_formatted_as_a_key_template_is()
    {
        _service.GetUser(1);
        await _service.GetProfileAsync(1);

        // "user:{id:D6}" is "user:000001": the profile's tag, not the user's "user:1".
        Assert.That(await _service.RenameAsync(1, CancellationToken.None), Is.True);

        await _service.GetProfileAsync(1);
        _service.GetUser(1);
        Assert.That(_calls[nameof(TaggedUserService.GetProfileAsync)], Is.EqualTo(2));
        Assert.That(_calls[nameof(TaggedUserService.GetUser)], Is.EqualTo(1));
    }

    [Test]
    public void A_MultiCached_tag_that_names_the_keys_tags_each_entry_with_its_own_key()
    {
        _service.GetUsers([1, 2, 3], "north");

        _service.Rename(2, "renamed");

        var users = _service.GetUsers([1, 2, 3], "north");
        Assert.That(users.Keys, Is.EquivalentTo(new[] { 1, 2, 3 }));
        Assert.That(_service.Requests, Has.Count.EqualTo(2));
        Assert.That(_service.Requests[1], Is.EqualTo(new[] { 2 }), "only the entry of key 2 missed");
    }

    [Test]
    public async Task An_async_MultiCached_method_tags_its_entries_too()
    {
        await _service.GetUsersAsync([1, 2], CancellationToken.None);

        _service.Rename(1, "renamed");

        await _service.GetUsersAsync([1, 2], CancellationToken.None);
        Assert.That(_service.Requests, Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 1 } }));
    }

    [Test]
    public async Task A_MultiCached_tag_from_another_parameter_invalidates_every_entry_of_that_call()
    {
        _service.GetUsers([1, 2], "north");
        _service.GetUsers([3], "south");

        await _service.MoveRegionAsync("north");

        _service.GetUsers([1, 2, 3], "north");
        Assert.That(_service.Requests.Last(), Is.EqualTo(new[] { 1, 2 }), "the entries tagged region:north missed, the one of south hit");
    }

    [Test]
    public void When_the_implementation_throws_no_tag_is_invalidated()
    {
        _service.GetUser(1);

        Assert.That(() => _service.Rename(1, string.Empty), Throws.ArgumentException);

        _service.GetUser(1);
        Assert.That(_calls[nameof(TaggedUserService.GetUser)], Is.EqualTo(1));
    }

    [Test]
    public async Task InvalidateCache_and_InvalidateTags_on_one_method_delete_the_key_and_invalidate_the_tags()
    {
        _service.GetUser(1);
        _service.GetUser(2);
        await _service.GetProfileAsync(3);

        await _service.DeleteAsync(1);

        _service.GetUser(1);
        _service.GetUser(2);
        await _service.GetProfileAsync(3);
        Assert.That(_calls[nameof(TaggedUserService.GetUser)], Is.EqualTo(4), "every entry tagged \"users\" missed");
        Assert.That(_calls[nameof(TaggedUserService.GetProfileAsync)], Is.EqualTo(2));
    }
}
