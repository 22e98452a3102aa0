using System.Collections.Immutable;

namespace Cached;

/// <summary>
/// A backplane inside one process: every <see cref="MultiLevelCache"/> given the same instance hears the others'
/// changes, delivered before <see cref="Publish"/> returns. For several caches in front of one shared level in the same
/// process, and for tests of two-level code without a server; across processes use a networked backplane such as
/// <c>Cached.Redis.RedisBackplane</c>.
/// </summary>
public sealed class MemoryBackplane : ICacheBackplane
{
    private readonly object _gate = new();
    private ImmutableDictionary<string, ImmutableArray<IBackplaneSubscriber>> _channels = ImmutableDictionary<string, ImmutableArray<IBackplaneSubscriber>>.Empty.WithComparers(StringComparer.Ordinal);
    private volatile bool _disposed;

    /// <summary>Messages published so far, on every channel.</summary>
    public long Published => Interlocked.Read(ref _published);

    private long _published;

    /// <inheritdoc />
    public IDisposable Subscribe(string channel, IBackplaneSubscriber subscriber)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(subscriber);
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_gate)
        {
            _channels = _channels.SetItem(channel, _channels.GetValueOrDefault(channel, []).Add(subscriber));
        }

        return new Subscription(this, channel, subscriber);
    }

    /// <inheritdoc />
    public void Publish(string channel, BackplaneMessage message)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Interlocked.Increment(ref _published);
        if (!_channels.TryGetValue(channel, out var subscribers))
        {
            return;
        }

        // Through the wire form, so that what a node receives is what a networked backplane would deliver.
        var bytes = message.ToBytes();
        foreach (var subscriber in subscribers)
        {
            if (BackplaneMessage.TryParse(bytes, out var received))
            {
                subscriber.OnMessage(received);
            }
        }
    }

    /// <inheritdoc />
    public ValueTask PublishAsync(string channel, BackplaneMessage message, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        Publish(channel, message);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Tells every subscriber that messages may have been lost, as a networked backplane does after a reconnect: each
    /// <see cref="MultiLevelCache"/> drops its first level.
    /// </summary>
    public void ReportMessagesMayBeLost()
    {
        foreach (var subscribers in _channels.Values)
        {
            foreach (var subscriber in subscribers)
            {
                subscriber.OnMessagesMayBeLost();
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _disposed = true;
        lock (_gate)
        {
            _channels = _channels.Clear();
        }

        return ValueTask.CompletedTask;
    }

    private void Unsubscribe(string channel, IBackplaneSubscriber subscriber)
    {
        lock (_gate)
        {
            if (_channels.TryGetValue(channel, out var subscribers))
            {
                var left = subscribers.Remove(subscriber);
                _channels = left.IsEmpty ? _channels.Remove(channel) : _channels.SetItem(channel, left);
            }
        }
    }

    private sealed class Subscription(MemoryBackplane owner, string channel, IBackplaneSubscriber subscriber) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Unsubscribe(channel, subscriber);
            }
        }
    }
}
