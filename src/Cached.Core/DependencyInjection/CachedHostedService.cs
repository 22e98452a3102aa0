using System.Runtime.CompilerServices;
using Cached.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Cached.DependencyInjection;

/// <summary>
/// Creates the <see cref="CachedRegistry"/> when the host starts, so logging is wired and factory-made caches are
/// registered before the first request, even in an application that never resolves <see cref="ICache"/> itself
/// (one that only calls generated <c>[Cached]</c> methods). Then it checks that every alias a generated method names is
/// configured, and stops the host with a <see cref="CacheConfigurationException"/> naming the missing ones and the
/// methods that use them: a typo in <c>Alias</c> fails at start-up, not as a method that silently never caches.
/// </summary>
internal sealed class CachedHostedService(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = services.GetRequiredService<CachedRegistry>();
        RegisterLoadedAliases();
        if (CachedAliases.DescribeMissing(Caches.IsConfigured, Caches.ConfiguredAliases()) is { } problem)
        {
            throw new CacheConfigurationException("Cached", problem);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs the module initializers of the loaded assemblies that use Cached: an assembly's generated initializer
    /// registers its aliases, and the runtime may not have run it yet if none of its code has run.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "A trimmed reference list only means an initializer is not run early here; NativeAOT runs every module initializer at start-up, and a JIT application keeps its references.")]
    private static void RegisterLoadedAliases()
    {
        var core = typeof(ICache).Assembly.GetName().Name;
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            try
            {
                if (!assembly.IsDynamic && assembly.GetReferencedAssemblies().Any(reference => reference.Name == core))
                {
                    RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);
                }
            }
            catch (Exception ex) when (ex is NotSupportedException or BadImageFormatException or TypeInitializationException or FileNotFoundException)
            {
                // An assembly that cannot tell its references, or whose initializer fails, is left to fail on its own.
            }
        }
    }
}
