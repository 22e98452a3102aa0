namespace Cached.Generators.Tests.Scenarios;

public sealed record User(int Id, string Name);

public enum Region
{
    North,
    South,
}

/// <summary>Counts the calls of scenario bodies, per name.</summary>
public sealed class CallCounter
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _calls = new();

    public int this[string name] => _calls.GetValueOrDefault(name);

    public void Hit(string name) => _calls.AddOrUpdate(name, 1, static (_, n) => n + 1);
}
