using Microsoft.Extensions.Logging.Abstractions;

namespace Cached.Tests.DependencyInjection;

/// <summary>
/// A fixture whose tests configure <see cref="Caches"/> and <see cref="CachedLogging"/>, which are process-wide: each
/// test starts from the unconfigured state and leaves it so.
/// </summary>
public abstract class ProcessWideStateFixture
{
    [SetUp]
    public void ResetProcessWideState() => Caches.Reset();

    [TearDown]
    public void RestoreProcessWideState()
    {
        Caches.Reset();
        CachedLogging.LoggerFactory = NullLoggerFactory.Instance;
    }
}
