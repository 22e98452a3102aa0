using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of a real server, for faults on one client's path to it while the server keeps
/// running with its data (stopping the server loses what it holds, and pausing it holds every client): <see cref="Cut"/>
/// closes every connection through it and refuses new ones, an outage; <see cref="Hold"/> keeps what clients send from
/// reaching the server, a command on its way that the server takes later; <see cref="HoldReplies"/> keeps the server's
/// replies from the clients, a command the server ran whose answer comes late.
/// </summary>
internal sealed class LoopbackProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly List<TcpClient> _open = [];
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _cut;
    private volatile TaskCompletionSource _flowing = Flowing();
    private volatile TaskCompletionSource _replying = Flowing();
    private volatile TaskCompletionSource _markedFlowing = Flowing();
    private volatile string? _holdMarker;
    private volatile bool _holdOnlyMarked;
    private volatile TaskCompletionSource _lateFlowing = Flowing();
    private volatile int _holdAfter = int.MaxValue;
    private int _accepted;

    public LoopbackProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Closes every connection through the proxy and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        _cut = true;
        lock (_open)
        {
            foreach (var client in _open)
            {
                client.Dispose();
            }

            _open.Clear();
        }
    }

    public void Restore() => _cut = false;

    /// <summary>Keeps what clients send through the proxy until <see cref="Release"/>; the server's replies still flow.</summary>
    public void Hold() => _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Sends on what <see cref="Hold"/> or <see cref="HoldWhenSent"/> kept, in order, and what comes after.</summary>
    public void Release()
    {
        _flowing.TrySetResult();
        _markedFlowing.TrySetResult();
        _lateFlowing.TrySetResult();
    }

    /// <summary>
    /// Holds what clients send (as <see cref="Hold"/>) on every connection made after the first <paramref name="count"/>:
    /// a client's first attempt goes through, and the attempts after it hang, as on a server that stopped answering.
    /// </summary>
    public void HoldConnectionsAfter(int count)
    {
        _lateFlowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holdAfter = count;
    }

    /// <summary>
    /// Holds what clients send (as <see cref="Hold"/>) from the first chunk that contains <paramref name="marker"/> on,
    /// that chunk included: on every connection, or with <paramref name="onlyThatConnection"/> on the one that sent it
    /// while the others flow (a client that reconnects its connections one after the other, each with a handshake to
    /// finish, reconnects them all).
    /// </summary>
    public void HoldWhenSent(string marker, bool onlyThatConnection = false)
    {
        MarkerHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _holdOnlyMarked = onlyThatConnection;
        _holdMarker = marker;
    }

    /// <summary>Completes when <see cref="HoldWhenSent"/> began holding.</summary>
    public TaskCompletionSource MarkerHeld { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Keeps the server's replies from the clients until <see cref="ReleaseReplies"/>; what clients send still flows.</summary>
    public void HoldReplies() => _replying = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Hands on the replies <see cref="HoldReplies"/> kept, in order, and what comes after.</summary>
    public void ReleaseReplies() => _replying.TrySetResult();

    /// <summary>
    /// A watch of one connection's sent bytes for <see cref="HoldWhenSent"/>'s marker, across the reads they arrive in:
    /// a command split over two reads (as a busy machine splits them) still shows the marker, in the read that ends it.
    /// </summary>
    private Action<ReadOnlyMemory<byte>> MarkerWatch(StrongBox<bool> thisConnectionHeld)
    {
        var tail = string.Empty;
        return sent =>
        {
            var text = tail + System.Text.Encoding.ASCII.GetString(sent.Span);
            if (_holdMarker is { } marker && text.Contains(marker, StringComparison.Ordinal))
            {
                _holdMarker = null;
                if (_holdOnlyMarked)
                {
                    _markedFlowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    thisConnectionHeld.Value = true;
                }
                else
                {
                    Hold();
                }

                MarkerHeld.TrySetResult();
            }

            tail = text.Length > 256 ? text[^256..] : text;
        };
    }

    private static TaskCompletionSource Flowing()
    {
        var flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        flowing.SetResult();
        return flowing;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Cut();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (_cut)
            {
                client.Dispose();
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using var server = new TcpClient();
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, _target);
            lock (_open)
            {
                _open.Add(client);
                _open.Add(server);
            }

            // The gate of what this client sends: every connection's, or its own once it sent a marker held for it alone,
            // or the late connections' (HoldConnectionsAfter).
            var thisConnectionHeld = new StrongBox<bool>();
            var late = Interlocked.Increment(ref _accepted) > _holdAfter;
            var up = CopyAsync(client.GetStream(), server.GetStream(), () => late ? _lateFlowing : thisConnectionHeld.Value ? _markedFlowing : _flowing, MarkerWatch(thisConnectionHeld));
            var down = CopyAsync(server.GetStream(), client.GetStream(), () => _replying, static _ => { });
            await Task.WhenAny(up, down);
            // Either end gone or cut: close both, then let the other direction end too.
            client.Dispose();
            server.Dispose();
            await Task.WhenAll(up, down);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The relay ends with its connections: a cut, or the server or the client gone.
        }
        finally
        {
            client.Dispose();
        }
    }

    /// <summary>Copies one direction's bytes, each read waiting while the proxy holds that direction.</summary>
    private static async Task CopyAsync(Stream from, Stream to, Func<TaskCompletionSource> gate, Action<ReadOnlyMemory<byte>> watch)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            watch(buffer.AsMemory(0, read));
            await gate().Task;
            await to.WriteAsync(buffer.AsMemory(0, read));
        }
    }
}
