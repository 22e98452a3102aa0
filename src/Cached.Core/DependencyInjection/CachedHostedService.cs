using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cached.DependencyInjection;

/// <summary>
/// Creates the <see cref="CachedRegistry"/> when the host starts, so logging is wired and factory-made caches are
/// registered before the first request, even in an application that never resolves <see cref="ICache"/> itself
/// (one that only calls generated <c>[Cached]</c> methods).
/// </summary>
internal sealed class CachedHostedService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<CachedRegistry>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
