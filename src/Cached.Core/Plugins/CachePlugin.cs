namespace Cached.Plugins;

/// <summary>
/// A base for plugins with a pre and a post hook per command (<c>PreGet</c>, <c>PostGet</c>, ...), each a no-op
/// until overridden, like aiocache's <c>BasePlugin</c>.
/// </summary>
public abstract class CachePlugin : ICachePlugin
{
    /// <inheritdoc />
    public virtual void Pre(CacheCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (context.Command)
        {
            case CacheCommand.Add: PreAdd(context); break;
            case CacheCommand.Get: PreGet(context); break;
            case CacheCommand.MultiGet: PreMultiGet(context); break;
            case CacheCommand.Set: PreSet(context); break;
            case CacheCommand.MultiSet: PreMultiSet(context); break;
            case CacheCommand.Exists: PreExists(context); break;
            case CacheCommand.Increment: PreIncrement(context); break;
            case CacheCommand.Delete: PreDelete(context); break;
            case CacheCommand.Clear: PreClear(context); break;
            case CacheCommand.Expire: PreExpire(context); break;
            case CacheCommand.Raw: PreRaw(context); break;
            case CacheCommand.InvalidateTags: PreInvalidateTags(context); break;
        }
    }

    /// <inheritdoc />
    public virtual void Post(CacheCommandContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        switch (context.Command)
        {
            case CacheCommand.Add: PostAdd(context); break;
            case CacheCommand.Get: PostGet(context); break;
            case CacheCommand.MultiGet: PostMultiGet(context); break;
            case CacheCommand.Set: PostSet(context); break;
            case CacheCommand.MultiSet: PostMultiSet(context); break;
            case CacheCommand.Exists: PostExists(context); break;
            case CacheCommand.Increment: PostIncrement(context); break;
            case CacheCommand.Delete: PostDelete(context); break;
            case CacheCommand.Clear: PostClear(context); break;
            case CacheCommand.Expire: PostExpire(context); break;
            case CacheCommand.Raw: PostRaw(context); break;
            case CacheCommand.InvalidateTags: PostInvalidateTags(context); break;
        }
    }

#pragma warning disable CS1591 // The hooks are named after their command; Pre/Post above document them.
    protected virtual void PreAdd(CacheCommandContext context) { }
    protected virtual void PostAdd(CacheCommandContext context) { }
    protected virtual void PreGet(CacheCommandContext context) { }
    protected virtual void PostGet(CacheCommandContext context) { }
    protected virtual void PreMultiGet(CacheCommandContext context) { }
    protected virtual void PostMultiGet(CacheCommandContext context) { }
    protected virtual void PreSet(CacheCommandContext context) { }
    protected virtual void PostSet(CacheCommandContext context) { }
    protected virtual void PreMultiSet(CacheCommandContext context) { }
    protected virtual void PostMultiSet(CacheCommandContext context) { }
    protected virtual void PreExists(CacheCommandContext context) { }
    protected virtual void PostExists(CacheCommandContext context) { }
    protected virtual void PreIncrement(CacheCommandContext context) { }
    protected virtual void PostIncrement(CacheCommandContext context) { }
    protected virtual void PreDelete(CacheCommandContext context) { }
    protected virtual void PostDelete(CacheCommandContext context) { }
    protected virtual void PreClear(CacheCommandContext context) { }
    protected virtual void PostClear(CacheCommandContext context) { }
    protected virtual void PreExpire(CacheCommandContext context) { }
    protected virtual void PostExpire(CacheCommandContext context) { }
    protected virtual void PreRaw(CacheCommandContext context) { }
    protected virtual void PostRaw(CacheCommandContext context) { }
    protected virtual void PreInvalidateTags(CacheCommandContext context) { }
    protected virtual void PostInvalidateTags(CacheCommandContext context) { }
#pragma warning restore CS1591
}
