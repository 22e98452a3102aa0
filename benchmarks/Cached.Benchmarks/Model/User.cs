using System.ComponentModel;

namespace Cached.Benchmarks.Model;

/// <summary>The value every benchmark caches: a small record, stored as <c>user:42</c>.</summary>
/// <remarks>
/// Marked immutable so that HybridCache hands out the stored instance instead of a deserialized copy: each library
/// is measured in its best documented configuration.
/// </remarks>
[ImmutableObject(true)]
public sealed record User(int Id, string Name);
