using Cached.Tests.Backends;

namespace Cached.Tests.Commands;

/// <summary>
/// The commands of ICache, checked against aiocache's acceptance tests (aiocache-semantics.md, section 2) and our
/// documented departures from it. Runs on every backend.
/// </summary>
[TestFixtureSource(typeof(Backends.Backends), nameof(Backends.Backends.All))]
public sealed class CommandTests(CacheBackend backend) : CommandFixture(backend)
{
    private sealed record User(int Id, string Name);

    [Test]
    public void Get_on_a_missing_key_returns_null_or_the_given_default()
    {
        Assert.That(Cache.Get<string>("key"), Is.Null);
        Assert.That(Cache.Get("key", 1), Is.EqualTo(1));
        Assert.That(Cache.Get("key", "fallback"), Is.EqualTo("fallback"));
    }

    [Test]
    public void Set_then_Get_returns_the_value()
    {
        Assert.That(Cache.Set("key", "value"), Is.True);
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("value"));
    }

    [Test]
    public void Get_returns_a_stored_false_or_zero_and_not_the_default()
    {
        Cache.Set("false", false);
        Cache.Set("zero", 0);
        Cache.Set("empty", string.Empty);

        Assert.That(Cache.Get("false", true), Is.False);
        Assert.That(Cache.Get("zero", 7), Is.EqualTo(0));
        Assert.That(Cache.Get("empty", "default"), Is.EqualTo(string.Empty));
    }

    [Test]
    public void A_stored_null_is_a_value_and_not_a_miss()
    {
        Cache.Set<User?>("user", null);

        Assert.That(Cache.TryGet<User>("user", out var value), Is.True);
        Assert.That(value, Is.Null);
        Assert.That(Cache.Get("user", new User(1, "default")), Is.Null, "a stored null is returned, not the default");
        Assert.That(Cache.Exists("user"), Is.True);
        Assert.That(Cache.Delete("user"), Is.EqualTo(1), "deleting a stored null counts it (aiocache's memory backend answers 0)");
    }

    [Test]
    public void TryGet_tells_a_miss_from_a_stored_default()
    {
        Cache.Set("zero", 0);

        Assert.That(Cache.TryGet<int>("zero", out var stored), Is.True);
        Assert.That(stored, Is.EqualTo(0));
        Assert.That(Cache.TryGet<int>("missing", out var missing), Is.False);
        Assert.That(missing, Is.EqualTo(0));
    }

    [Test]
    public void Values_of_any_type_round_trip()
    {
        var user = new User(42, "Ada");
        Cache.Set("user", user);
        Cache.Set("list", new List<int> { 1, 2, 3 });

        Assert.That(Cache.Get<User>("user"), Is.EqualTo(user));
        Assert.That(Cache.Get<List<int>>("list"), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void MultiGet_keeps_the_input_order_and_duplicates_with_default_for_misses()
    {
        Cache.Set("a", "1");
        Cache.Set("b", "2");

        var values = Cache.MultiGet<string>(["b", "missing", "a", "b"]);

        Assert.That(values, Is.EqualTo(new[] { "2", null, "1", "2" }));
    }

    [Test]
    public void MultiGet_of_no_keys_returns_an_empty_list()
    {
        Assert.That(Cache.MultiGet<string>([]), Is.Empty);
    }

    [Test]
    public void MultiSet_stores_every_pair_and_MultiGet_reads_them_in_order()
    {
        Assert.That(Cache.MultiSet([new("key", "value"), new KeyValuePair<string, string>("random", "random_value")]), Is.True);

        Assert.That(Cache.MultiGet<string>(["key", "random"]), Is.EqualTo(new[] { "value", "random_value" }));
    }

    [Test]
    public void MultiSet_with_a_ttl_expires_every_pair()
    {
        Cache.MultiSet([new("a", 1), new KeyValuePair<string, int>("b", 2)], ttl: TimeSpan.FromMilliseconds(300));

        Backend.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(Cache.MultiGet<int?>(["a", "b"]), Is.EqualTo(new int?[] { null, null }));
    }

    [Test]
    public void Set_with_a_ttl_keeps_the_value_until_the_ttl_has_elapsed()
    {
        // Seconds, not milliseconds: moving time costs nothing, and on a server some real time passes between the
        // commands too, which a wide margin before the end of the ttl absorbs.
        Cache.Set("key", "value", ttl: TimeSpan.FromSeconds(10));

        Backend.Advance(TimeSpan.FromSeconds(5));
        Assert.That(Cache.Exists("key"), Is.True, "before the end of its ttl the key is still there");

        Backend.Advance(TimeSpan.FromSeconds(6));
        Assert.That(Cache.Exists("key"), Is.False);
        Assert.That(Cache.Get<string>("key"), Is.Null);
    }

    [Test]
    public void Setting_again_restarts_the_ttl()
    {
        Cache.Set("key", "value", ttl: TimeSpan.FromSeconds(10));
        Backend.Advance(TimeSpan.FromSeconds(6));
        Cache.Set("key", "new_value", ttl: TimeSpan.FromSeconds(10));
        Backend.Advance(TimeSpan.FromSeconds(6));

        Assert.That(Cache.Get<string>("key"), Is.EqualTo("new_value"));
    }

    [Test]
    public void Setting_again_without_a_ttl_removes_the_expiry()
    {
        Cache.Set("key", "value", ttl: TimeSpan.FromMilliseconds(300));
        Cache.Set("key", "value");
        Backend.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(Cache.Exists("key"), Is.True);
    }

    [Test]
    public void The_cache_ttl_applies_when_a_command_gives_none_and_an_explicit_ttl_wins()
    {
        var cache = NewCache(new CacheOptions { Namespace = "ttl", Ttl = TimeSpan.FromMilliseconds(500) });
        cache.Set("default", 1);
        cache.Add("added", 1);
        cache.MultiSet([new KeyValuePair<string, int>("multi", 1)]);
        cache.Set("explicit", 1, ttl: TimeSpan.FromSeconds(20));
        cache.Set("forever", 1, ttl: TimeSpan.Zero);

        Backend.Advance(TimeSpan.FromMilliseconds(800));

        Assert.Multiple(() =>
        {
            Assert.That(cache.Exists("default"), Is.False);
            Assert.That(cache.Exists("added"), Is.False);
            Assert.That(cache.Exists("multi"), Is.False);
            Assert.That(cache.Exists("explicit"), Is.True);
            Assert.That(cache.Exists("forever"), Is.True, "TimeSpan.Zero means no expiry, even over a cache ttl");
        });
    }

    [Test]
    public void Add_on_a_missing_key_stores_the_value()
    {
        Assert.That(Cache.Add("key", "value", ttl: TimeSpan.FromSeconds(1)), Is.True);
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("value"));
    }

    [Test]
    public void Add_on_an_existing_key_throws_and_keeps_the_value()
    {
        Cache.Set("key", "value");

        var error = Assert.Throws<KeyExistsException>(() => Cache.Add("key", "other"));

        Assert.That(error!.Key, Is.EqualTo("key"));
        Assert.That(error.Message, Does.Contain("already exists"));
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("value"));
    }

    [Test]
    public void Add_on_an_expired_key_succeeds()
    {
        Cache.Set("key", "old", ttl: TimeSpan.FromMilliseconds(300));
        Backend.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(Cache.Add("key", "new"), Is.True);
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("new"));
    }

    [Test]
    public void Exists_is_false_for_a_missing_key_and_true_after_Set()
    {
        Assert.That(Cache.Exists("key"), Is.False);
        Cache.Set("key", "value");
        Assert.That(Cache.Exists("key"), Is.True);
    }

    [Test]
    public void Increment_on_a_missing_key_starts_at_zero()
    {
        Assert.That(Cache.Increment("up", 2), Is.EqualTo(2));
        Assert.That(Cache.Increment("down", -2), Is.EqualTo(-2));
        Assert.That(Cache.Increment("one"), Is.EqualTo(1));
    }

    [Test]
    public void Increment_adds_to_a_stored_integer()
    {
        Cache.Set("key", 2L);

        Assert.That(Cache.Increment("key", 2), Is.EqualTo(4));
        Assert.That(Cache.Increment("key", 1), Is.EqualTo(5));
        Assert.That(Cache.Increment("key", -3), Is.EqualTo(2));
        Assert.That(Cache.Get<long>("key"), Is.EqualTo(2));
    }

    [Test]
    public void A_counter_reads_back_as_any_integer_type_it_fits()
    {
        // Redis keeps a counter as text, which every integer type reads; in memory it is a boxed integer of one type.
        Cache.Increment("made", 5);
        Cache.Set("int", 5);
        Cache.Increment("int");

        Assert.That(Cache.Get<int>("made"), Is.EqualTo(5));
        Assert.That(Cache.Get<int?>("made"), Is.EqualTo(5));
        Assert.That(Cache.Get<long>("int"), Is.EqualTo(6L));
        Assert.That(Cache.Get<short>("int"), Is.EqualTo((short)6));
    }

    [Test]
    public void A_counter_read_as_an_integer_type_it_does_not_fit_throws_naming_the_key()
    {
        Cache.Increment("big", 3_000_000_000);

        var error = Assert.Throws<CacheSerializationException>(() => Cache.Get<int>("big"));
        Assert.That(error!.Message, Does.Contain("big"));
        Assert.That(Cache.Get<long>("big"), Is.EqualTo(3_000_000_000), "the counter is kept");
    }

    [Test]
    public void Increment_on_a_value_that_is_not_an_integer_throws_and_keeps_the_value()
    {
        Cache.Set("key", "value");

        var error = Assert.Throws<CacheValueNotIntegerException>(() => Cache.Increment("key"));

        Assert.That(error!.Key, Is.EqualTo(Cache.BuildKey("key")));
        Assert.That(Cache.Get<string>("key"), Is.EqualTo("value"));
    }

    [Test]
    public void Increment_past_the_largest_long_throws_OverflowException_and_keeps_the_value()
    {
        Cache.Set("key", long.MaxValue - 1);

        Assert.Throws<OverflowException>(() => Cache.Increment("key", 2));
        Assert.That(Cache.Get<long>("key"), Is.EqualTo(long.MaxValue - 1));
    }

    [Test]
    public void Delete_returns_the_number_of_entries_removed()
    {
        Assert.That(Cache.Delete("key"), Is.EqualTo(0));
        Cache.Set("key", "value");

        Assert.That(Cache.Delete("key"), Is.EqualTo(1));
        Assert.That(Cache.Get<string>("key"), Is.Null);
    }

    [Test]
    public void Expire_gives_an_existing_key_a_new_ttl()
    {
        Cache.Set("key", "value");

        Assert.That(Cache.Expire("key", TimeSpan.FromMilliseconds(300)), Is.True);
        Backend.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(Cache.Exists("key"), Is.False);
    }

    [TestCase(null)]
    [TestCase(0)]
    public void Expire_with_null_or_zero_removes_the_expiry(int? seconds)
    {
        Cache.Set("key", "value", ttl: TimeSpan.FromMilliseconds(300));

        Assert.That(Cache.Expire("key", seconds is null ? null : TimeSpan.FromSeconds(seconds.Value)), Is.True);
        Backend.Advance(TimeSpan.FromMilliseconds(600));

        Assert.That(Cache.Exists("key"), Is.True);
    }

    [Test]
    public void Expire_on_a_missing_key_returns_false()
    {
        Assert.That(Cache.Expire("key", TimeSpan.FromSeconds(1)), Is.False);
    }

    [Test]
    public void Clear_with_a_namespace_removes_only_that_namespace()
    {
        Cache.Set("key", "value", @namespace: "test");
        Cache.Set("key", "value", @namespace: "other");

        Assert.That(Cache.Clear("test"), Is.True);

        Assert.That(Cache.Exists("key", @namespace: "test"), Is.False);
        Assert.That(Cache.Exists("key", @namespace: "other"), Is.True);
    }

    [Test]
    public void Clear_without_an_argument_clears_only_the_cache_namespace()
    {
        Cache.Set("mine", "value");
        Cache.Set("theirs", "value", @namespace: "other");
        Cache.Set("bare", "value", @namespace: string.Empty);

        Cache.Clear();

        Assert.That(Cache.Exists("mine"), Is.False);
        Assert.That(Cache.Exists("theirs", @namespace: "other"), Is.True, "aiocache wipes the whole store here (#479/#580)");
        Assert.That(Cache.Exists("bare", @namespace: string.Empty), Is.True);
    }

    [Test]
    public void Clear_on_a_cache_without_namespace_removes_everything()
    {
        var cache = NewCache(new CacheOptions());
        cache.Set("key", "value");
        cache.Set("key", "value", @namespace: "other");

        cache.Clear();

        Assert.That(cache.Exists("key"), Is.False);
        Assert.That(cache.Exists("key", @namespace: "other"), Is.False);
    }

    [Test]
    public async Task Clearing_a_namespace_that_holds_nothing_succeeds()
    {
        Assert.That(Cache.Clear("nothing-here"), Is.True);
        Assert.That(await Cache.ClearAsync("nothing-here"), Is.True);
    }

    [Test]
    public void Clear_matches_namespaces_exactly()
    {
        Cache.Set("key", "value", @namespace: "users");
        Cache.Set("key", "value", @namespace: "user");

        Cache.Clear("user");

        Assert.That(Cache.Exists("key", @namespace: "user"), Is.False);
        Assert.That(Cache.Exists("key", @namespace: "users"), Is.True, "aiocache's memory backend clears 'users' too (#1081)");
    }

    [TestCase("a:b")]
    [TestCase("a*")]
    [TestCase("a?")]
    [TestCase("[a]")]
    [TestCase("a\\")]
    public void Clear_with_special_characters_in_the_namespace_touches_no_other_namespace(string adversarial)
    {
        Cache.Set("c", "value", @namespace: adversarial);
        Cache.Set("b:c", "value", @namespace: "a");
        Cache.Set("c", "value", @namespace: "ab");
        Cache.Set("c", "value", @namespace: "a");

        Cache.Clear(adversarial);

        Assert.That(Cache.Exists("c", @namespace: adversarial), Is.False);
        Assert.That(Cache.Exists("b:c", @namespace: "a"), Is.True);
        Assert.That(Cache.Exists("c", @namespace: "ab"), Is.True);
        Assert.That(Cache.Exists("c", @namespace: "a"), Is.True);
    }

    [Test]
    public void A_namespace_argument_overrides_the_cache_namespace_and_empty_means_none()
    {
        Cache.Set("key", "in test");
        Cache.Set("key", "in other", @namespace: "other");
        Cache.Set("key", "bare", @namespace: string.Empty);

        Assert.That(Cache.Get<string>("key"), Is.EqualTo("in test"));
        Assert.That(Cache.Get<string>("key", @namespace: "other"), Is.EqualTo("in other"));
        Assert.That(Cache.Get<string>("key", @namespace: string.Empty), Is.EqualTo("bare"));
        Assert.That(Cache.BuildKey("key", string.Empty), Is.EqualTo("key"));
    }

    [Test]
    public void A_key_and_namespace_that_share_separators_never_collide()
    {
        Cache.Set("b:c", 1, @namespace: "a");
        Cache.Set("c", 2, @namespace: "a:b");

        Assert.That(Cache.Get<int>("b:c", @namespace: "a"), Is.EqualTo(1));
        Assert.That(Cache.Get<int>("c", @namespace: "a:b"), Is.EqualTo(2));
    }

    [Test]
    public void A_key_builder_receives_the_resolved_namespace_for_every_command()
    {
        var seen = new List<(string Key, string? Namespace)>();
        var cache = NewCache(new CacheOptions
        {
            Namespace = "ns",
            KeyBuilder = (key, ns) =>
            {
                seen.Add((key, ns));
                return $"built-{ns}-{key}";
            },
        });

        cache.Set("k", 1);
        cache.Get<int>("k");
        cache.Add("a", 1);
        cache.MultiGet<int>(["k"]);
        cache.MultiSet([new KeyValuePair<string, int>("m", 1)]);
        cache.Exists("k");
        cache.Increment("i");
        cache.Expire("k", TimeSpan.FromSeconds(5));
        cache.Delete("k", @namespace: "other");

        Assert.That(seen.Select(s => s.Namespace).Distinct(), Is.EqualTo(new[] { "ns", "other" }));
        Assert.That(seen, Has.Count.EqualTo(9));
        Assert.That(cache.BuildKey("k"), Is.EqualTo("built-ns-k"));
    }

    [Test]
    public void A_key_builder_decides_where_values_are_stored()
    {
        // Every key maps to one backend key, so writing one key overwrites the other: proof the builder is used.
        var cache = NewCache(new CacheOptions { KeyBuilder = static (_, _) => "same" });
        cache.Set("first", "1");
        cache.Set("second", "2");

        Assert.That(cache.Get<string>("first"), Is.EqualTo("2"));
    }

    [Test]
    public void A_null_key_throws_ArgumentNullException_naming_the_key()
    {
        var error = Assert.Throws<ArgumentNullException>(() => Cache.Set(null!, "value"));
        Assert.That(error!.ParamName, Is.EqualTo("key"));
        Assert.Throws<ArgumentNullException>(() => Cache.Get<string>(null!));
        Assert.Throws<ArgumentNullException>(() => Cache.Delete(null!));
    }

    [Test]
    public void An_empty_key_throws_ArgumentException_naming_the_key()
    {
        var error = Assert.Throws<ArgumentException>(() => Cache.Set(string.Empty, "value"));
        Assert.That(error!.ParamName, Is.EqualTo("key"));
        Assert.Throws<ArgumentException>(() => Cache.Exists(string.Empty));
        Assert.Throws<ArgumentException>(() => Cache.Increment(string.Empty));
    }

    [Test]
    public void A_negative_ttl_throws_and_stores_nothing()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Set("key", "value", ttl: TimeSpan.FromSeconds(-1)));

        Assert.That(error!.ParamName, Is.EqualTo("ttl"));
        Assert.That(Cache.Exists("key"), Is.False);
        Assert.Throws<ArgumentOutOfRangeException>(() => Cache.Expire("key", TimeSpan.FromSeconds(-1)));
    }

    [Test]
    public void Null_pairs_or_keys_throw_ArgumentNullException()
    {
        Assert.That(Assert.Throws<ArgumentNullException>(() => Cache.MultiSet<int>(null!))!.ParamName, Is.EqualTo("pairs"));
        Assert.That(Assert.Throws<ArgumentNullException>(() => Cache.MultiGet<int>(null!))!.ParamName, Is.EqualTo("keys"));
    }

    [Test]
    public void A_bad_pair_in_MultiSet_leaves_the_store_unchanged()
    {
        var error = Assert.Throws<ArgumentException>(() => Cache.MultiSet([new("good", 1), new KeyValuePair<string, int>(string.Empty, 2)]));

        Assert.That(error!.ParamName, Is.EqualTo("pairs"));
        Assert.That(Cache.Exists("good"), Is.False);
    }

    [Test]
    public void A_bad_key_in_MultiGet_throws_naming_its_index()
    {
        var error = Assert.Throws<ArgumentException>(() => Cache.MultiGet<int>(["a", null!]));

        Assert.That(error!.ParamName, Is.EqualTo("keys"));
        Assert.That(error.Message, Does.Contain("index 1"));
    }

    [Test]
    public async Task Every_async_command_behaves_as_its_sync_twin()
    {
        Assert.That(await Cache.SetAsync("key", "value"), Is.True);
        Assert.That(await Cache.GetAsync<string>("key"), Is.EqualTo("value"));
        Assert.That(await Cache.GetAsync("missing", "default"), Is.EqualTo("default"));
        Assert.That(await Cache.TryGetAsync<string>("key"), Is.EqualTo(CacheResult<string>.Hit("value")));
        Assert.That((await Cache.TryGetAsync<string>("missing")).Found, Is.False);
        Assert.That(await Cache.AddAsync("added", 1), Is.True);
        Assert.ThrowsAsync<KeyExistsException>(async () => await Cache.AddAsync("added", 2));
        Assert.That(await Cache.GetAsync<int>("added"), Is.EqualTo(1));
        Assert.That(await Cache.MultiSetAsync([new KeyValuePair<string, string>("m1", "a"), new("m2", "b")]), Is.True);
        Assert.That(await Cache.MultiGetAsync<string>(["m2", "nope", "m1"]), Is.EqualTo(new[] { "b", null, "a" }));
        Assert.That(await Cache.ExistsAsync("key"), Is.True);
        Assert.That(await Cache.IncrementAsync("counter", 5), Is.EqualTo(5));
        Assert.That(await Cache.IncrementAsync("counter", -1), Is.EqualTo(4));
        Assert.That(await Cache.ExpireAsync("key", TimeSpan.FromMilliseconds(300)), Is.True);
        Assert.That(await Cache.ExpireAsync("missing", TimeSpan.FromSeconds(1)), Is.False);
        Backend.Advance(TimeSpan.FromMilliseconds(600));
        Assert.That(await Cache.ExistsAsync("key"), Is.False);
        Assert.That(await Cache.DeleteAsync("added"), Is.EqualTo(1));
        Assert.That(await Cache.DeleteAsync("added"), Is.EqualTo(0));
        Assert.That(await Cache.ClearAsync(), Is.True);
        Assert.That(await Cache.ExistsAsync("m1"), Is.False);
    }

    [Test]
    public void An_async_command_with_a_cancelled_token_throws_and_writes_nothing()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.CatchAsync<OperationCanceledException>(async () => await Cache.SetAsync("key", "value", cancellationToken: cancelled.Token));
        Assert.CatchAsync<OperationCanceledException>(async () => await Cache.MultiSetAsync([new KeyValuePair<string, int>("m", 1)], cancellationToken: cancelled.Token));
        Assert.CatchAsync<OperationCanceledException>(async () => await Cache.GetAsync<string>("key", cancellationToken: cancelled.Token));
        Assert.That(Cache.Exists("key"), Is.False);
        Assert.That(Cache.Exists("m"), Is.False);
    }

    // docs/caches.md: a bad argument fails the task with its ArgumentException whatever the token, never with a cancellation.
    [Test]
    public void A_bad_batch_argument_with_a_cancelled_token_fails_the_task_with_its_ArgumentException_and_writes_nothing()
    {
        var cancelled = new CancellationToken(canceled: true);

        var nullPairs = Cache.MultiSetAsync<int>(null!, cancellationToken: cancelled).AsTask();
        var nullKey = Cache.MultiSetAsync([new KeyValuePair<string, int>("m", 1), new KeyValuePair<string, int>(null!, 2)], cancellationToken: cancelled).AsTask();
        var emptyKey = Cache.MultiSetAsync([new KeyValuePair<string, int>("", 1)], cancellationToken: cancelled).AsTask();
        var nullKeys = Cache.MultiGetAsync<int>(null!, cancellationToken: cancelled).AsTask();

        Assert.That(Assert.ThrowsAsync<ArgumentNullException>(async () => await nullPairs)!.ParamName, Is.EqualTo("pairs"));
        Assert.That(Assert.ThrowsAsync<ArgumentException>(async () => await nullKey)!.ParamName, Is.EqualTo("pairs"));
        Assert.That(Assert.ThrowsAsync<ArgumentException>(async () => await emptyKey)!.ParamName, Is.EqualTo("pairs"));
        Assert.That(Assert.ThrowsAsync<ArgumentNullException>(async () => await nullKeys)!.ParamName, Is.EqualTo("keys"));
        Assert.That(Cache.Exists("m"), Is.False);
    }

    [Test]
    public async Task Every_async_command_with_a_cancelled_token_returns_a_cancelled_task_and_writes_nothing()
    {
        var swept = await CancelledCalls.AssertEveryAsyncMethodReturnsACancelledTask(Cache, Cache.GetType());

        Assert.That(swept, Has.Some.StartsWith("TryGetAsync").And.Some.StartsWith("GetOrSetAsync").And.Some.StartsWith("InvalidateTagsAsync"));
        Assert.That(Cache.Exists("cancelled-call"), Is.False);
    }

    [Test]
    public void Async_commands_check_their_arguments_before_anything_else()
    {
        Assert.ThrowsAsync<ArgumentNullException>(async () => await Cache.GetAsync<string>(null!));
        Assert.ThrowsAsync<ArgumentException>(async () => await Cache.SetAsync(string.Empty, 1));
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Cache.SetAsync("key", 1, ttl: TimeSpan.FromTicks(-1)));
        Assert.ThrowsAsync<ArgumentNullException>(async () => await Cache.MultiSetAsync<int>(null!));
    }
}
