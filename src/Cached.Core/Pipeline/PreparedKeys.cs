namespace Cached.Pipeline;

/// <summary>One key of a command: as the caller gave it, as the backend stores it, and the namespace it is in.</summary>
internal readonly record struct PreparedKey(string Key, string FullKey, string? Namespace);

/// <summary>A key and the payload a write stores under it.</summary>
internal readonly record struct PreparedWrite(string Key, string FullKey, string? Namespace, object? Payload);

/// <summary>The keys of a batch read, in the caller's order, and the backend's keys in the same order.</summary>
internal readonly record struct PreparedBatch(string[] Keys, string[] FullKeys, string? Namespace);

/// <summary>The pairs of a batch write, checked and serialized before anything is written.</summary>
internal readonly record struct PreparedBatchWrite(string[] Keys, KeyValuePair<string, object?>[] Entries, string? Namespace);
