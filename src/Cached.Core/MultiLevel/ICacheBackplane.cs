namespace Cached;

/// <summary>
/// Carries the changes one node of a <see cref="MultiLevelCache"/> makes to the other nodes, so that each can drop
/// what its first level holds of a changed key. Delivery is at most once: a message can be lost while a connection is
/// down, which the backplane reports through <see cref="IBackplaneSubscriber.OnMessagesMayBeLost"/>.
/// </summary>
/// <remarks>
/// A backplane is shared: several caches may subscribe to it, each on its own channel. Disposing it ends every
/// subscription and closes what it opened (a connection it was given stays open).
/// </remarks>
public interface ICacheBackplane : IAsyncDisposable
{
    /// <summary>Starts delivering the messages published on <paramref name="channel"/> to <paramref name="subscriber"/>.</summary>
    /// <param name="channel">The channel, one per key space (see <see cref="MultiLevelCache.Channel"/>).</param>
    /// <param name="subscriber">Receives each message, and hears when messages may have been lost.</param>
    /// <returns>The subscription; disposing it stops the delivery.</returns>
    /// <exception cref="ArgumentException"><paramref name="channel"/> is empty.</exception>
    /// <exception cref="CacheBackendException">The backplane could not subscribe.</exception>
    IDisposable Subscribe(string channel, IBackplaneSubscriber subscriber);

    /// <summary>Sends <paramref name="message"/> to every subscriber of <paramref name="channel"/>, the sender's included.</summary>
    /// <exception cref="CacheBackendException">The message could not be sent.</exception>
    void Publish(string channel, BackplaneMessage message);

    /// <inheritdoc cref="Publish(string, BackplaneMessage)"/>
    /// <param name="channel">The channel to publish on.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Stops waiting for the send to be acknowledged.</param>
    ValueTask PublishAsync(string channel, BackplaneMessage message, CancellationToken cancellationToken = default);
}

/// <summary>What a backplane delivers to: a <see cref="MultiLevelCache"/>, or anything else that keeps a copy.</summary>
public interface IBackplaneSubscriber
{
    /// <summary>A message arrived on the subscribed channel (the subscriber's own messages included).</summary>
    void OnMessage(BackplaneMessage message);

    /// <summary>
    /// Messages may have been lost: the connection dropped and came back, or a message could not be read. Whatever
    /// the subscriber keeps may be stale and should be dropped.
    /// </summary>
    void OnMessagesMayBeLost();
}
