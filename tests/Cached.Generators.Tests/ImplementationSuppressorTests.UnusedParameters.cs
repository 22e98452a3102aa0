using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// IDE0060 ("remove unused parameter") on the parameters of a cached method's body: the generated call passes every
/// argument, and CACHED002 wants the body to take each one, so the rule cannot be followed there. The SDK's own rule,
/// enforced in the build as a team that treats style warnings as errors does.
/// </summary>
public sealed partial class ImplementationSuppressorTests
{
    [Test]
    [Category("Build")]
    public void A_real_build_with_IDE0060_as_a_warning_reports_it_on_a_helper_and_a_local_function_but_not_on_a_body_or_a_KeyBuilder()
    {
        var work = Directory.CreateTempSubdirectory("cached-ide0060-").FullName;
        try
        {
            ConsumerProject.Write(work);
            File.WriteAllText(Path.Combine(work, "Directory.Build.props"), "<Project><PropertyGroup><EnforceCodeStyleInBuild>true</EnforceCodeStyleInBuild></PropertyGroup></Project>");
            File.WriteAllText(Path.Combine(work, ".editorconfig"), "root = true\n[*.cs]\ndotnet_diagnostic.IDE0060.severity = warning\ndotnet_code_quality_unused_parameters = all\n");
            File.WriteAllText(Path.Combine(work, "Service.cs"), """
                using System.Collections.Generic;
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;
                namespace Demo;
                public partial class Service
                {
                    private readonly int _offset = 1;

                    [Cached(Ttl = 10)]
                    public partial int Twice(int x, [CacheKeyIgnore] string traceId);
                    private int TwiceCore(int x, string traceId) => x * 2 + _offset;

                    [Cached(Ttl = 10)]
                    public static partial Task<int> LoadAsync(int id, CancellationToken ct);
                    private static Task<int> LoadAsyncCore(int id, CancellationToken ct) => Task.FromResult(1);

                    [MultiCached(KeysFrom = "ids")]
                    public partial Dictionary<int, int> Many(List<int> ids, [CacheKeyIgnore] string traceId);
                    private Dictionary<int, int> ManyCore(List<int> ids, string traceId)
                    {
                        int Local(int unusedInLocal) => _offset;
                        return new() { [ids[0]] = Local(0) };
                    }

                    [Cached(Ttl = 10, KeyBuilder = nameof(PageKey))]
                    public partial int Page(int page, [CacheKeyIgnore] string unusedByKey, CancellationToken ct);
                    private int PageCore(int page, string unusedByKey, CancellationToken ct) => page + unusedByKey.Length + (ct.IsCancellationRequested ? 1 : 0);
                    private static string PageKey(int page, string unusedByKey) => "page:" + page;

                    public int Helper(int x, int unusedInHelper) => x + _offset;
                }
                """);

            var output = ProcessRunner.Run(work, "dotnet", ["build", "--disable-build-servers", "--no-incremental", "-nologo"]).Output;

            Assert.Multiple(() =>
            {
                Assert.That(output, Does.Contain("'unusedInHelper'").And.Contain("IDE0060"), "the rule runs in this build: " + output);
                Assert.That(output, Does.Contain("'unusedInLocal'"), "a local function's parameter is the body's own choice: " + output);
                Assert.That(output, Does.Not.Contain("'traceId'"), output);
                Assert.That(output, Does.Not.Contain("'ct'"), output);
                Assert.That(output, Does.Not.Contain("'id'"), output);
                Assert.That(output, Does.Not.Contain("'unusedByKey'"), "a [Cached] KeyBuilder takes the method's parameters: " + output);
                Assert.That(output, Does.Not.Contain("error"), output);
            });
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Test]
    public void The_suppression_of_IDE0060_says_why()
    {
        var descriptor = new ImplementationSuppressor().SupportedSuppressions.Single(static d => d.SuppressedDiagnosticId == "IDE0060");
        Assert.Multiple(() =>
        {
            Assert.That(descriptor.SuppressedDiagnosticId, Is.EqualTo("IDE0060"));
            Assert.That(descriptor.Id, Is.EqualTo("CACHEDSPR002"));
            Assert.That(descriptor.Justification.ToString(), Does.Contain("CACHED002"));
            Assert.That(new ImplementationSuppressor().SupportedSuppressions, Does.Contain(descriptor));
        });
    }
}
