using Cached.Runtime;
using Microsoft.Extensions.Time.Testing;

namespace Cached.Tests.Runtime;

/// <summary>
/// Keys of a batch that can have no entry, a null key and one whose cache key is empty: they go to the body on every
/// call and are never read, stored or deleted, on every path of <see cref="MultiCachedMethod{TKey, TValue}"/> (plain,
/// fail-safe, tagged; sync and async), so that they cost only themselves their entry.
/// </summary>
public sealed class MultiCachedUncacheableKeyTests
{
    /// <summary>The path a call takes through the method.</summary>
    public enum Path
    {
        Plain,
        FailSafe,
        Tagged,
    }

    private FakeTimeProvider _time = null!;
    private SimpleMemoryCache _cache = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _cache = new SimpleMemoryCache { TimeProvider = _time };
    }

    [TearDown]
    public void TearDown() => _cache.Dispose();

    /// <summary>A source that records the keys it is asked for and answers every non-null one (or fails when down).</summary>
    private sealed class Source
    {
        public List<string> Calls { get; } = [];

        public bool Down { get; set; }

        public Dictionary<string, string> Load(List<string> keys)
        {
            Calls.Add(string.Join(";", keys.Select(static key => key is null ? "<null>" : "'" + key + "'")));
            return Down
                ? throw new InvalidOperationException("source down")
                : keys.Where(static key => key is not null).ToDictionary(static key => key, static key => "v" + key);
        }
    }

    private MultiCachedMethod<string, string> MethodFor(Path path)
        => new(new CachedMethodOptions { Method = "Tests.Names.Get", CacheFactory = () => _cache, Ttl = 10, FailSafe = path == Path.FailSafe ? 60 : 0 });

    private static async Task<string> Call(bool async, Path path, MultiCachedMethod<string, string> method, Source source, params string[] keys)
    {
        Dictionary<string, string> result;
        if (async)
        {
            var body = static (Source s, List<string> missing, CancellationToken _) => new ValueTask<IEnumerable<KeyValuePair<string, string>>?>(s.Load(missing));
            result = path == Path.Tagged
                ? await method.InvokeAsync(keys, source, static (_, key) => key ?? "null", body, null, static (_, key) => ["name:" + key], CancellationToken.None)
                : await method.InvokeAsync(keys, source, static (_, key) => key ?? "null", body, null, CancellationToken.None);
        }
        else
        {
            var body = static (Source s, List<string> missing) => (IEnumerable<KeyValuePair<string, string>>?)s.Load(missing);
            result = path == Path.Tagged
                ? method.Invoke(keys, source, static (_, key) => key ?? "null", body, null, static (_, key) => ["name:" + key])
                : method.Invoke(keys, source, static (_, key) => key ?? "null", body);
        }

        return string.Join(";", result.OrderBy(static pair => pair.Key, StringComparer.Ordinal).Select(static pair => pair.Key + "=" + pair.Value));
    }

    [Test]
    public async Task An_empty_key_goes_to_the_body_every_time_in_the_callers_order_and_the_other_keys_are_cached([Values] bool async, [Values] Path path)
    {
        var method = MethodFor(path);
        var source = new Source();

        var cold = await Call(async, path, method, source, "a", "", "b");
        var warm = await Call(async, path, method, source, "a", "", "b");
        var partly = await Call(async, path, method, source, "c", "", "a");

        Assert.That((cold, warm, partly), Is.EqualTo(("=v;a=va;b=vb", "=v;a=va;b=vb", "=v;a=va;c=vc")));
        Assert.That(source.Calls, Is.EqualTo(new[] { "'a';'';'b'", "''", "'c';''" }));
        Assert.That(_cache.Exists("a") && _cache.Exists("b") && _cache.Exists("c"), Is.True);
    }

    [Test]
    public async Task A_null_key_is_never_answered_from_the_entry_of_the_string_null([Values] bool async, [Values] Path path)
    {
        var method = MethodFor(path);
        var source = new Source();
        await Call(async, path, method, source, "null");

        var answer = await Call(async, path, method, source, "a", null!);
        var again = await Call(async, path, method, source, "a", null!);

        Assert.That((answer, again), Is.EqualTo(("a=va", "a=va")));
        Assert.That(source.Calls, Is.EqualTo(new[] { "'null'", "'a';<null>", "<null>" }));
    }

    [Test]
    public async Task Invalidating_a_null_or_empty_key_deletes_nothing_and_the_other_keys_are_still_deleted([Values] bool async)
    {
        var method = MethodFor(Path.Plain);
        var source = new Source();
        await Call(async, Path.Plain, method, source, "null", "a");

        // The generated key of a null key is its text, "null", as here.
        if (async)
        {
            await method.InvalidateAsync(new[] { null!, "", "a" }, source, static (_, key) => key ?? "null", CancellationToken.None);
        }
        else
        {
            method.Invalidate(new[] { null!, "", "a" }, source, static (_, key) => key ?? "null");
        }

        Assert.That((_cache.Exists("null"), _cache.Exists("a")), Is.EqualTo((true, false)));
    }

    [Test]
    public async Task With_fail_safe_a_failing_body_fails_the_call_when_an_uncacheable_key_has_no_last_value_to_answer_with([Values] bool async)
    {
        var method = MethodFor(Path.FailSafe);
        var source = new Source();
        await Call(async, Path.FailSafe, method, source, "a");
        _time.Advance(TimeSpan.FromSeconds(11));
        source.Down = true;

        Assert.That(await Call(async, Path.FailSafe, method, source, "a"), Is.EqualTo("a=va"), "a alone is answered with its last value");
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.That(async () => await Call(async, Path.FailSafe, method, source, "a", ""), Throws.InvalidOperationException.With.Message.EqualTo("source down"));
    }
}
