using Cached.Tests.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests;

/// <summary>A fixture whose tests log into <see cref="Logs"/>, a fresh recorder per test; logging is off again after each.</summary>
public abstract class RecordedLogsFixture
{
    internal RecordingLoggerFactory Logs { get; private set; } = null!;

    [SetUp]
    public void RecordLogs()
    {
        Logs = new RecordingLoggerFactory();
        CachedLogging.LoggerFactory = Logs;
    }

    [TearDown]
    public void StopRecordingLogs() => CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
}
