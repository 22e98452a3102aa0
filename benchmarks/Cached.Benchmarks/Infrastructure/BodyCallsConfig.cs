using BenchmarkDotNet.Configs;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>Adds the "Body calls/key" column (<see cref="RunNotes"/> of kind <see cref="Kind"/>).</summary>
public sealed class BodyCallsConfig : ManualConfig
{
    public const string Kind = "body-calls";

    public BodyCallsConfig()
        => AddColumn(new NotesColumn(Kind, "Body calls/key", "Body calls per cold key in every round of the run (min–max when they differed)"));
}
