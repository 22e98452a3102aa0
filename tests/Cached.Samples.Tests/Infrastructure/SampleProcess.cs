using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Cached.Samples.Tests.Infrastructure;

/// <summary>What a sample printed and how it ended.</summary>
public sealed record SampleRun(int ExitCode, IReadOnlyList<string> Output, string Errors)
{
    /// <summary>The lines the tests compare: all but those starting with '#', which samples use for durations and sizes.</summary>
    public IReadOnlyList<string> CheckedLines => Output.Where(static line => !line.StartsWith('#')).ToList();

    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{string.Join('\n', Output)}\n--- stderr\n{Errors}";
}

/// <summary>
/// A sample running as its own process, <c>dotnet X.dll</c>, from the output folder its build left in
/// <c>samples/X/bin/&lt;Configuration&gt;/net10.0</c> (the test project references every sample, so they are built first).
/// Disposing kills it and everything it started.
/// </summary>
public sealed class SampleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _errorsClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _watchLock = new();
    private (Func<string, bool> Matches, TaskCompletionSource<string> Seen)? _watch;

    private SampleProcess(string sample, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var dll = DllOf(sample);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the test project (it builds every sample) in the same configuration.");
        }

        var start = new ProcessStartInfo(DotnetHost())
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Nothing from the test run's own environment may switch a sample's backend or turn caching off; the
        // invariant culture keeps numbers printed the same on every machine.
        start.Environment.Remove("REDIS_URL");
        start.Environment.Remove("CACHE_DISABLE");
        start.Environment["LC_ALL"] = "C";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) =>
        {
            Collect(e.Data, _output, _outputClosed);
            Watch(e.Data);
        };
        _process.ErrorDataReceived += (_, e) => Collect(e.Data, _errors, _errorsClosed);
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _process.StandardInput.Close();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once the process has ended.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Completes when the process ends (a watcher told to stop).</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public string OutputSoFar => $"--- stdout\n{string.Join('\n', _output)}\n--- stderr\n{string.Join('\n', _errors)}";

    /// <summary>Starts <paramref name="sample"/> and leaves it running (a server).</summary>
    public static SampleProcess Start(string sample, IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string?>? environment = null)
        => new(sample, arguments ?? [], environment ?? new Dictionary<string, string?>());

    /// <summary>Runs <paramref name="sample"/> to its end, at most <paramref name="timeout"/>; then kills it and fails.</summary>
    public static async Task<SampleRun> RunAsync(string sample, IEnumerable<string>? arguments = null, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        await using var process = Start(sample, arguments, environment);
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(TestContext.CurrentContext.CancellationToken);
        timer.CancelAfter(limit);
        try
        {
            await process._process.WaitForExitAsync(timer.Token);
            await Task.WhenAll(process._outputClosed.Task, process._errorsClosed.Task).WaitAsync(timer.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"{sample} did not finish within {limit.TotalSeconds} s (or the test was cancelled); killed.\n{process.OutputSoFar}");
        }

        return new SampleRun(process._process.ExitCode, [.. process._output], string.Join('\n', process._errors));
    }

    /// <summary>
    /// The first line of standard output, past or future, that <paramref name="matches"/>; fails the test if the
    /// process ends without one.
    /// </summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> matches, CancellationToken cancellationToken)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_watchLock)
        {
            _watch = (matches, seen);
            if (_output.FirstOrDefault(matches) is { } earlier)
            {
                seen.TrySetResult(earlier);
            }
        }

        var closed = await Task.WhenAny(seen.Task, _outputClosed.Task).WaitAsync(cancellationToken);
        if (closed != seen.Task && !seen.Task.IsCompleted)
        {
            Assert.Fail($"The sample ended its output without the line the test waits for.\n{OutputSoFar}");
        }

        return await seen.Task;
    }

    private void Watch(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_watchLock)
        {
            if (_watch is { } watch && watch.Matches(line))
            {
                watch.Seen.TrySetResult(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static void Collect(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult();
        }
        else
        {
            lines.Enqueue(line);
        }
    }

    private static string DllOf(string sample)
    {
        var configuration = typeof(SampleProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        return Path.Combine(RepositoryRoot(), "samples", sample, "bin", configuration, "net10.0", sample + ".dll");
    }

    /// <summary>The dotnet host running these tests (its runtime sits in shared/Microsoft.NETCore.App/&lt;version&gt;).</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(host) ? host : "dotnet";
    }

    private static string RepositoryRoot()
    {
        for (var directory = AppContext.BaseDirectory; directory is not null; directory = Path.GetDirectoryName(directory))
        {
            if (File.Exists(Path.Combine(directory, "Cached.sln")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("Cached.sln was not found above " + AppContext.BaseDirectory);
    }
}
