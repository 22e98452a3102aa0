using Cached.CodeFixes.Tests.Infrastructure;

namespace Cached.CodeFixes.Tests;

/// <summary>
/// CACHED002: Add writes the implementation the generator expects, with a body that throws until the user writes
/// one; Change retypes a method of that name that has another signature. Each fixed code compiles with the generator
/// without a diagnostic.
/// </summary>
public sealed class ImplementationCodeFixTests
{
    [Test]
    public async Task Add_writes_Core_after_the_method_with_its_return_type_and_parameters()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Ttl = 10)]
                    public partial string {|CACHED002:{|CS8795:GetUser|}|}(int id, string? region = null);

                    public int Other() => 1;
                }
                """,
            FixedCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Ttl = 10)]
                    public partial string GetUser(int id, string? region = null);

                    private string GetUserCore(int id, string? region)
                    {
                        throw new NotImplementedException();
                    }

                    public int Other() => 1;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_keeps_the_type_parameters_and_constraints_of_a_generic_method()
    {
        // Regression: the stub dropped <T> and its constraint, so the generated EchoCore<T>(...) call did not compile.
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached]
                    public partial T {|CACHED002:{|CS8795:Echo|}|}<T>(T value) where T : class;
                }
                """,
            FixedCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached]
                    public partial T Echo<T>(T value) where T : class;

                    private T EchoCore<T>(T value) where T : class
                    {
                        throw new NotImplementedException();
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_keeps_static_and_the_CancellationToken_of_an_async_Task_method_and_qualifies_the_exception_without_using_System()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public static partial class Weather
                {
                    [Cached(Key = "forecast:{city}")]
                    public static partial Task<string> {|CACHED002:{|CS8795:GetForecastAsync|}|}(string city, CancellationToken ct = default);
                }
                """,
            FixedCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public static partial class Weather
                {
                    [Cached(Key = "forecast:{city}")]
                    public static partial Task<string> GetForecastAsync(string city, CancellationToken ct = default);

                    private static Task<string> GetForecastAsyncCore(string city, CancellationToken ct)
                    {
                        throw new System.NotImplementedException();
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_for_a_ValueTask_method_leaves_CacheKeyIgnore_on_the_cached_method_only()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Counter
                {
                    [Cached]
                    public partial ValueTask<int> {|CACHED002:{|CS8795:CountAsync|}|}(string name, [CacheKeyIgnore] IProgress<int>? progress);
                }
                """,
            FixedCode = """
                using System;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Counter
                {
                    [Cached]
                    public partial ValueTask<int> CountAsync(string name, [CacheKeyIgnore] IProgress<int>? progress);

                    private ValueTask<int> CountAsyncCore(string name, IProgress<int>? progress)
                    {
                        throw new NotImplementedException();
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_names_the_method_after_the_Implementation_argument()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Implementation = {|CACHED002:"LoadUser"|})]
                    public partial string {|CS8795:GetUser|}(int id);
                }
                """,
            FixedCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Implementation = "LoadUser")]
                    public partial string GetUser(int id);

                    private string LoadUser(int id)
                    {
                        throw new NotImplementedException();
                    }
                }
                """,
        }.RunAsync();
    }

    private const string OtherParameterTypes = """
        using System;
        using Cached;

        namespace Demo;

        public partial class UserService
        {
            [Cached]
            public partial string {|CACHED002:{|CS8795:GetUser|}|}(int id);

            private string GetUserCore(long userId) => "user " + userId;
        }
        """;

    [Test]
    public async Task Add_beside_a_namesake_with_other_parameter_types_writes_an_overload()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = OtherParameterTypes,
            CodeActionEquivalenceKey = "CACHED002.Add",
            FixedCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id)
                    {
                        throw new NotImplementedException();
                    }

                    private string GetUserCore(long userId) => "user " + userId;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Change_retypes_the_namesake_and_keeps_its_parameter_names_and_body()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = OtherParameterTypes,
            CodeActionEquivalenceKey = "CACHED002.Change",
            FixedCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int userId) => "user " + userId;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Change_is_the_only_fix_when_the_namesake_differs_in_static_ness_and_return_type()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Weather
                {
                    [Cached]
                    public static partial ValueTask<string> {|CACHED002:{|CS8795:GetForecastAsync|}|}(string city, CancellationToken ct);

                    private async Task<string> GetForecastAsyncCore(string city, CancellationToken ct)
                    {
                        await Task.Delay(1, ct);
                        return city;
                    }
                }
                """,
            // Index 0: no overload can differ only in return type and static-ness, so Add is not offered.
            CodeActionIndex = 0,
            CodeActionEquivalenceKey = "CACHED002.Change",
            FixedCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Weather
                {
                    [Cached]
                    public static partial ValueTask<string> GetForecastAsync(string city, CancellationToken ct);

                    private static async ValueTask<string> GetForecastAsyncCore(string city, CancellationToken ct)
                    {
                        await Task.Delay(1, ct);
                        return city;
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Fix_all_adds_one_implementation_per_method()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string {|CACHED002:{|CS8795:GetUser|}|}(int id);

                    [InvalidateCache(nameof(GetUser))]
                    public partial void {|CACHED002:{|CS8795:SaveUser|}|}(int id, string name);
                }
                """,
            FixedCode = """
                using System;
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id)
                    {
                        throw new NotImplementedException();
                    }

                    [InvalidateCache(nameof(GetUser))]
                    public partial void SaveUser(int id, string name);

                    private void SaveUserCore(int id, string name)
                    {
                        throw new NotImplementedException();
                    }
                }
                """,
        }.RunAsync();
    }
}
