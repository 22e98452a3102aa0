using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED016 for a Cache, Serializer or Plugins type that the generated code cannot create with <c>new T()</c> although
/// it is a concrete class with a public parameterless constructor: a file-local type, which the generated file cannot
/// name (CS0234 there before), and a type with required members, which <c>new T()</c> cannot set (CS9035 there before).
/// </summary>
public sealed partial class DiagnosticTests
{
    private const string LocalSerializer = """
        file sealed class LocalSerializer : ISerializer
        {
            public bool StoresReferences => false;
            public void Serialize<T>(System.Buffers.IBufferWriter<byte> destination, T value) { }
            public T? Deserialize<T>(System.Buffers.ReadOnlySequence<byte> payload) => default;
        }

        """;

    [Test]
    public void CACHED016_a_file_local_Serializer_type()
    {
        var message = Single(LocalSerializer + """
            public partial class UserService
            {
                [Cached(Serializer = [|typeof(LocalSerializer)|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Serializer of 'UserService.GetUser' is 'Demo.LocalSerializer', which is declared 'file': the generated code, in a file of its own, cannot name it; declare it without 'file' ('internal' will do)"));
    }

    [Test]
    public void CACHED016_a_file_local_Cache_type()
    {
        // The third option type the generated code creates with 'new T()' (stop 64's note: untested until now).
        var message = Single("""
            file sealed class LocalCache : BaseCache
            {
                protected override CacheResult<object?> GetEntry(string key) => CacheResult<object?>.Miss;
                protected override bool AddEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => true;
                protected override bool SetEntry(string key, string? @namespace, object? payload, TimeSpan? ttl) => true;
                protected override bool ContainsEntry(string key) => false;
                protected override long IncrementEntry(string key, string? @namespace, long delta) => delta;
                protected override int RemoveEntry(string key) => 0;
                protected override bool ClearEntries(string? @namespace) => true;
                protected override bool ExpireEntry(string key, TimeSpan? ttl) => false;
                protected override object? ExecuteRaw(string command, object?[] args) => null;
            }
            public partial class UserService
            {
                [Cached(Cache = [|typeof(LocalCache)|])]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Cache of 'UserService.GetUser' is 'Demo.LocalCache', which is declared 'file': the generated code, in a file of its own, cannot name it; declare it without 'file' ('internal' will do)"));
    }

    [Test]
    public void CACHED016_a_Plugins_type_nested_in_a_file_local_type()
    {
        var message = Single("""
            file static class Local
            {
                public sealed class Plugin : CachePlugin { }
            }
            public partial class UserService
            {
                [MultiCached(KeysFrom = "ids", Plugins = new[] { typeof(TimingPlugin), [|typeof(Local.Plugin)|] })]
                public partial Dictionary<int, User> GetUsers(List<int> ids);
                private Dictionary<int, User> GetUsersCore(List<int> ids) => new();
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Plugins of 'UserService.GetUsers' is 'Demo.Local.Plugin', which is declared in the file-local type 'Local': the generated code, in a file of its own, cannot name it; declare it without 'file' ('internal' will do)"));
    }

    [Test]
    public void CACHED016_a_Plugins_type_with_required_members()
    {
        var message = Single("""
            public class NamedPlugin : CachePlugin
            {
                public required string Name { get; init; }
            }
            public sealed class LabelledPlugin : NamedPlugin
            {
                public required int Level;
            }
            public partial class UserService
            {
                [Cached(Plugins = new[] { [|typeof(LabelledPlugin)|] })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """, "CACHED016");
        Assert.That(message, Is.EqualTo("Plugins of 'UserService.GetUser' is 'Demo.LabelledPlugin', which has required members ('Level', 'Name') that the generated 'new Demo.LabelledPlugin()' cannot set: drop 'required' (give them defaults), or mark its parameterless constructor [SetsRequiredMembers]"));
    }

    [Test]
    public void A_type_with_required_members_whose_constructor_sets_them_is_created()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public sealed class NamedPlugin : CachePlugin
            {
                [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
                public NamedPlugin() => Name = "named";
                public required string Name { get; init; }
            }
            public partial class UserService
            {
                [Cached(Plugins = new[] { typeof(NamedPlugin) })]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");
            }
            """);

        Assert.That(run.GeneratorDiagnostics.Concat(run.CompilationProblems).Select(static d => d.ToString()), Is.Empty);
    }
}
