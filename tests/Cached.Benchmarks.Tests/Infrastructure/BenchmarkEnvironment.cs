using Cached.Benchmarks.Infrastructure;
using Cached.Redis.Tests.Infrastructure;

// In no namespace, so that NUnit runs its one-time teardown after every test of the assembly and no server outlives the run.

/// <summary>
/// What the benchmarks read from the environment: a redis-server of their own (started the first time a test needs
/// it) named by CACHED_BENCH_REDIS, and a notes file in a temporary folder. Everything is put back at the end.
/// </summary>
[SetUpFixture]
public sealed class BenchmarkEnvironment
{
    private static RedisServer? s_redis;
    private static string? s_folder;
    private static string? s_previousRedis;
    private static string? s_previousNotes;

    /// <summary>A folder for BenchmarkDotNet's artifacts and the notes file, removed at the end.</summary>
    public static string Folder => s_folder ?? throw new InvalidOperationException("The set-up fixture has not run.");

    /// <summary>Starts the server and points <see cref="BenchRedis.Variable"/> at it.</summary>
    public static void RequireRedis()
    {
        if (s_redis is not null)
        {
            return;
        }

        s_redis = new RedisServer();
        Environment.SetEnvironmentVariable(BenchRedis.Variable, s_redis.ConnectionString);
    }

    [OneTimeSetUp]
    public void Start()
    {
        s_previousRedis = Environment.GetEnvironmentVariable(BenchRedis.Variable);
        s_previousNotes = Environment.GetEnvironmentVariable(RunNotes.FileVariable);
        s_folder = Directory.CreateTempSubdirectory("cached-bench-tests-").FullName;
        Environment.SetEnvironmentVariable(BenchRedis.Variable, null);
        Environment.SetEnvironmentVariable(RunNotes.FileVariable, Path.Combine(s_folder, "notes.tsv"));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        s_redis?.Dispose();
        s_redis = null;
        Environment.SetEnvironmentVariable(BenchRedis.Variable, s_previousRedis);
        Environment.SetEnvironmentVariable(RunNotes.FileVariable, s_previousNotes);
        if (s_folder is not null)
        {
            Directory.Delete(s_folder, recursive: true);
            s_folder = null;
        }
    }
}
