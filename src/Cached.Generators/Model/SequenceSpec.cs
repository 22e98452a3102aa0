namespace Cached.Generators.Model;

/// <summary>
/// A [Cached] method that returns exactly <c>IEnumerable&lt;T&gt;</c> (sync, in a Task or a ValueTask) or
/// <c>IAsyncEnumerable&lt;T&gt;</c>: what is cached is its items as <see cref="StoredType"/> (<c>T[]</c>, with the
/// sequence's nullability), never an iterator that would run the body again.
/// </summary>
/// <param name="IsAsync">True for <c>IAsyncEnumerable&lt;T&gt;</c>: read on a miss and replayed, when enumerated.</param>
/// <param name="StoredType">The array type the cache holds: <c>global::Demo.User[]</c>, <c>int[]?</c>.</param>
internal sealed record SequenceSpec(bool IsAsync, string StoredType);
