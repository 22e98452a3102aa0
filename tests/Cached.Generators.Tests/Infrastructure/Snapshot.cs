using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;

namespace Cached.Generators.Tests.Infrastructure;

/// <summary>
/// Compares generated code with a committed <c>Snapshots/Name.verified.cs</c>. On a mismatch it writes
/// <c>Name.received.cs</c> beside it and fails; with <c>CACHED_ACCEPT_SNAPSHOTS=1</c> it accepts the new output instead.
/// The generator's version in <c>[GeneratedCode]</c> is not compared.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "CACHED_ACCEPT_SNAPSHOTS";

    private static readonly Regex s_generatedCodeVersion = new("(GeneratedCode\\(\"Cached\\.Generators\", )\"[^\"]*\"", RegexOptions.CultureInvariant);

    /// <summary>The folder of the committed snapshots.</summary>
    public static string Folder([CallerFilePath] string callerPath = "") => Path.Combine(FindProjectFolder(callerPath), "Snapshots");

    public static void Verify(string name, string actual, [CallerFilePath] string callerPath = "")
    {
        var folder = Folder(callerPath);
        var verified = Path.Combine(folder, name + ".verified.cs");
        var received = Path.Combine(folder, name + ".received.cs");
        actual = actual.ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        var expected = File.Exists(verified) ? File.ReadAllText(verified).ReplaceLineEndings("\n") : null;
        if (expected is not null && WithoutVersion(expected) == WithoutVersion(actual))
        {
            File.Delete(received);
            return;
        }

        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No snapshot {name}.verified.cs yet; the output is in {name}.received.cs. Review it and run with {AcceptVariable}=1 to accept."
            : $"The generated code differs from {name}.verified.cs; see {name}.received.cs. Run with {AcceptVariable}=1 to accept the change.");
    }

    /// <summary>
    /// The text with the version in <c>[GeneratedCode("Cached.Generators", "x.y.z")]</c> blanked: it is the
    /// generator's own version, so a version bump leaves the snapshots as they are.
    /// </summary>
    private static string WithoutVersion(string text) => s_generatedCodeVersion.Replace(text, "$1\"\"");

    private static string FindProjectFolder(string callerPath)
    {
        // CI builds map source paths (/_/...), so the caller's path is tried first and the test binary's folder next.
        foreach (var start in new[] { Path.GetDirectoryName(callerPath), AppContext.BaseDirectory })
        {
            for (var folder = start; folder is not null; folder = Path.GetDirectoryName(folder))
            {
                if (File.Exists(Path.Combine(folder, "Cached.Generators.Tests.csproj")))
                {
                    return folder;
                }
            }
        }

        throw new InvalidOperationException($"The test project folder was not found above {callerPath} or {AppContext.BaseDirectory}");
    }
}
