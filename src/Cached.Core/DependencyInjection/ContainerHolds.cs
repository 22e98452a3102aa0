namespace Cached.DependencyInjection;

/// <summary>
/// A cache that a DI container may hand out without owning it (<see cref="CachedRegistry"/>): an instance given to
/// <see cref="Caches.AddInstance"/>, or one another container made. The container disposes whatever its factories
/// return, once per registration that resolved it, and cannot be told not to; so each such hand-out is a hold, and a
/// call to <c>Dispose</c> lets go of a hold while there is one. The cache is disposed by the last of its holders: its
/// owner and every container that handed it out.
/// </summary>
internal interface IContainerHeld
{
    /// <summary>Counts one more hand-out by a container, let go by one call to <c>Dispose</c> or <c>DisposeAsync</c>.</summary>
    void AddContainerHold();
}

/// <summary>The count of <see cref="IContainerHeld"/>: how many calls to <c>Dispose</c> are let go before one disposes.</summary>
internal struct ContainerHolds
{
    private int _count;

    public void Add() => Interlocked.Increment(ref _count);

    /// <summary>Lets go of one hold: true when there was one, so that this call to <c>Dispose</c> disposes nothing.</summary>
    public bool TryRelease()
    {
        while (true)
        {
            var holds = Volatile.Read(ref _count);
            if (holds == 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, holds - 1, holds) == holds)
            {
                return true;
            }
        }
    }
}
