using System.Reflection;
using BenchmarkDotNet.Attributes;
using Cached.Benchmarks.Infrastructure;

namespace Cached.Benchmarks.Tests;

public sealed class CatalogTests
{
    [Test]
    public void Every_benchmark_class_of_the_suite_is_in_the_catalog()
    {
        var classes = typeof(BenchmarkCatalog).Assembly.GetTypes()
            .Where(static t => !t.IsAbstract && t.GetMethods().Any(static m => m.IsDefined(typeof(BenchmarkAttribute), inherit: true)))
            .ToList();

        Assert.That(BenchmarkCatalog.All, Is.EquivalentTo(classes), "a class missing from the catalog is neither run by run.sh nor checked here");
    }

    [Test]
    public void Without_a_redis_server_the_redis_classes_are_skipped_and_the_program_says_why()
    {
        var previous = Environment.GetEnvironmentVariable(BenchRedis.Variable);
        Environment.SetEnvironmentVariable(BenchRedis.Variable, null);
        try
        {
            var runnable = BenchmarkCatalog.Runnable(out var skipped);

            Assert.Multiple(() =>
            {
                Assert.That(runnable, Does.Not.Contain(typeof(RedisBenchmarks)).And.Not.Contain(typeof(MultiCachedRedisBenchmarks)).And.Not.Contain(typeof(MultiCachedRedisMissBenchmarks)).And.Not.Contain(typeof(MultiLevelRedisBenchmarks)));
                Assert.That(runnable, Does.Contain(typeof(HitPathBenchmarks)).And.Contain(typeof(MultiCachedMemoryBenchmarks)).And.Contain(typeof(MultiCachedMemoryMissBenchmarks)).And.Contain(typeof(MultiLevelBenchmarks)));
                Assert.That(skipped, Does.Contain(BenchRedis.Variable));
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(BenchRedis.Variable, previous);
        }
    }

    [Test]
    public void With_a_redis_server_every_class_runs()
    {
        var previous = Environment.GetEnvironmentVariable(BenchRedis.Variable);
        Environment.SetEnvironmentVariable(BenchRedis.Variable, "127.0.0.1:6379");
        try
        {
            Assert.Multiple(() =>
            {
                Assert.That(BenchmarkCatalog.Runnable(out var skipped), Is.EqualTo(BenchmarkCatalog.All));
                Assert.That(skipped, Is.Null);
            });
        }
        finally
        {
            Environment.SetEnvironmentVariable(BenchRedis.Variable, previous);
        }
    }
}
