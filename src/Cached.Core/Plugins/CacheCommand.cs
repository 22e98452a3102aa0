namespace Cached.Plugins;

/// <summary>The commands of <see cref="ICache"/>, as plugins see them. Sync and async twins report the same command.</summary>
public enum CacheCommand
{
    /// <summary><see cref="ICache.Add{T}"/>.</summary>
    Add,

    /// <summary><see cref="ICache.Get{T}"/> and <see cref="ICache.TryGet{T}"/>.</summary>
    Get,

    /// <summary><see cref="ICache.MultiGet{T}"/>.</summary>
    MultiGet,

    /// <summary><see cref="ICache.Set{T}(string, T, TimeSpan?, string?, Serializers.ISerializer?)"/>.</summary>
    Set,

    /// <summary><see cref="ICache.MultiSet{T}"/>.</summary>
    MultiSet,

    /// <summary><see cref="ICache.Exists"/>.</summary>
    Exists,

    /// <summary><see cref="ICache.Increment"/>.</summary>
    Increment,

    /// <summary><see cref="ICache.Delete"/>.</summary>
    Delete,

    /// <summary><see cref="ICache.Clear"/>.</summary>
    Clear,

    /// <summary><see cref="ICache.Expire"/>.</summary>
    Expire,

    /// <summary><see cref="ICache.Raw"/>.</summary>
    Raw,

    /// <summary><see cref="ICache.InvalidateTags"/>; the context's keys are the tags.</summary>
    InvalidateTags,
}
