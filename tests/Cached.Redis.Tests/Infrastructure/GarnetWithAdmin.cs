using StackExchange.Redis;

namespace Cached.Redis.Tests.Infrastructure;

/// <summary>
/// A fixture's Garnet server and an admin connection to it, checked to be Garnet and not a Redis on the port. Where
/// Garnet is not installed the fixture is ignored, as <see cref="GarnetServer.StartOrIgnore"/> does.
/// </summary>
internal sealed class GarnetWithAdmin(GarnetServer garnet, ConnectionMultiplexer admin, string info) : IDisposable
{
    public GarnetServer Garnet => garnet;

    public ConnectionMultiplexer Admin => admin;

    /// <summary>What the server said of itself (<c>INFO server</c>).</summary>
    public string Info => info;

    /// <summary>Starts Garnet and connects an admin client named <paramref name="adminName"/>.</summary>
    public static GarnetWithAdmin Start(string adminName)
    {
        var garnet = GarnetServer.StartOrIgnore();
        ConnectionMultiplexer? admin = null;
        try
        {
            admin = ConnectionMultiplexer.Connect(garnet.ConnectionString + ",allowAdmin=true,name=" + adminName);
            var said = admin.GetServer(admin.GetEndPoints()[0]).InfoRaw("server") ?? string.Empty;
            Assert.That(said, Does.Contain("server_name:garnet"), "the fixture must test Garnet, not a Redis on the port");
            return new GarnetWithAdmin(garnet, admin, said);
        }
        catch
        {
            admin?.Dispose();
            garnet.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        admin.Dispose();
        garnet.Dispose();
    }
}
