namespace Cached.Benchmarks.Infrastructure;

/// <summary>The program's own <c>--name value</c> options; everything else goes to BenchmarkDotNet.</summary>
internal static class ProgramOptions
{
    private static readonly string[] s_own = ["--entries", "--samples", "--seconds", "--out", "--results", "--memory", "--redis-benchmark", "--redis-benchmark-single", "--started"];

    public static Dictionary<string, string> Parse(string[] args, out string[] rest)
    {
        var own = new Dictionary<string, string>(StringComparer.Ordinal);
        var others = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (Array.IndexOf(s_own, args[i]) >= 0 && i + 1 < args.Length)
            {
                own[args[i]] = args[++i];
            }
            else
            {
                others.Add(args[i]);
            }
        }

        rest = [.. others];
        return own;
    }
}
