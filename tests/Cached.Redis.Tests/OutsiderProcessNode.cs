using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Cached;
using Cached.Diagnostics;
using Cached.Redis;
using Cached.Redis.Tests;

/// <summary>
/// Runs this test assembly as a cache node in a process of its own, for <see cref="OutsiderProcessesReviewTests"/>:
/// <c>dotnet exec Cached.Redis.Tests.dll</c> with <c>DOTNET_STARTUP_HOOKS</c> naming this assembly and
/// <c>CACHED_REVIEW_NODE</c> set runs <see cref="ProcessNodeProgram.Run"/> before the (empty) test entry point, then
/// exits. Without <c>CACHED_REVIEW_NODE</c> the hook does nothing. In no namespace, as the runtime requires.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable("CACHED_REVIEW_NODE") is { Length: > 0 } name)
        {
            Environment.Exit(ProcessNodeProgram.Run(name));
        }
    }
}

namespace Cached.Redis.Tests
{
    /// <summary>
    /// The body every generated method of <see cref="ProcNode"/> runs: reads <see cref="Version"/> when it starts (as a
    /// body reads its database), reports <c>* entered</c>, waits at the gate when it is closed, then answers
    /// <c>v{version}:{id}</c> or throws when <see cref="Failing"/>.
    /// </summary>
    internal static class ProcSource
    {
        public static volatile int Version = 1;
        public static volatile bool Failing;
        public static volatile TaskCompletionSource? Gate;
        public static int Calls;

        public static async Task<string> OneAsync(string method, int id, CancellationToken ct)
        {
            var version = Version;
            Interlocked.Increment(ref Calls);
            ProcessNodeProgram.Event($"entered {method}:{id} v{version}");
            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(ct);
            }

            ProcessNodeProgram.Event($"left {method}:{id}");
            return Failing ? throw new InvalidOperationException("source down") : $"v{version}:{id}";
        }

        public static async Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct)
        {
            var version = Version;
            Interlocked.Increment(ref Calls);
            ProcessNodeProgram.Event($"entered many:{string.Join(',', ids)} v{version}");
            if (Gate is { } gate)
            {
                await gate.Task.WaitAsync(ct);
            }

            return Failing ? throw new InvalidOperationException("source down") : ids.ToDictionary(id => id, id => $"v{version}:{id}");
        }
    }

    /// <summary>The generated methods each node process runs, on its two-level alias.</summary>
    public partial class ProcNode
    {
        public const string Alias = "procs-review";

        /// <summary>
        /// Tagged, with fail-safe (Ttl 3 s, kept 60 s more, throttle 30 s) and eager refresh from half its life. Three
        /// seconds for the same reason as <see cref="PlainSafeAsync"/>'s: with one, B's entry went stale before A read it.
        /// </summary>
        [Cached(Alias = Alias, Key = "fs:{id}", Ttl = 3, FailSafe = 60, EagerRefresh = 0.5, Tags = new[] { "item:{id}" })]
        public partial Task<string> SafeAsync(int id, CancellationToken ct = default);

        private Task<string> SafeAsyncCore(int id, CancellationToken ct) => ProcSource.OneAsync("safe", id, ct);

        /// <summary>
        /// Fail-safe alone (Ttl 3 s, kept 60 s more), untagged. Three seconds, not one: the test that uses it reads B's
        /// entry after A's reconnect (about 0.65 s) and its L1's emptying, which took more than a second under load.
        /// </summary>
        [Cached(Alias = Alias, Key = "fsp:{id}", Ttl = 3, FailSafe = 60)]
        public partial Task<string> PlainSafeAsync(int id, CancellationToken ct = default);

        private Task<string> PlainSafeAsyncCore(int id, CancellationToken ct) => ProcSource.OneAsync("plain-safe", id, ct);

        /// <summary>Eager refresh from 0.3 s of a 3 s life, tagged.</summary>
        [Cached(Alias = Alias, Key = "er:{id}", Ttl = 3, EagerRefresh = 0.1, Tags = new[] { "item:{id}" })]
        public partial Task<string> EagerAsync(int id, CancellationToken ct = default);

        private Task<string> EagerAsyncCore(int id, CancellationToken ct) => ProcSource.OneAsync("eager", id, ct);

        /// <summary>
        /// A stampede lease with fail-safe and eager refresh, tagged. Its refresh point is 2.7 s after a store: a process's
        /// first read, which follows another's store by an IPC round trip and a first call in a new process, must come
        /// before it on a loaded CI machine too (at 0.5 s it did not always).
        /// </summary>
        [Cached(Alias = Alias, Key = "lease:{id}", Ttl = 3, Lease = 5, FailSafe = 60, EagerRefresh = 0.9, Tags = new[] { "item:{id}" })]
        public partial Task<string> LeasedAsync(int id, CancellationToken ct = default);

        private Task<string> LeasedAsyncCore(int id, CancellationToken ct) => ProcSource.OneAsync("lease", id, ct);

        /// <summary>A stampede lease alone.</summary>
        [Cached(Alias = Alias, Key = "plain-lease:{id}", Ttl = 60, Lease = 5)]
        public partial Task<string> PlainLeasedAsync(int id, CancellationToken ct = default);

        private Task<string> PlainLeasedAsyncCore(int id, CancellationToken ct) => ProcSource.OneAsync("plain-lease", id, ct);

        [MultiCached(Alias = Alias, KeysFrom = "ids", Ttl = 60, Tags = new[] { "item:{ids}", "batch" })]
        public partial Task<Dictionary<int, string>> ManyAsync(IReadOnlyList<int> ids, CancellationToken ct = default);

        private Task<Dictionary<int, string>> ManyAsyncCore(IReadOnlyList<int> ids, CancellationToken ct) => ProcSource.ManyAsync(ids, ct);

        [InvalidateTags("item:{id}")]
        public partial Task InvalidateAsync(int id, CancellationToken ct = default);

        private Task InvalidateAsyncCore(int id, CancellationToken ct) => Task.CompletedTask;

        [InvalidateTags("batch")]
        public partial Task InvalidateBatchAsync(CancellationToken ct = default);

        private Task InvalidateBatchAsyncCore(CancellationToken ct) => Task.CompletedTask;

        [InvalidateCache(nameof(EagerAsync))]
        public partial Task ForgetEagerAsync(int id, CancellationToken ct = default);

        private Task ForgetEagerAsyncCore(int id, CancellationToken ct) => Task.CompletedTask;
    }

    /// <summary>
    /// The node's loop: one command a line on standard input, <c>{seq} {verb} {args}</c>, each run at once on the thread
    /// pool (a call waiting at the gate does not hold the next command); its answer is <c>{seq} = {result}</c> or
    /// <c>{seq} ! {exception type}: {message}</c>. Events are <c>* {text}</c>. <c>exit</c> disposes the cache and ends.
    /// </summary>
    internal static class ProcessNodeProgram
    {
        private static readonly object s_write = new();
        private static readonly MeterListener s_meters = new();
        private static long s_eagerRefreshes;

        public static void Event(string text) => Write("* " + text);

        private static void Write(string line)
        {
            lock (s_write)
            {
                Console.Out.WriteLine(line);
                Console.Out.Flush();
            }
        }

        public static int Run(string name)
        {
            var l2 = Environment.GetEnvironmentVariable("CACHED_REVIEW_L2")!;
            var backplane = Environment.GetEnvironmentVariable("CACHED_REVIEW_BACKPLANE")!;
            var space = Environment.GetEnvironmentVariable("CACHED_REVIEW_SPACE")!;
            var node = new MultiLevelCache(
                new SimpleMemoryCache(),
                new RedisCache { ConnectionString = l2 + ",abortConnect=false,name=" + name + "-l2", Namespace = space, Timeout = TimeSpan.FromSeconds(2) },
                new RedisBackplane(backplane + ",abortConnect=false,name=" + name + "-backplane"));
            Caches.AddInstance(ProcNode.Alias, node);
            CountEagerRefreshes();
            var service = new ProcNode();
            var running = new ConcurrentDictionary<int, Task>();
            Write("ready " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            string? line;
            while ((line = Console.In.ReadLine()) is not null)
            {
                var parts = line.Split(' ', 3);
                if (parts[0] == "exit")
                {
                    break;
                }

                var seq = parts[0];
                var verb = parts.Length > 1 ? parts[1] : string.Empty;
                var argument = parts.Length > 2 ? parts[2] : string.Empty;
                var id = int.TryParse(argument, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
                var key = int.Parse(seq, CultureInfo.InvariantCulture);
                running[key] = Task.Run(async () =>
                {
                    try
                    {
                        var result = await Dispatch(node, service, verb, argument, id);
                        Write($"{seq} = {result}");
                    }
                    catch (Exception ex)
                    {
                        Write($"{seq} ! {ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
                    }
                    finally
                    {
                        running.TryRemove(key, out _);
                    }
                });
            }

            ProcSource.Gate?.TrySetResult();
            Task.WhenAll(running.Values).Wait(TimeSpan.FromSeconds(5));
            node.Dispose();
            return 0;
        }

        /// <summary>
        /// Counts the eager refreshes this process starts (<c>cached.resilience.eager_refreshes</c>), for the verb
        /// <c>refreshes</c>: the counter moves before the hit that started the refresh answers.
        /// </summary>
        private static void CountEagerRefreshes()
        {
            s_meters.InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == CachedDiagnostics.MeterName && instrument.Name == "cached.resilience.eager_refreshes")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            s_meters.SetMeasurementEventCallback<long>(static (_, value, _, _) => Interlocked.Add(ref s_eagerRefreshes, value));
            s_meters.Start();
        }

        private static async Task<string> Dispatch(MultiLevelCache node, ProcNode service, string verb, string argument, int id)
        {
            switch (verb)
            {
                case "version":
                    ProcSource.Version = id;
                    return "ok";
                case "fail":
                    ProcSource.Failing = argument == "on";
                    return "ok";
                case "close":
                    ProcSource.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    return "ok";
                case "open":
                    var gate = ProcSource.Gate;
                    ProcSource.Gate = null;
                    gate?.TrySetResult();
                    return "ok";
                case "calls":
                    return Volatile.Read(ref ProcSource.Calls).ToString(CultureInfo.InvariantCulture);
                case "safe":
                    return await service.SafeAsync(id);
                case "plain-safe":
                    return await service.PlainSafeAsync(id);
                case "eager":
                    return await service.EagerAsync(id);
                case "lease":
                    return await service.LeasedAsync(id);
                case "plain-lease":
                    return await service.PlainLeasedAsync(id);
                case "many":
                    var ids = argument.Split(',').Select(text => int.Parse(text, CultureInfo.InvariantCulture)).ToArray();
                    var many = await service.ManyAsync(ids);
                    return string.Join(',', ids.Select(one => many.TryGetValue(one, out var value) ? value : "-"));
                case "invalidate":
                    await service.InvalidateAsync(id);
                    return "ok";
                case "invalidate-batch":
                    await service.InvalidateBatchAsync();
                    return "ok";
                case "forget-eager":
                    await service.ForgetEagerAsync(id);
                    return "ok";
                case "inl1":
                    return node.IsInL1(argument) ? "yes" : "no";
                case "get":
                    return await node.GetAsync<string>(argument) ?? "null";
                case "set":
                    var pair = argument.Split(' ', 2);
                    await node.SetAsync(pair[0], pair[1], ttl: TimeSpan.FromMinutes(1));
                    return "ok";
                case "pending":
                    return node.PendingWriteCount.ToString(CultureInfo.InvariantCulture);
                case "refreshes":
                    return Interlocked.Read(ref s_eagerRefreshes).ToString(CultureInfo.InvariantCulture);
                case "cas":
                    // OptimisticLock on the node's two-level cache: take the lock, then check-and-set the argument's value.
                    var cas = argument.Split(' ', 2);
                    using (var lck = new OptimisticLock(node, cas[0]))
                    {
                        await lck.CasAsync(cas[1], TimeSpan.FromMinutes(1));
                    }

                    return "ok";
                default:
                    throw new ArgumentException("unknown verb " + verb);
            }
        }
    }

    /// <summary>The test's side of one node process: commands in, answers and events out.</summary>
    internal sealed class NodeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentDictionary<int, TaskCompletionSource<string>> _answers = new();
        private readonly ConcurrentQueue<string> _events = new();
        private readonly ConcurrentQueue<string> _errors = new();
        private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<(Func<string, bool> Match, TaskCompletionSource Signal)> _waits = [];
        private int _seq;

        private NodeProcess(Process process, string name)
        {
            _process = process;
            Name = name;
        }

        public string Name { get; }

        public IEnumerable<string> Events => _events;

        public static async Task<NodeProcess> StartAsync(string name, string l2, string backplane, string space)
        {
            var assembly = typeof(NodeProcess).Assembly.Location;
            var directory = Path.GetDirectoryName(assembly)!;
            var baseName = Path.Combine(directory, Path.GetFileNameWithoutExtension(assembly));
            var start = new ProcessStartInfo(DotnetHost())
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = directory,
            };
            foreach (var argument in new[] { "exec", "--runtimeconfig", baseName + ".runtimeconfig.json", "--depsfile", baseName + ".deps.json", assembly })
            {
                start.ArgumentList.Add(argument);
            }

            start.Environment["DOTNET_STARTUP_HOOKS"] = assembly;
            start.Environment["CACHED_REVIEW_NODE"] = name;
            start.Environment["CACHED_REVIEW_L2"] = l2;
            start.Environment["CACHED_REVIEW_BACKPLANE"] = backplane;
            start.Environment["CACHED_REVIEW_SPACE"] = space;
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
            var node = new NodeProcess(process, name);
            process.OutputDataReceived += (_, e) => node.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    node._errors.Enqueue(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var ready = await Task.WhenAny(node._ready.Task, Task.Delay(TimeSpan.FromSeconds(20)));
            if (ready != node._ready.Task)
            {
                var errors = string.Join(Environment.NewLine, node._errors);
                await node.DisposeAsync();
                throw new InvalidOperationException($"node {name} did not start: {errors}");
            }

            return node;
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                foreach (var answer in _answers.Values)
                {
                    answer.TrySetException(new InvalidOperationException($"node {Name} exited: {string.Join(" | ", _errors)}"));
                }

                return;
            }

            if (line.StartsWith("ready ", StringComparison.Ordinal))
            {
                _ready.TrySetResult();
                return;
            }

            if (line.StartsWith("* ", StringComparison.Ordinal))
            {
                var text = line[2..];
                _events.Enqueue(text);
                lock (_waits)
                {
                    foreach (var wait in _waits.Where(wait => wait.Match(text)).ToArray())
                    {
                        wait.Signal.TrySetResult();
                        _waits.Remove(wait);
                    }
                }

                return;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space > 0 && int.TryParse(line.AsSpan(0, space), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq) && _answers.TryRemove(seq, out var pending))
            {
                pending.TrySetResult(line[(space + 1)..]);
            }
        }

        /// <summary>An event whose text starts with <paramref name="prefix"/>, from now on (earlier ones not counted).</summary>
        public Task EventAsync(string prefix)
        {
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waits)
            {
                _waits.Add((text => text.StartsWith(prefix, StringComparison.Ordinal), signal));
            }

            return signal.Task;
        }

        /// <summary>Sends a command; the task is its answer: <c>= value</c> or <c>! Exception: message</c>.</summary>
        public Task<string> Send(string command)
        {
            var seq = Interlocked.Increment(ref _seq);
            var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _answers[seq] = answer;
            lock (_process)
            {
                _process.StandardInput.WriteLine($"{seq} {command}");
                _process.StandardInput.Flush();
            }

            return answer.Task;
        }

        /// <summary>Sends a command and waits for its answer (10 s at most); returns the value, throws on <c>!</c>.</summary>
        public async Task<string> Call(string command)
        {
            var answer = await Send(command).WaitAsync(TimeSpan.FromSeconds(10));
            return answer.StartsWith("= ", StringComparison.Ordinal)
                ? answer[2..]
                : throw new NodeCallException($"{Name}: `{command}` answered {answer}");
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                if (!_process.HasExited)
                {
                    lock (_process)
                    {
                        _process.StandardInput.WriteLine("exit");
                        _process.StandardInput.Flush();
                    }

                    using var waited = new CancellationTokenSource(TimeSpan.FromSeconds(8));
                    await _process.WaitForExitAsync(waited.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
            {
                // Not gone by itself: ended below.
            }
            finally
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }

                _process.Dispose();
            }
        }

        private static string DotnetHost()
        {
            var root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
            if (root is not null && File.Exists(Path.Combine(root, "dotnet")))
            {
                return Path.Combine(root, "dotnet");
            }

            return Process.GetCurrentProcess().MainModule?.FileName is { } host && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
        }
    }

    /// <summary>A node answered a command with an exception.</summary>
    internal sealed class NodeCallException(string message) : Exception(message);
}
