namespace Cached.Tests.Backends;

/// <summary>The backends every command fixture runs on. The Redis backend joins this list with Cached.Redis.</summary>
public static class Backends
{
    public static IEnumerable<TestFixtureData> All()
    {
        yield return new TestFixtureData(new MemoryBackend()).SetArgDisplayNames("memory");
    }
}
