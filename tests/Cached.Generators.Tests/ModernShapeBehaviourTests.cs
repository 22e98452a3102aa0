using Cached.Generators.Tests.Infrastructure;

namespace Cached.Generators.Tests;

/// <summary>
/// Shapes the generated code once failed to build for: a <c>dynamic</c> parameter (a run-time bound call on the
/// key writer, CS9230) and a generic method's type parameter named like a member of its state class (CS0102).
/// Each builds with no warning and caches as documented.
/// </summary>
public sealed class ModernShapeBehaviourTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using Cached;

        """;

    private ICache _cache = null!;

    [SetUp]
    public void FreshDefaultCache()
    {
        Caches.Reset();
        _cache = Caches.Get();
        _cache.Clear();
    }

    [TearDown]
    public void ResetCaches()
    {
        _cache.Clear();
        Caches.Reset();
    }

    [Test]
    public void A_dynamic_parameter_is_keyed_as_an_object_one_and_is_invalidated_by_its_key()
    {
        var scenario = UserScenario.Build(Usings, ["""
            namespace Demo;
            public partial class Dyn
            {
                public int Calls;

                [Cached] public partial string Get(dynamic value);
                private string GetCore(dynamic value) { Calls++; return "v" + value; }

                [Cached(Key = "k:{value}")] public partial string Templated(dynamic value);
                private string TemplatedCore(dynamic value) { Calls++; return "t" + value; }

                [InvalidateCache(nameof(Get), nameof(Templated))] public partial void Forget(dynamic value);
                private void ForgetCore(dynamic value) { }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var d = new Dyn();
                    var first = d.Get(1) + d.Get(1) + d.Get(1L) + d.Templated("a") + d.Templated("a");
                    d.Forget(1);
                    d.Forget("a");
                    return first + "," + d.Get(1) + d.Templated("a") + "," + d.Calls;
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("v1v1v1tata,v1ta,5"), "1 and 1L are two entries, as for an object parameter; Forget drops both");
        Assert.That(_cache.Exists("Demo.Dyn.Get(1L)"), Is.True);
        Assert.That(_cache.Exists("k:a"), Is.True);
    }

    [TestCase("Method")]
    [TestCase("Prefix")]
    public void A_generic_method_whose_type_parameter_is_named_like_a_state_member_keeps_one_entry_per_instantiation(string name)
    {
        var scenario = UserScenario.Build(Usings, [$$"""
            namespace Demo;
            public partial class Shapes
            {
                public int Calls;
                [Cached] public partial string Echo<{{name}}>({{name}} value) where {{name}} : notnull;
                private string EchoCore<{{name}}>({{name}} value) where {{name}} : notnull { Calls++; return typeof({{name}}).Name + value; }
            }
            public static class Probe
            {
                public static string Run()
                {
                    var s = new Shapes();
                    return s.Echo(1) + s.Echo(1) + s.Echo(1L) + "," + s.Calls;
                }
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("Int321Int321Int641,2"));
        Assert.That(_cache.Exists("Demo.Shapes.Echo<System.Int64>(1)"), Is.True);
    }
}
