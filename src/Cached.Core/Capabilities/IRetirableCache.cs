using Cached.Pipeline;

namespace Cached.Capabilities;

/// <summary>
/// A cache whose commands can be counted, so that <see cref="Caches"/> disposes an instance it made and then replaced
/// only at a moment when no command is running on it.
/// </summary>
internal interface IRetirableCache
{
    /// <summary>
    /// Starts counting this cache's commands, before anyone else can see the cache, and returns the count; <c>null</c>
    /// when disposing never stops the cache from serving, so there is nothing to wait for.
    /// </summary>
    CommandCount? CountCommands();
}
