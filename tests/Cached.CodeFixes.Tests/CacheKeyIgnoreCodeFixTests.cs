using Cached.CodeFixes.Tests.Infrastructure;

namespace Cached.CodeFixes.Tests;

/// <summary>
/// CACHED012: the fix marks the parameter [CacheKeyIgnore], named as the file's usings allow. The fixed code compiles
/// with the generator without a diagnostic.
/// </summary>
public sealed class CacheKeyIgnoreCodeFixTests
{
    [Test]
    public async Task The_parameter_gets_CacheKeyIgnore_where_using_Cached_is_in_scope()
    {
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public sealed class Filter { }

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUsers(int page, {|CACHED012:Filter filter|});

                    private string GetUsersCore(int page, Filter filter) => "page " + page;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public sealed class Filter { }

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUsers(int page, [CacheKeyIgnore] Filter filter);

                    private string GetUsersCore(int page, Filter filter) => "page " + page;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_file_without_using_Cached_gets_the_qualified_name()
    {
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider>
        {
            TestCode = """
                using System;

                namespace Demo;

                public sealed class Filter { }

                public partial class UserService
                {
                    [Cached.Cached]
                    public partial string GetUsers({|CACHED012:Filter filter|});

                    private string GetUsersCore(Filter filter) => "users";
                }
                """,
            FixedCode = """
                using System;

                namespace Demo;

                public sealed class Filter { }

                public partial class UserService
                {
                    [Cached.Cached]
                    public partial string GetUsers([Cached.CacheKeyIgnore] Filter filter);

                    private string GetUsersCore(Filter filter) => "users";
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_global_using_in_another_file_is_enough_for_the_short_name()
    {
        const string globalUsings = "global using Cached;\n";
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider>
        {
            TestState =
            {
                Sources =
                {
                    """
                    namespace Demo;

                    public sealed class Filter { }

                    public partial class UserService
                    {
                        [Cached]
                        public partial string GetUsers({|CACHED012:Filter filter|});

                        private string GetUsersCore(Filter filter) => "users";
                    }
                    """,
                    globalUsings,
                },
            },
            FixedState =
            {
                Sources =
                {
                    """
                    namespace Demo;

                    public sealed class Filter { }

                    public partial class UserService
                    {
                        [Cached]
                        public partial string GetUsers([CacheKeyIgnore] Filter filter);

                        private string GetUsersCore(Filter filter) => "users";
                    }
                    """,
                    globalUsings,
                },
            },
        }.RunAsync();
    }

    [Test]
    public async Task Fix_all_marks_every_parameter_and_keeps_their_own_attributes_and_layout()
    {
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public sealed class Filter { }

                [System.AttributeUsage(System.AttributeTargets.Parameter)]
                public sealed class AuditedAttribute : System.Attribute { }

                public struct Paging { public int Size; }

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUsers(
                        {|CACHED012:[Audited] Filter? filter|},
                        {|CACHED012:Paging paging|});

                    private string GetUsersCore(Filter? filter, Paging paging) => "size " + paging.Size;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public sealed class Filter { }

                [System.AttributeUsage(System.AttributeTargets.Parameter)]
                public sealed class AuditedAttribute : System.Attribute { }

                public struct Paging { public int Size; }

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUsers(
                        [CacheKeyIgnore][Audited] Filter? filter,
                        [CacheKeyIgnore] Paging paging);

                    private string GetUsersCore(Filter? filter, Paging paging) => "size " + paging.Size;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_parameter_whose_elements_have_no_ToString_gets_CacheKeyIgnore()
    {
        // CACHED012 for a part of a parameter (a list's elements, a record's member) lies on the parameter too.
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider>
        {
            TestCode = """
                using System.Collections.Generic;
                using Cached;

                namespace Demo;

                public sealed class Filter { }

                public sealed record Query(Filter Filter);

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUsers(int page, {|CACHED012:List<Filter> filters|}, {|CACHED012:Query query|});

                    private string GetUsersCore(int page, List<Filter> filters, Query query) => "page " + page;
                }
                """,
            FixedCode = """
                using System.Collections.Generic;
                using Cached;

                namespace Demo;

                public sealed class Filter { }

                public sealed record Query(Filter Filter);

                public partial class UserService
                {
                    [Cached]
                    public partial string GetUsers(int page, [CacheKeyIgnore] List<Filter> filters, [CacheKeyIgnore] Query query);

                    private string GetUsersCore(int page, List<Filter> filters, Query query) => "page " + page;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_Key_hole_or_a_MultiCached_key_without_ToString_is_offered_no_CacheKeyIgnore()
    {
        // There CACHED012 lies on the hole or on KeysFrom, not on a parameter: [CacheKeyIgnore] would not leave a
        // hole's value out of its template, and a [MultiCached] method cannot do without its keys.
        const string Source = """
            using System.Collections.Generic;
            using Cached;

            namespace Demo;

            public sealed class Filter { }

            public partial class UserService
            {
                [Cached(Key = "users:{|CACHED012:{filter}|}")]
                public partial string GetUsers(Filter filter);

                private string GetUsersCore(Filter filter) => "users";

                [MultiCached(KeysFrom = {|CACHED012:"filters"|})]
                public partial Dictionary<Filter, string> GetMany(Filter[] filters);

                private Dictionary<Filter, string> GetManyCore(Filter[] filters) => new();
            }
            """;
        await new CodeFixTest<CacheKeyIgnoreCodeFixProvider> { TestCode = Source, FixedCode = Source }.RunAsync();
    }
}
