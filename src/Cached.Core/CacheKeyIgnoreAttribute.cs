namespace Cached;

/// <summary>Leaves a parameter out of a generated cache key (a <see cref="CancellationToken"/> always is).</summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class CacheKeyIgnoreAttribute : Attribute
{
}
