namespace Cached.Runtime;

/// <summary>What a read by span key found.</summary>
internal enum SpanRead : byte
{
    /// <summary>This cache cannot answer by span (or not exactly as the ordinary read would): read the ordinary way.</summary>
    Unsupported,

    /// <summary>The key is not there.</summary>
    Miss,

    /// <summary>The key is there; the value is returned.</summary>
    Hit,
}
