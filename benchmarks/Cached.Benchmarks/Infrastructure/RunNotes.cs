using System.Collections.Concurrent;
using System.Globalization;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>
/// Figures a benchmark observes besides time and allocation (body calls per cold key, Redis commands per call). They
/// are kept in this process and appended to the file named by <see cref="FileVariable"/>, because BenchmarkDotNet
/// runs each benchmark in a child process and shows the table in the parent; <see cref="NotesColumn"/> reads them back.
/// </summary>
public static class RunNotes
{
    /// <summary>The environment variable naming the notes file; child processes inherit it.</summary>
    public const string FileVariable = "CACHED_BENCH_NOTES";

    private static readonly ConcurrentDictionary<string, string> s_notes = new(StringComparer.Ordinal);
    private static readonly object s_fileGate = new();

    /// <summary>The key of a note: its kind, the benchmark class and method, and the parameters (<c>Hits=All</c>).</summary>
    public static string Key(string kind, string type, string method, string? parameters = null)
        => string.IsNullOrEmpty(parameters) ? $"{kind}|{type}.{method}" : $"{kind}|{type}.{method}({parameters})";

    /// <summary>Records a note, replacing an earlier one with the same key.</summary>
    public static void Record(string key, string note)
    {
        s_notes[key] = note;
        if (Environment.GetEnvironmentVariable(FileVariable) is not { Length: > 0 } path)
        {
            return;
        }

        lock (s_fileGate)
        {
            File.AppendAllText(path, $"{key}\t{note}{Environment.NewLine}");
        }
    }

    /// <summary>The latest note with <paramref name="key"/>, from this process or from the file.</summary>
    public static string? Find(string key)
    {
        string? found = null;
        if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path && File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                var tab = line.IndexOf('\t', StringComparison.Ordinal);
                if (tab > 0 && line.AsSpan(0, tab).SequenceEqual(key))
                {
                    found = line[(tab + 1)..];
                }
            }
        }

        return found ?? s_notes.GetValueOrDefault(key);
    }

    /// <summary>A range of counts as a note: <c>1</c>, or <c>1–3</c> when the rounds differed.</summary>
    public static string Range(long min, long max)
        => min == max ? min.ToString(CultureInfo.InvariantCulture) : $"{min.ToString(CultureInfo.InvariantCulture)}–{max.ToString(CultureInfo.InvariantCulture)}";
}
