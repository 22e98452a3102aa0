using BenchmarkDotNet.Configs;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>Adds the "Redis commands/call" column (<see cref="RunNotes"/> of kind <see cref="Kind"/>).</summary>
public sealed class RedisCommandsConfig : ManualConfig
{
    public const string Kind = "redis-commands";

    public RedisCommandsConfig()
        => AddColumn(new NotesColumn(Kind, "Redis commands/call", "Data commands the server counted for one call (INFO commandstats)"));
}
