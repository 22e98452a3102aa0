using System.Reflection;

namespace Cached.Generators.Tests.Infrastructure;

/// <summary>
/// A user's source files run as the outsider reviews run them: through the generator, compiled with the generated code
/// (no diagnostic, no warning), loaded, and run by the scenario's <c>Probe.Run()</c> or <c>Probe.RunAsync()</c>.
/// </summary>
internal static class UserScenario
{
    /// <summary>Every diagnostic of the generator and of the compilation with its output.</summary>
    public static string[] Problems(GeneratorRunResult run)
        => run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()).ToArray();

    /// <summary>Generates, compiles (no diagnostic, no warning) and loads the scenario, each source after <paramref name="usings"/>.</summary>
    public static Assembly Build(string usings, string[] sources)
    {
        var run = GeneratorRunner.Run(sources.Select(s => usings + s).ToArray());
        Assert.That(Problems(run), Is.Empty, () => "the user's build with the generated code:\n" + string.Join("\n// ----\n", run.Sources.Values));
        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        Assert.That(emitted.Success, Is.True, () => string.Join("\n", emitted.Diagnostics));
        return Assembly.Load(image.ToArray());
    }

    /// <summary>Runs <c>Probe.Run()</c> of a built scenario; its exception is thrown as it is.</summary>
    public static string Run(Assembly scenario)
    {
        try
        {
            return (string)Probe(scenario, "Run").Invoke(null, null)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }

    /// <summary>Runs <c>Probe.RunAsync()</c> of a built scenario.</summary>
    public static Task<string> RunAsync(Assembly scenario) => (Task<string>)Probe(scenario, "RunAsync").Invoke(null, null)!;

    private static MethodInfo Probe(Assembly scenario, string name)
        => scenario.GetTypes().Single(static t => t.Name == "Probe").GetMethod(name)!;
}
