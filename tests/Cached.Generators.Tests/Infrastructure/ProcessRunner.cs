using System.Diagnostics;

namespace Cached.Generators.Tests.Infrastructure;

/// <summary>Runs a program (dotnet, a published app) to its end and hands back its exit code and all its output.</summary>
internal static class ProcessRunner
{
    public static (int ExitCode, string Output) Run(string directory, string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        // Both pipes are read at once, so that neither fills up and stalls the program.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{program} {string.Join(' ', arguments)} did not finish within 5 minutes");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
