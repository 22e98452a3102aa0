using System.ComponentModel;

namespace Cached.Runtime;

/// <summary>A generated method's shared state, as <see cref="TagInvalidation"/> sees it: the cache it uses. Used by generated code.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface ICachedMethod
{
    /// <summary>The cache this method uses, resolved on first use.</summary>
    ICache CurrentCache { get; }
}
