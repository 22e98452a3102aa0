namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Makes sure <see cref="RunNotes.FileVariable"/> names a file before BenchmarkDotNet starts its child processes, which
/// inherit it. A file this class made up is removed on dispose; one the caller named (run.sh) is left to the caller.
/// </summary>
internal sealed class NotesFile : IDisposable
{
    private readonly string? _created;

    private NotesFile(string? created) => _created = created;

    public static NotesFile Ensure()
    {
        if (Environment.GetEnvironmentVariable(RunNotes.FileVariable) is { Length: > 0 })
        {
            return new NotesFile(null);
        }

        var path = Path.Combine(Path.GetTempPath(), $"cached-bench-notes-{Environment.ProcessId}.tsv");
        File.Delete(path);
        Environment.SetEnvironmentVariable(RunNotes.FileVariable, path);
        return new NotesFile(path);
    }

    public void Dispose()
    {
        if (_created is not null)
        {
            File.Delete(_created);
            Environment.SetEnvironmentVariable(RunNotes.FileVariable, null);
        }
    }
}
