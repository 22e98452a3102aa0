using Cached.CodeFixes.Tests.Infrastructure;

namespace Cached.CodeFixes.Tests;

/// <summary>
/// CACHED001: the fix makes the method and its types partial; a body moves to the implementation method, which the
/// generated body then calls. Each fixed code compiles with the generator without a diagnostic.
/// </summary>
public sealed class MethodNotPartialCodeFixTests
{
    [Test]
    public async Task A_method_with_a_body_becomes_a_declaration_and_its_body_moves_to_Core()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    /// <summary>A user's name.</summary>
                    [Cached(Ttl = 10)]
                    public string {|CACHED001:GetUser|}(int id)
                    {
                        // Slow.
                        return "user " + id;
                    }

                    public int Other() => 1;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    /// <summary>A user's name.</summary>
                    [Cached(Ttl = 10)]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id)
                    {
                        // Slow.
                        return "user " + id;
                    }

                    public int Other() => 1;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Nested_types_become_partial_around_a_partial_declaration()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public static class Outer
                {
                    internal sealed class Middle
                    {
                        public class Inner
                        {
                            [Cached]
                            public partial string {|CACHED001:{|CS0751:{|CS8795:GetUser|}|}|}(int id);

                            private string GetUserCore(int id) => "user " + id;
                        }
                    }
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public static partial class Outer
                {
                    internal sealed partial class Middle
                    {
                        public partial class Inner
                        {
                            [Cached]
                            public partial string GetUser(int id);

                            private string GetUserCore(int id) => "user " + id;
                        }
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_static_method_in_nested_types_keeps_static_on_both_parts()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public class Outer
                {
                    public class Inner
                    {
                        [Cached(Key = "square:{value}")]
                        public static int {|CACHED001:Square|}(int value) => value * value;
                    }
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Outer
                {
                    public partial class Inner
                    {
                        [Cached(Key = "square:{value}")]
                        public static partial int Square(int value);

                        private static int SquareCore(int value) => value * value;
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task An_async_Task_method_keeps_async_on_Core_only_and_Core_drops_the_default_value()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public class WeatherService
                {
                    [Cached(Ttl = 60, Key = "forecast:{city}")]
                    public async Task<string> {|CACHED001:GetForecastAsync|}(string city, CancellationToken ct = default)
                    {
                        await Task.Delay(1, ct);
                        return city + ": sunny";
                    }
                }
                """,
            FixedCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class WeatherService
                {
                    [Cached(Ttl = 60, Key = "forecast:{city}")]
                    public partial Task<string> GetForecastAsync(string city, CancellationToken ct = default);

                    private async Task<string> GetForecastAsyncCore(string city, CancellationToken ct)
                    {
                        await Task.Delay(1, ct);
                        return city + ": sunny";
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_ValueTask_method_moves_its_expression_body_and_Core_drops_CacheKeyIgnore()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using System;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Counter
                {
                    [Cached]
                    public ValueTask<int> {|CACHED001:CountAsync|}(string name, [CacheKeyIgnore] IProgress<int>? progress) => new(name.Length);
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

                    private ValueTask<int> CountAsyncCore(string name, IProgress<int>? progress) => new(name.Length);
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task The_body_moves_to_the_method_Implementation_names()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [InvalidateCache("GetUser", Implementation = "Store")]
                    public void {|CACHED001:SaveUser|}(int id, string name)
                    {
                        _ = name;
                    }

                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [InvalidateCache("GetUser", Implementation = "Store")]
                    public partial void SaveUser(int id, string name);

                    private void Store(int id, string name)
                    {
                        _ = name;
                    }

                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task An_extension_method_becomes_partial_in_a_partial_class_and_Core_is_a_plain_static_method()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public static class NumberExtensions
                {
                    [Cached]
                    public static string {|CACHED001:Describe|}(this int value)
                    {
                        return "number " + value;
                    }
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public static partial class NumberExtensions
                {
                    [Cached]
                    public static partial string Describe(this int value);

                    private static string DescribeCore(int value)
                    {
                        return "number " + value;
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Fix_all_makes_a_shared_type_partial_once_and_moves_each_body()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public class UserService
                {
                    [Cached]
                    public string {|CACHED001:GetUser|}(int id) => "user " + id;

                    [Cached]
                    public string {|CACHED001:GetGroup|}(int id) => "group " + id;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;

                    [Cached]
                    public partial string GetGroup(int id);

                    private string GetGroupCore(int id) => "group " + id;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task No_fix_when_Core_already_exists_with_the_same_parameters()
    {
        const string code = """
            using Cached;

            namespace Demo;

            public partial class UserService
            {
                [Cached]
                public string {|CACHED001:GetUser|}(int id) => "user " + id;

                private string GetUserCore(int id) => "stored user " + id;
            }
            """;
        await new CodeFixTest<MethodNotPartialCodeFixProvider> { TestCode = code, FixedCode = code }.RunAsync();
    }
}
