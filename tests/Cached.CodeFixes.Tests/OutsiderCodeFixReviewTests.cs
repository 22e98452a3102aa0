using Cached.CodeFixes.Tests.Infrastructure;

namespace Cached.CodeFixes.Tests;

/// <summary>
/// An outside review of the code fixes: shapes the other tests leave out (methods without an accessibility modifier,
/// generic namesakes, structs, records, directives, Fix All), each fixed code compiled with the generator.
/// </summary>
public sealed class OutsiderCodeFixReviewTests
{
    [Test]
    public async Task A_method_without_an_accessibility_modifier_becomes_a_private_partial_declaration_that_compiles()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    string {|CACHED001:GetUser|}(int id) => "user " + id;

                    public string Call() => GetUser(1);
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    private partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;

                    public string Call() => GetUser(1);
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task No_move_of_a_generic_body_when_a_generic_Core_with_the_same_parameters_exists()
    {
        const string code = """
            using Cached;

            namespace Demo;

            public partial class Echoes
            {
                [Cached]
                public T {|CACHED001:Echo|}<T>(T value) where T : class => value;

                private T EchoCore<T>(T value) where T : class => value;
            }
            """;
        await new CodeFixTest<MethodNotPartialCodeFixProvider> { TestCode = code, FixedCode = code }.RunAsync();
    }

    [Test]
    public async Task Add_is_not_offered_when_a_generic_Core_differs_only_in_return_type()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached]
                    public partial T {|CACHED002:{|CS8795:Echo|}|}<T>(T value) where T : class;

                    private object EchoCore<T>(T value) where T : class => value;
                }
                """,
            // The first fix: no overload can differ only in return type, so Add must not be offered.
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached]
                    public partial T Echo<T>(T value) where T : class;

                    private T EchoCore<T>(T value) where T : class => value;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Change_of_a_non_generic_namesake_for_a_generic_method_declares_the_type_parameter()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached]
                    public partial T {|CACHED002:{|CS8795:Echo|}|}<T>(T value) where T : class;

                    private object EchoCore(object value) => value;
                }
                """,
            CodeActionEquivalenceKey = "CACHED002.Change",
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached]
                    public partial T Echo<T>(T value) where T : class;

                    private T EchoCore<T>(T value) where T : class => value;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_is_not_offered_when_Core_differs_only_in_return_type_and_tuple_element_names()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class Points
                {
                    [Cached]
                    public partial string {|CACHED002:{|CS8795:Describe|}|}((int X, int Y) point);

                    private object DescribeCore((int A, int B) point) => point.Item1 + "," + point.Item2;
                }
                """,
            // The first fix: C# cannot overload on tuple element names or return type, so Add must not be offered.
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Points
                {
                    [Cached]
                    public partial string Describe((int X, int Y) point);

                    private string DescribeCore((int X, int Y) point) => point.Item1 + "," + point.Item2;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_record_struct_nested_in_a_class_and_a_record_all_become_partial()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo
                {
                    public class Outer
                    {
                        public record Middle(int Id)
                        {
                            public record struct Inner(int X)
                            {
                                [Cached]
                                public static int {|CACHED001:Square|}(int value) => value * value;
                            }
                        }
                    }
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo
                {
                    public partial class Outer
                    {
                        public partial record Middle(int Id)
                        {
                            public partial record struct Inner(int X)
                            {
                                [Cached]
                                public static partial int Square(int value);

                                private static int SquareCore(int value) => value * value;
                            }
                        }
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_generic_async_method_in_a_generic_type_keeps_async_doc_comment_and_region()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public class Repository<TItem>
                {
                    #region Lookups
                    /// <summary>Finds one.</summary>
                    [Cached]
                    public async Task<string> {|CACHED001:FindAsync|}<TKey>(TKey key, CancellationToken ct = default)
                        where TKey : notnull
                    {
                        // Slow.
                        await Task.Delay(1, ct);
                        return typeof(TItem).Name + key;
                    }
                    #endregion
                }
                """,
            FixedCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Repository<TItem>
                {
                    #region Lookups
                    /// <summary>Finds one.</summary>
                    [Cached]
                    public partial Task<string> FindAsync<TKey>(TKey key, CancellationToken ct = default)
                        where TKey : notnull;

                    private async Task<string> FindAsyncCore<TKey>(TKey key, CancellationToken ct)
                        where TKey : notnull
                    {
                        // Slow.
                        await Task.Delay(1, ct);
                        return typeof(TItem).Name + key;
                    }
                    #endregion
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_comment_after_the_closing_brace_is_not_duplicated()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public string {|CACHED001:GetUser|}(int id)
                    {
                        return "user " + id;
                    } // TODO: remove the stub user

                    public int Other() => 1;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id)
                    {
                        return "user " + id;
                    } // TODO: remove the stub user

                    public int Other() => 1;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_misspelt_type_parameter_in_a_generic_key_is_replaced_by_the_type_parameter()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached(Key = {|CACHED019:"echo:{|CACHED005:{TT}|}:{value}"|})]
                    public partial T {|CS8795:Echo|}<T>(T value) where T : class;

                    private T EchoCore<T>(T value) where T : class => value;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Echoes
                {
                    [Cached(Key = "echo:{T}:{value}")]
                    public partial T Echo<T>(T value) where T : class;

                    private T EchoCore<T>(T value) where T : class => value;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Fix_all_gives_each_unknown_name_its_closest_parameter_and_keeps_format_and_alignment()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class Orders
                {
                    [Cached(Key = "order:{|CACHED005:{usrId:D4}|}:{|CACHED005:{ordr,8}|}:{|CACHED005:{usrId}|}")]
                    public partial string {|CS8795:GetOrder|}(int userId, int order);

                    private string GetOrderCore(int userId, int order) => userId + ":" + order;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Orders
                {
                    [Cached(Key = "order:{userId:D4}:{order,8}:{userId}")]
                    public partial string GetOrder(int userId, int order);

                    private string GetOrderCore(int userId, int order) => userId + ":" + order;
                }
                """,
            NumberOfFixAllIterations = 1,
        }.RunAsync();
    }

    [Test]
    public async Task CacheKeyIgnore_goes_before_existing_attributes_and_this_of_an_extension_parameter()
    {
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider>
        {
            TestCode = """
                using System.Diagnostics.CodeAnalysis;
                using Cached;

                namespace Demo;

                public sealed class Session
                {
                }

                public static partial class SessionExtensions
                {
                    [Cached]
                    public static partial string Describe({|CACHED012:this Session session|}, int id, {|CACHED012:[NotNull] Session? other|});

                    private static string DescribeCore(Session session, int id, Session? other)
                    {
                        other ??= session;
                        return "session " + id;
                    }
                }
                """,
            FixedCode = """
                using System.Diagnostics.CodeAnalysis;
                using Cached;

                namespace Demo;

                public sealed class Session
                {
                }

                public static partial class SessionExtensions
                {
                    [Cached]
                    public static partial string Describe([CacheKeyIgnore] this Session session, int id, [CacheKeyIgnore][NotNull] Session? other);

                    private static string DescribeCore(Session session, int id, Session? other)
                    {
                        other ??= session;
                        return "session " + id;
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task The_body_moves_when_a_Core_helper_differs_only_by_ref_kind()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class Counter
                {
                    [Cached]
                    public int {|CACHED001:Next|}(int seed) => seed + 1;

                    private int NextCore(ref int seed) => ++seed;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class Counter
                {
                    [Cached]
                    public partial int Next(int seed);

                    private int NextCore(int seed) => seed + 1;

                    private int NextCore(ref int seed) => ++seed;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_class_partial_in_another_file_is_fixed_in_the_diagnostic_file_only()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestState =
            {
                Sources =
                {
                    """
                    using Cached;

                    namespace Demo
                    {
                        public class {|CS0260:UserService|}
                        {
                            [Cached]
                            public string {|CACHED001:GetUser|}(int id)
                            {
                    #if DEBUG
                                return "debug " + id;
                    #else
                                return "user " + id;
                    #endif
                            }
                        }
                    }
                    """,
                    """
                    namespace Demo
                    {
                        public partial class UserService
                        {
                            public int Count => 1;
                        }
                    }
                    """,
                },
            },
            FixedState =
            {
                Sources =
                {
                    """
                    using Cached;

                    namespace Demo
                    {
                        public partial class UserService
                        {
                            [Cached]
                            public partial string GetUser(int id);

                            private string GetUserCore(int id)
                            {
                    #if DEBUG
                                return "debug " + id;
                    #else
                                return "user " + id;
                    #endif
                            }
                        }
                    }
                    """,
                    """
                    namespace Demo
                    {
                        public partial class UserService
                        {
                            public int Count => 1;
                        }
                    }
                    """,
                },
            },
        }.RunAsync();
    }

    [Test]
    public async Task An_async_iterator_keeps_async_and_EnumeratorCancellation_on_Core_and_the_declaration_compiles_without_CS8424()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using System.Collections.Generic;
                using System.Runtime.CompilerServices;
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Feed
                {
                    [Cached]
                    public async IAsyncEnumerable<int> {|CACHED001:ReadAsync|}(int count, [EnumeratorCancellation] CancellationToken ct = default)
                    {
                        for (var i = 0; i < count; i++)
                        {
                            await Task.Delay(1, ct);
                            yield return i;
                        }
                    }
                }
                """,
            FixedCode = """
                using System.Collections.Generic;
                using System.Runtime.CompilerServices;
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Feed
                {
                    [Cached]
                    public partial IAsyncEnumerable<int> ReadAsync(int count, CancellationToken ct = default);

                    private async IAsyncEnumerable<int> ReadAsyncCore(int count, [EnumeratorCancellation] CancellationToken ct)
                    {
                        for (var i = 0; i < count; i++)
                        {
                            await Task.Delay(1, ct);
                            yield return i;
                        }
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_keeps_params_and_drops_default_values_for_a_static_method_in_a_nested_type()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using Cached;

                namespace Demo
                {
                    public static partial class Outer
                    {
                        public partial class Inner
                        {
                            [Cached]
                            public static partial string {|CACHED002:{|CS8795:Join|}|}(string separator = ",", params string[] parts);
                        }
                    }
                }
                """,
            FixedCode = """
                using System;
                using Cached;

                namespace Demo
                {
                    public static partial class Outer
                    {
                        public partial class Inner
                        {
                            [Cached]
                            public static partial string Join(string separator = ",", params string[] parts);

                            private static string JoinCore(string separator, params string[] parts)
                            {
                                throw new NotImplementedException();
                            }
                        }
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_partial_method_with_a_body_and_no_declaration_becomes_the_declaration_and_Core()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string {|CACHED001:{|CS0759:GetUser|}|}(int id)
                    {
                        return "user " + id;
                    }
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id)
                    {
                        return "user " + id;
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Nested_types_without_modifiers_and_with_doc_comments_become_partial_in_a_block_namespace()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo
                {
                    /// <summary>Outer.</summary>
                    class Outer
                    {
                        /// <summary>Inner.</summary>
                        struct Inner
                        {
                            [Cached(Key = "sq:{value}")]
                            public static int {|CACHED001:Square|}(int value) => value * value;
                        }
                    }
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo
                {
                    /// <summary>Outer.</summary>
                    partial class Outer
                    {
                        /// <summary>Inner.</summary>
                        partial struct Inner
                        {
                            [Cached(Key = "sq:{value}")]
                            public static partial int Square(int value);

                            private static int SquareCore(int value) => value * value;
                        }
                    }
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Fix_all_in_the_project_fixes_nested_types_in_two_files_and_keeps_async_on_Core()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestState =
            {
                Sources =
                {
                    """
                    using System.Threading.Tasks;
                    using Cached;

                    namespace Demo;

                    public class Outer
                    {
                        public class Users
                        {
                            [Cached]
                            public async Task<string> {|CACHED001:GetUserAsync|}(int id)
                            {
                                await Task.Yield();
                                return "user " + id;
                            }

                            [InvalidateCache(nameof(GetUserAsync))]
                            public void {|CACHED001:Forget|}(int id)
                            {
                            }
                        }

                        public class Groups
                        {
                            [Cached]
                            public static string {|CACHED001:GetGroup|}(int id) => "group " + id;
                        }
                    }
                    """,
                    """
                    using Cached;

                    namespace Demo.Other
                    {
                        internal sealed class Orders
                        {
                            [Cached(Key = "order:{id}")]
                            internal string {|CACHED001:GetOrder|}(int id) => "order " + id;
                        }
                    }
                    """,
                },
            },
            FixedState =
            {
                Sources =
                {
                    """
                    using System.Threading.Tasks;
                    using Cached;

                    namespace Demo;

                    public partial class Outer
                    {
                        public partial class Users
                        {
                            [Cached]
                            public partial Task<string> GetUserAsync(int id);

                            private async Task<string> GetUserAsyncCore(int id)
                            {
                                await Task.Yield();
                                return "user " + id;
                            }

                            [InvalidateCache(nameof(GetUserAsync))]
                            public partial void Forget(int id);

                            private void ForgetCore(int id)
                            {
                            }
                        }

                        public partial class Groups
                        {
                            [Cached]
                            public static partial string GetGroup(int id);

                            private static string GetGroupCore(int id) => "group " + id;
                        }
                    }
                    """,
                    """
                    using Cached;

                    namespace Demo.Other
                    {
                        internal sealed partial class Orders
                        {
                            [Cached(Key = "order:{id}")]
                            internal partial string GetOrder(int id);

                            private string GetOrderCore(int id) => "order " + id;
                        }
                    }
                    """,
                },
            },
        }.RunAsync();
    }

    [Test]
    public async Task Add_writes_the_stub_with_the_line_endings_of_a_CRLF_file()
    {
        var code = """
            using System;
            using Cached;

            namespace Demo;

            public partial class UserService
            {
                [Cached]
                public partial string {|CACHED002:{|CS8795:GetUser|}|}(int id);
            }
            """.Replace("\r\n", "\n").Replace("\n", "\r\n");
        var fixedCode = """
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
            }
            """.Replace("\r\n", "\n").Replace("\n", "\r\n");
        await new CodeFixTest<ImplementationCodeFixProvider> { TestCode = code, FixedCode = fixedCode }.RunAsync();
    }

    [Test]
    public async Task An_InvalidateCache_void_method_without_an_accessibility_modifier_moves_its_body()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;

                    [InvalidateCache(nameof(GetUser))]
                    void {|CACHED001:Forget|}(int id)
                    {
                    }

                    public void Clear() => Forget(1);
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

                    [InvalidateCache(nameof(GetUser))]
                    partial void Forget(int id);

                    private void ForgetCore(int id)
                    {
                    }

                    public void Clear() => Forget(1);
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task An_override_keeps_override_on_the_declaration_and_Core_is_a_plain_private_method()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public abstract class ServiceBase
                {
                    public abstract string GetUser(int id);
                }

                public sealed class UserService : ServiceBase
                {
                    [Cached]
                    public override string {|CACHED001:GetUser|}(int id) => "user " + id;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public abstract class ServiceBase
                {
                    public abstract string GetUser(int id);
                }

                public sealed partial class UserService : ServiceBase
                {
                    [Cached]
                    public override partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task No_fix_for_an_explicit_interface_implementation_which_cannot_be_partial()
    {
        const string code = """
            using Cached;

            namespace Demo;

            public interface IUserService
            {
                string GetUser(int id);
            }

            public partial class UserService : IUserService
            {
                [Cached]
                string IUserService.{|CACHED001:GetUser|}(int id) => "user " + id;
            }
            """;
        await new CodeFixTest<MethodNotPartialCodeFixProvider> { TestCode = code, FixedCode = code }.RunAsync();
    }

    [Test]
    public async Task Change_drops_a_default_value_that_the_new_parameter_type_cannot_hold()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached]
                    public partial string {|CACHED002:{|CS8795:GetUser|}|}(int id);

                    private string GetUserCore(string userId = "none") => "user " + userId;
                }
                """,
            CodeActionEquivalenceKey = "CACHED002.Change",
            FixedCode = """
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
    public async Task A_default_interface_method_becomes_partial_in_a_partial_interface_with_a_private_Core()
    {
        await new CodeFixTest<MethodNotPartialCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public interface IUserService
                {
                    [Cached]
                    public string {|CACHED001:GetUser|}(int id) => "user " + id;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial interface IUserService
                {
                    [Cached]
                    public partial string GetUser(int id);

                    private string GetUserCore(int id) => "user " + id;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_nullable_CancellationToken_is_never_offered_either()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Weather
                {
                    [Cached(Key = "forecast:{|CACHED005:{c}|}")]
                    public partial Task<string> {|CS8795:GetForecastAsync|}(string city, CancellationToken? ct);

                    private Task<string> GetForecastAsyncCore(string city, CancellationToken? ct) => Task.FromResult(city);
                }
                """,
            FixedCode = """
                using System.Threading;
                using System.Threading.Tasks;
                using Cached;

                namespace Demo;

                public partial class Weather
                {
                    [Cached(Key = "forecast:{city}")]
                    public partial Task<string> GetForecastAsync(string city, CancellationToken? ct);

                    private Task<string> GetForecastAsyncCore(string city, CancellationToken? ct) => Task.FromResult(city);
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Add_for_a_CallerMemberName_parameter_writes_a_Core_that_compiles_without_the_default_value()
    {
        await new CodeFixTest<ImplementationCodeFixProvider>
        {
            TestCode = """
                using System;
                using System.Runtime.CompilerServices;
                using Cached;

                namespace Demo;

                public partial class Audit
                {
                    [Cached]
                    public partial string {|CACHED002:{|CS8795:Describe|}|}(int id, [CallerMemberName] string caller = "");
                }
                """,
            FixedCode = """
                using System;
                using System.Runtime.CompilerServices;
                using Cached;

                namespace Demo;

                public partial class Audit
                {
                    [Cached]
                    public partial string Describe(int id, [CallerMemberName] string caller = "");

                    private string DescribeCore(int id, string caller)
                    {
                        throw new NotImplementedException();
                    }
                }
                """,
        }.RunAsync();
    }
}
