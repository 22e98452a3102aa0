using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// CACHED039: the generated call of the body would reach another method of its name than the one the generator
/// checked (an overload of a derived type hides a base class's, a closer match wins in one type), where no exact call
/// can be generated; and a KeysFrom written with an '@', as C# writes a keyword parameter's name.
/// </summary>
public sealed partial class DiagnosticTests
{
    // ---- CACHED039 ----

    [Test]
    public void CACHED039_a_virtual_base_class_body_hidden_by_an_overload_of_the_derived_type()
    {
        // Before, the generated call ran the overload: Get(1) returned -1. Calling the base's method past the overload
        // (base.GetCore) would skip an override in a further derived type, so it is an error rather than a forwarder.
        var message = Single("""
            public abstract class RepositoryBase
            {
                protected virtual int GetCore(int id) => id;
            }
            public partial class Repository : RepositoryBase
            {
                [Cached]
                public partial int [|Get|](int id);
                private int GetCore(long id) => -1;
            }
            """, "CACHED039");
        Assert.That(message, Is.EqualTo("'Repository.Get' should run 'protected virtual int RepositoryBase.GetCore(int id)', but C# binds the generated call to 'private int Repository.GetCore(long id)' instead: rename that method, or name another method with Implementation"));
    }

    [Test]
    public void CACHED039_a_base_class_body_hidden_by_an_overload_of_a_class_in_between()
    {
        // A forwarder's base.GetCore(id) would bind to the class in between's overload as well.
        var message = Single("""
            public abstract class RepositoryBase
            {
                protected int GetCore(int id) => id;
            }
            public abstract class AuditedRepository : RepositoryBase
            {
                protected int GetCore(long id) => -1;
            }
            public partial class Repository : AuditedRepository
            {
                [Cached]
                public partial int [|Get|](int id);
            }
            """, "CACHED039");
        Assert.That(message, Is.EqualTo("'Repository.Get' should run 'protected int RepositoryBase.GetCore(int id)', but C# binds the generated call to 'protected int AuditedRepository.GetCore(long id)' instead: rename that method, or name another method with Implementation"));
    }

    [Test]
    public void CACHED039_a_generic_virtual_base_class_body_hidden_by_an_overload_of_the_derived_type()
    {
        var message = Single("""
            public abstract class EchoBase
            {
                protected virtual T EchoCore<T>(T value) => value;
            }
            public partial class Echoes : EchoBase
            {
                [Cached]
                public partial T [|Echo|]<T>(T value);
                private T EchoCore<T>(object value) => default!;
            }
            """, "CACHED039");
        Assert.That(message, Is.EqualTo("'Echoes.Echo' should run 'protected virtual T EchoBase.EchoCore<T>(T value)', but C# binds the generated call to 'private T Echoes.EchoCore<T>(object value)' instead: rename that method, or name another method with Implementation"));
    }

    [Test]
    public void CACHED039_an_InvalidateCache_body_of_a_virtual_base_class_method_hidden_by_an_overload()
    {
        var message = Single("""
            public abstract class UserServiceBase
            {
                protected virtual void RenameCore(int id, string name) { }
            }
            public partial class UserService : UserServiceBase
            {
                [Cached]
                public partial User GetUser(int id);
                private User GetUserCore(int id) => new(id, "name");

                [InvalidateCache(nameof(GetUser))]
                public partial void [|Rename|](int id, string name);
                private void RenameCore(long id, string name) { }
            }
            """, "CACHED039");
        Assert.That(message, Is.EqualTo("'UserService.Rename' should run 'protected virtual void UserServiceBase.RenameCore(int id, string name)', but C# binds the generated call to 'private void UserService.RenameCore(long id, string name)' instead: rename that method, or name another method with Implementation"));
    }

    [Test]
    public void A_non_virtual_base_class_body_hidden_by_an_overload_is_called_through_a_forwarder_without_a_diagnostic()
    {
        var run = GeneratorRunner.Run(Prelude + """
            public abstract class RepositoryBase
            {
                protected int GetCore(int id) => id;
            }
            public partial class Repository : RepositoryBase
            {
                [Cached]
                public partial int Get(int id);
                private int GetCore(long id) => -1;
            }
            """);
        Assert.That(UserScenario.Problems(run), Is.Empty);
    }

    // ---- KeysFrom with an '@' ----

    [Test]
    public void CACHED007_a_KeysFrom_with_an_at_sign_that_names_no_parameter_is_shown_as_written()
    {
        // "@ids" is accepted for a parameter @ids (or ids), as C# reads the name; one that names nothing is reported as written.
        var message = Single("""
            public partial class UserService
            {
                [MultiCached(KeysFrom = [|"@ids"|])]
                public partial Dictionary<int, User> GetUsers(List<int> keys);
                private Dictionary<int, User> GetUsersCore(List<int> keys) => new();

                [MultiCached(KeysFrom = "@ids")]
                public partial Dictionary<int, User> GetOthers(List<int> ids);
                private Dictionary<int, User> GetOthersCore(List<int> ids) => new();
            }
            """, "CACHED007");
        Assert.That(message, Is.EqualTo("KeysFrom of 'UserService.GetUsers' names '@ids', which is not a parameter (parameters that can hold the keys: keys)"));
    }
}
