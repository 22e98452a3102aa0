using Cached.CodeFixes.Tests.Infrastructure;

namespace Cached.CodeFixes.Tests;

/// <summary>
/// CACHED005: the fix replaces the unknown name in the Key template's hole with a parameter's, the closest first.
/// Each fixed code compiles with the generator without a diagnostic.
/// </summary>
public sealed class TemplateParameterCodeFixTests
{
    private const string Misspelt = """
        using Cached;

        namespace Demo;

        public partial class UserService
        {
            [Cached(Key = "user:{|CACHED005:{usrId:D4}|}")]
            public partial string {|CS8795:GetUser|}(string userName, int userId);

            private string GetUserCore(string userName, int userId) => userName + userId;
        }
        """;

    [Test]
    public async Task The_first_fix_uses_the_closest_parameter_and_keeps_the_format()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = Misspelt,
            CodeActionIndex = 0,
            CodeActionEquivalenceKey = "CACHED005.Closest",
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Key = "user:{userId:D4}")]
                    public partial string GetUser(string userName, int userId);

                    private string GetUserCore(string userName, int userId) => userName + userId;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task The_next_fix_offers_the_next_closest_parameter()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = Misspelt,
            CodeActionIndex = 1,
            CodeActionEquivalenceKey = "CACHED005.Use.userName",
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Key = "user:{userName:D4}")]
                    public partial string GetUser(string userName, int userId);

                    private string GetUserCore(string userName, int userId) => userName + userId;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task A_CancellationToken_is_never_offered_even_when_its_name_is_closer()
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
                    public partial Task<string> {|CS8795:GetForecastAsync|}(string city, CancellationToken ct);

                    private Task<string> GetForecastAsyncCore(string city, CancellationToken ct) => Task.FromResult(city);
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
                    public partial Task<string> GetForecastAsync(string city, CancellationToken ct);

                    private Task<string> GetForecastAsyncCore(string city, CancellationToken ct) => Task.FromResult(city);
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Case_counts_less_than_letters_and_an_at_sign_and_alignment_stay()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public static partial class Grades
                {
                    [Cached(Key = "grade:{|CACHED005:{@Clas,8}|}")]
                    public static partial string {|CS8795:Describe|}(int count, string @class);

                    private static string DescribeCore(int count, string @class) => @class + count;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public static partial class Grades
                {
                    [Cached(Key = "grade:{@class,8}")]
                    public static partial string Describe(int count, string @class);

                    private static string DescribeCore(int count, string @class) => @class + count;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task Fix_all_replaces_every_unknown_name_in_one_template()
    {
        await new CodeFixTest<TemplateParameterCodeFixProvider>
        {
            TestCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Key = "user:{|CACHED005:{nme}|}:{|CACHED005:{idd}|}")]
                    public partial string {|CS8795:GetUser|}(int id, string name);

                    private string GetUserCore(int id, string name) => name + id;
                }
                """,
            FixedCode = """
                using Cached;

                namespace Demo;

                public partial class UserService
                {
                    [Cached(Key = "user:{name}:{id}")]
                    public partial string GetUser(int id, string name);

                    private string GetUserCore(int id, string name) => name + id;
                }
                """,
        }.RunAsync();
    }

    [Test]
    public async Task No_fix_for_a_verbatim_template_where_the_diagnostic_covers_the_whole_key()
    {
        const string code = """
            using Cached;

            namespace Demo;

            public partial class UserService
            {
                [Cached(Key = {|CACHED005:@"user:{idd}"|})]
                public partial string {|CS8795:GetUser|}(int id);

                private string GetUserCore(int id) => "user " + id;
            }
            """;
        await new CodeFixTest<TemplateParameterCodeFixProvider> { TestCode = code, FixedCode = code }.RunAsync();
    }

    [Test]
    public async Task A_hole_that_reaches_into_a_parameter_gets_no_fix()
    {
        const string code = """
            using Cached;

            namespace Demo;

            public sealed record User(int Id);

            public partial class UserService
            {
                [Cached(Key = "user:{|CACHED005:{user.Id}|}")]
                public partial string {|CS8795:GetUser|}(User user);

                private string GetUserCore(User user) => user.ToString();
            }
            """;
        await new CodeFixTest<TemplateParameterCodeFixProvider> { TestCode = code, FixedCode = code }.RunAsync();
    }
}
