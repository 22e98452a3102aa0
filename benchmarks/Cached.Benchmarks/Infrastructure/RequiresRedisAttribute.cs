namespace Cached.Benchmarks.Infrastructure;

/// <summary>Marks a benchmark class that needs the server of <see cref="BenchRedis.Variable"/>; left out when it is unset.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class RequiresRedisAttribute : Attribute
{
}
