namespace Cached.MultiLevel;

/// <summary>
/// Backplane messages this node could not send (its backplane connection was down), kept so that they reach the
/// other nodes when the connection comes back: those nodes were not cut off, so nothing else would make them drop
/// their copies. Bounded: beyond <see cref="Limit"/> the oldest is dropped, and the other nodes keep that copy until
/// its L1 life ends.
/// </summary>
internal sealed class UnsentMessages(MultiLevelCache owner)
{
    private readonly object _gate = new();
    private readonly Queue<BackplaneMessage> _messages = new();

    public int Limit { get; set; } = 1_000;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _messages.Count;
            }
        }
    }

    public void Failed(BackplaneMessage message, Exception exception)
    {
        MultiLevelLog.PublishFailed(CachedLogging.Logger, exception, message.Action.ToString(), owner.AliasForLogs);
        lock (_gate)
        {
            _messages.Enqueue(message);
            while (_messages.Count > Limit)
            {
                _messages.Dequeue();
            }
        }
    }

    /// <summary>Sends every kept message again, as new messages from this node (one that fails again is kept again).</summary>
    public void SendAgain()
    {
        BackplaneMessage[] kept;
        lock (_gate)
        {
            kept = [.. _messages];
            _messages.Clear();
        }

        foreach (var message in kept)
        {
            owner.Publish(message.Action, message.Namespace, message.Keys);
        }
    }
}
