using System.Globalization;
using System.Reflection;
using System.Text;
using Cached.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using GeneratorRunResult = Cached.Generators.Tests.Infrastructure.GeneratorRunResult;

namespace Cached.Generators.Tests;

/// <summary>
/// An outsider's combinatorial sweep of the generator: method shapes crossed with attribute options, pairwise
/// (every pair of values of any two dimensions is in at least one case, as far as C# allows the pair), each case a
/// type of its own in a file of its own, all of them generated and compiled in one compilation.
/// <para>
/// Dimensions: containing type (class, sealed class, record, struct, record struct, static class, private nested
/// class, generic class), namespace (file-scoped, block, global), static or instance, accessibility (six),
/// <c>new</c> / <c>virtual</c> / <c>override</c> / <c>sealed override</c> / <c>readonly</c> (struct members),
/// <c>unsafe</c>, result wrapper (T, <c>Task&lt;T&gt;</c>, <c>ValueTask&lt;T&gt;</c>), result type (twelve), the key
/// parameter (none and sixteen kinds, <c>in</c> and <c>ref readonly</c> among them), the position of a
/// <c>CancellationToken</c>, an extra parameter (<c>[CacheKeyIgnore]</c> or optional), the key (default, fixed,
/// template, template with format or alignment, a member hole, <c>KeyBuilder</c>), <c>Ttl</c>, <c>Tags</c>, which
/// cache (default, <c>Alias</c>, <c>Cache</c>, <c>Cache</c> with a <c>Serializer</c>, <c>Namespace</c>), the
/// resilience options, <c>SkipCacheWhen</c>, and an <c>[InvalidateCache]</c> / <c>[InvalidateTags]</c> sibling.
/// </para>
/// <para>
/// What each case must do is decided from docs/decorators.md and docs/diagnostics.md: an <c>in</c> or
/// <c>ref readonly</c> parameter is CACHED003, a hole naming a member (<c>{p.Id}</c>) is CACHED005, a
/// <c>SoftTimeout</c> without <c>FailSafe</c> is the warning CACHED023 and still caches; every other case builds with
/// no diagnostic at all. Every case that builds is run: two calls with the same key make one body call (a
/// <c>CancellationToken</c> and a <c>[CacheKeyIgnore]</c> argument that differ, an array and a list of the same items,
/// an omitted optional argument and its default given all key alike), a third call with another key value makes a
/// second entry (one entry for a fixed key), <c>SkipCacheWhen</c> sees each miss, and after the sibling invalidation
/// the first key misses again.
/// </para>
/// <para>
/// A second sweep crosses <c>[MultiCached]</c> the same way (containing type, key collection type, key type, value
/// type, dictionary result, options, tags, <c>SkipCacheWhen</c>, invalidation by collection, by one key or by tag), and
/// runs each case: overlapping batches ask the body only for the missing keys, and the invalidated key is asked again.
/// </para>
/// <para>
/// Defects this file found (the failing cases are their regression tests; each has a minimal test too):
/// a method named with a keyword (<c>@event</c>) is generated unescaped (<c>partial int event(...)</c>), [MultiCached]
/// too; a generic <c>override</c> gets its constraints repeated in the generated half (CS0460); a generic method whose
/// signature has a named tuple (<c>(int Count, string Name)</c>) is refused with a CACHED002 that asks for the very
/// signature it has; a refused <c>[Cached]</c> method's <c>[InvalidateCache]</c> / <c>[InvalidateTags]</c> sibling is
/// still generated and names the refused method's missing members (CS0103 in the generated file); a key or tag
/// template naming a <c>ReadOnlyMemory&lt;T&gt;</c> parameter builds with no diagnostic and throws
/// <c>ArgumentException</c> on every call.
/// </para>
/// </summary>
public sealed class OutsiderCombinationsReviewTests
{
    // ------------------------------------------------------------------------------------------------ the dimensions

    private enum Container { Class, SealedClass, Record, Struct, RecordStruct, StaticClass, Nested, Generic }
    private enum NamespaceStyle { FileScoped, Block, Global }
    private enum Staticness { Instance, Static }
    private enum Access { Public, Internal, Private, Protected, ProtectedInternal, PrivateProtected }
    private enum Inherit { None, New, Virtual, Override, SealedOverride, Readonly }
    private enum Unsafeness { Safe, Unsafe }
    private enum Wrapper { Sync, Task, ValueTask }
    private enum Result { Int, NullableInt, String, NullableString, Record, Struct, ListOfInt, ReadOnlyListOfString, Dictionary, Tuple, NestedGeneric, Enum, NamedTuple, IntArray, ListOfNullableString }
    private enum Param
    {
        None, Int, Long, NullableString, Guid, DateTime, DateOnly, Enum, NullableInt, Record, Array, List, Enumerable, ParamsArray, In, RefReadonly, Optional,
        Double, Decimal, Bool, Char, TimeSpan, DateTimeOffset, Tuple, Dictionary, NullableEnum, Object, Memory, Uri,
    }
    private enum TokenPosition { Absent, First, Last }
    private enum Extra { None, Ignored, Optional }
    private enum KeyKind { Default, Fixed, Template, Formatted, MemberHole, Builder }
    private enum TtlKind { Unset, Ten, Fraction }
    private enum TagKind { None, Fixed, Template }
    private enum CacheKind { Default, Alias, OwnCache, OwnCacheJson, Namespace }
    private enum Resilience { None, FailSafe, FailSafeSoft, SoftOnly, Eager, Lease, Hard }
    private enum Skip { No, Yes }
    private enum Invalidator { None, InvalidateCache, InvalidateTags }
    private enum Naming { Plain, KeywordParameter, KeywordMethod, KeywordType, KeywordNamespace }
    private enum MethodGeneric { No, Yes }
    private enum Extension { No, Yes }

    private static readonly Type[] s_dimensions =
    [
        typeof(Container), typeof(NamespaceStyle), typeof(Staticness), typeof(Access), typeof(Inherit), typeof(Unsafeness),
        typeof(Wrapper), typeof(Result), typeof(Param), typeof(TokenPosition), typeof(Extra), typeof(KeyKind), typeof(TtlKind),
        typeof(TagKind), typeof(CacheKind), typeof(Resilience), typeof(Skip), typeof(Invalidator), typeof(Naming), typeof(MethodGeneric),
        typeof(Extension),
    ];

    private sealed record Case(int Number, int[] Values)
    {
        private T V<T>(int dimension) where T : Enum => (T)Enum.ToObject(typeof(T), Values[dimension]);
        public Container Container => V<Container>(0);
        public NamespaceStyle Namespace => V<NamespaceStyle>(1);
        public bool IsStatic => V<Staticness>(2) == Staticness.Static;
        public Access Access => V<Access>(3);
        public Inherit Inherit => V<Inherit>(4);
        public bool IsUnsafe => V<Unsafeness>(5) == Unsafeness.Unsafe;
        public Wrapper Wrapper => V<Wrapper>(6);
        public Result Result => V<Result>(7);
        public Param Param => V<Param>(8);
        public TokenPosition Token => V<TokenPosition>(9);
        public Extra Extra => V<Extra>(10);
        public KeyKind Key => V<KeyKind>(11);
        public TtlKind Ttl => V<TtlKind>(12);
        public TagKind Tags => V<TagKind>(13);
        public CacheKind Cache => V<CacheKind>(14);
        public Resilience Resilience => V<Resilience>(15);
        public bool SkipWhen => V<Skip>(16) == Skip.Yes;
        public Invalidator Invalidator => V<Invalidator>(17);
        public Naming Naming => V<Naming>(18);
        public bool IsGenericMethod => V<MethodGeneric>(19) == MethodGeneric.Yes;
        public bool IsExtension => V<Extension>(20) == Extension.Yes;

        /// <summary>The method's name as written: <c>@event</c> with keyword names (its body is then <c>eventCore</c>).</summary>
        public string MethodName => Naming == Naming.KeywordMethod ? "@event" : "M";

        public string CoreName => Naming == Naming.KeywordMethod ? "eventCore" : "MCore";

        /// <summary>The key parameter's name as written, and as a template hole names it.</summary>
        public string ParamName => Naming == Naming.KeywordParameter ? "@class" : "p";

        public string HoleName => Naming == Naming.KeywordParameter ? "class" : "p";

        /// <summary>The name of the nested type, when the case has one: <c>@base</c> with keyword type names.</summary>
        public bool KeywordType => Naming == Naming.KeywordType;

        public string Id => "Case" + Number.ToString("000", CultureInfo.InvariantCulture);

        /// <summary>A test name that says the whole case: one value per dimension.</summary>
        public string Name => Id + "_" + string.Join("_", s_dimensions.Select((d, i) => Enum.GetName(d, Values[i])));

        public bool ParamIsRefKind => Param is Param.In or Param.RefReadonly;

        /// <summary>The CACHED diagnostics the docs promise for this case, in the user's file.</summary>
        public string[] ExpectedDiagnostics
        {
            get
            {
                var ids = new List<string>();
                if (ParamIsRefKind)
                {
                    ids.Add("CACHED003"); // diagnostics.md, CACHED003: "A parameter is ref, out, in or ref readonly".
                }

                if (Key == KeyKind.MemberHole)
                {
                    ids.Add("CACHED005"); // diagnostics.md, CACHED005: "for {user.Id} the message says so".
                }

                if (Resilience == Resilience.SoftOnly && !ParamIsRefKind)
                {
                    // diagnostics.md, CACHED023: SoftTimeout without FailSafe. A method refused for its parameter is
                    // not looked at further (no option of a method that gets no body is worth a warning).
                    ids.Add("CACHED023");
                }

                return [.. ids.Order(StringComparer.Ordinal)];
            }
        }

        public bool ExpectsError => ParamIsRefKind || Key == KeyKind.MemberHole;

        /// <summary>Whether the key argument is in the key, so that the third call's other value is an entry of its own.</summary>
        public bool KeysApart => Param != Param.None && Key != KeyKind.Fixed;
    }

    // ------------------------------------------------------------------------------------------------ the sweep

    /// <summary>Makes a pair of values legal C# (a protected member of a struct, a virtual static method...).</summary>
    private static int[] Normalize(int[] raw)
    {
        var v = (int[])raw.Clone();
        if ((Naming)v[18] == Naming.KeywordType)
        {
            v[0] = (int)Container.Nested; // only a nested type can be named @base in every case's file
        }

        if ((Naming)v[18] == Naming.KeywordNamespace && (NamespaceStyle)v[1] == NamespaceStyle.Global)
        {
            v[1] = (int)NamespaceStyle.FileScoped;
        }

        var container = (Container)v[0];
        ref var isStatic = ref v[2];
        ref var access = ref v[3];
        ref var inherit = ref v[4];
        ref var key = ref v[11];
        ref var tags = ref v[13];
        ref var invalidator = ref v[17];
        ref var extension = ref v[20];
        ref var token = ref v[9];
        var param = (Param)v[8];

        var canDerive = container is Container.Class or Container.SealedClass or Container.Record or Container.Nested or Container.Generic;
        switch (container)
        {
            case Container.StaticClass:
                isStatic = (int)Staticness.Static;
                inherit = (int)Inherit.None;
                if ((Access)access is Access.Protected or Access.ProtectedInternal or Access.PrivateProtected)
                {
                    access = (int)Access.Public; // CS1057
                }

                break;
            case Container.Struct or Container.RecordStruct:
                if ((Access)access is Access.Protected or Access.ProtectedInternal or Access.PrivateProtected)
                {
                    access = (int)Access.Internal; // CS0666
                }

                break;
        }

        if ((Inherit)inherit is Inherit.New && !canDerive)
        {
            inherit = (int)Inherit.None;
        }

        if ((Inherit)inherit is Inherit.Virtual or Inherit.Override or Inherit.SealedOverride)
        {
            if (!canDerive)
            {
                inherit = (int)Inherit.None;
            }
            else
            {
                if (container == Container.SealedClass && (Inherit)inherit == Inherit.Virtual)
                {
                    inherit = (int)Inherit.Override; // CS0549: no new virtual member in a sealed class
                }

                isStatic = (int)Staticness.Instance;
                if ((Access)access == Access.Private)
                {
                    access = (int)Access.Public; // CS0621
                }
            }
        }

        if ((Inherit)inherit == Inherit.Readonly && (container is not (Container.Struct or Container.RecordStruct) || isStatic == (int)Staticness.Static))
        {
            inherit = (int)Inherit.None;
        }

        if (container == Container.SealedClass && (Access)access is Access.Protected or Access.ProtectedInternal or Access.PrivateProtected
            && (Inherit)inherit is not (Inherit.Override or Inherit.SealedOverride))
        {
            access = (int)Access.Internal; // CS0628: a new protected member in a sealed type
        }

        if (param == Param.ParamsArray && (TokenPosition)token == TokenPosition.Last)
        {
            token = (int)TokenPosition.First; // params comes last
        }

        if (param is Param.In or Param.RefReadonly)
        {
            // One documented error per case: the reference parameter's CACHED003.
            if ((KeyKind)key is KeyKind.MemberHole or KeyKind.Builder)
            {
                key = (int)KeyKind.Template;
            }

            invalidator = (int)Invalidator.None;
        }

        if (param == Param.None && (KeyKind)key is KeyKind.Template or KeyKind.Formatted)
        {
            key = (int)KeyKind.Fixed;
        }

        if (param == Param.Object && (KeyKind)key is KeyKind.Template or KeyKind.Formatted)
        {
            key = (int)KeyKind.Default; // the documented rule for 1 and 1L is the default key's
        }

        if (!HasFormat(param) && (KeyKind)key == KeyKind.Formatted)
        {
            key = (int)KeyKind.Template;
        }

        if (param == Param.None && (TagKind)tags == TagKind.Template)
        {
            tags = (int)TagKind.Fixed;
        }

        if ((Invalidator)invalidator == Invalidator.InvalidateTags && (TagKind)tags == TagKind.None)
        {
            tags = (int)(param == Param.None ? TagKind.Fixed : TagKind.Template);
        }

        // An extension method: a top-level static class, its key parameter first, as 'this' (no default value, no params).
        if ((Extension)extension == Extension.Yes)
        {
            // (An array converts to a ReadOnlyMemory by a user-defined conversion, which no extension receiver takes.)
            if (container != Container.StaticClass || param is Param.None or Param.ParamsArray or Param.Optional or Param.Memory)
            {
                extension = (int)Extension.No;
            }
            else if ((TokenPosition)token == TokenPosition.First)
            {
                token = (int)TokenPosition.Last;
            }
        }

        return v;
    }

    /// <summary>
    /// A greedy pairwise covering array (AETG-like), deterministic: each row starts from a pair no row covers yet and
    /// keeps, of 40 random completions made legal, the one covering most new pairs. Pairs C# rules out are dropped.
    /// </summary>
    private static List<int[]> Pairwise(Type[] dimensions, Func<int[], int[]> normalize)
    {
        var sizes = dimensions.Select(static d => Enum.GetValues(d).Length).ToArray();
        var uncovered = new SortedSet<(int, int, int, int)>();
        for (var a = 0; a < sizes.Length; a++)
        {
            for (var b = a + 1; b < sizes.Length; b++)
            {
                for (var x = 0; x < sizes[a]; x++)
                {
                    for (var y = 0; y < sizes[b]; y++)
                    {
                        uncovered.Add((a, x, b, y));
                    }
                }
            }
        }

        var random = new Random(20261206);
        var rows = new List<int[]>();
        while (uncovered.Count > 0)
        {
            var (da, xa, db, yb) = uncovered.Min;
            int[]? best = null;
            var bestGain = 0;
            for (var attempt = 0; attempt < 40; attempt++)
            {
                var row = sizes.Select(s => random.Next(s)).ToArray();
                row[da] = xa;
                row[db] = yb;
                row = normalize(row);
                var gain = Pairs(row).Count(uncovered.Contains);
                if (gain > bestGain)
                {
                    (best, bestGain) = (row, gain);
                }
            }

            if (best is null || !Pairs(best).Contains((da, xa, db, yb)))
            {
                // Count the row anyway when it covers other pairs, but this pair cannot be had as it is: drop it.
                uncovered.Remove((da, xa, db, yb));
                if (best is null)
                {
                    continue;
                }
            }

            rows.Add(best);
            foreach (var pair in Pairs(best))
            {
                uncovered.Remove(pair);
            }
        }

        return rows;

        static IEnumerable<(int, int, int, int)> Pairs(int[] row)
        {
            for (var a = 0; a < row.Length; a++)
            {
                for (var b = a + 1; b < row.Length; b++)
                {
                    yield return (a, row[a], b, row[b]);
                }
            }
        }
    }

    private static readonly Case[] s_cases = Pairwise(s_dimensions, Normalize).Select(static (v, i) => new Case(i + 1, v)).ToArray();

    public static IEnumerable<TestCaseData> AllCases()
        => s_cases.Select(static c => new TestCaseData(c.Number).SetName(c.Name));

    public static IEnumerable<TestCaseData> BuildingCases()
        => s_cases.Where(static c => !c.ExpectsError).Select(static c => new TestCaseData(c.Number).SetName("Run_" + c.Name));

    // ------------------------------------------------------------------------------------------------ the source of a case

    private static bool HasFormat(Param p) => FormatHole(p) is not null;

    /// <summary>What follows the name in a formatted hole: a format, or an alignment for a string.</summary>
    private static string? FormatHole(Param p) => p switch
    {
        Param.Int => ":D6",
        Param.Long => ":X",
        Param.NullableString => ",8",
        Param.Guid => ":N",
        Param.DateTime => ":yyyy-MM-dd",
        Param.DateOnly => ":yyyy",
        Param.Enum => ":D",
        Param.NullableInt => ":D3",
        Param.Optional => ":D2",
        Param.Double => ":F2",
        Param.Decimal => ":F1",
        Param.TimeSpan => ":c",
        Param.DateTimeOffset => ":O",
        Param.NullableEnum => ":D",
        _ => null,
    };

    private static string ParamType(Param p) => p switch
    {
        Param.Int or Param.In or Param.RefReadonly or Param.Optional => "int",
        Param.Long => "long",
        Param.NullableString => "string?",
        Param.Guid => "Guid",
        Param.DateTime => "DateTime",
        Param.DateOnly => "DateOnly",
        Param.Enum => "Color",
        Param.NullableInt => "int?",
        Param.Record => "Rec",
        Param.Array or Param.ParamsArray => "int[]",
        Param.List => "List<int>",
        Param.Enumerable => "IEnumerable<int>",
        Param.Double => "double",
        Param.Decimal => "decimal",
        Param.Bool => "bool",
        Param.Char => "char",
        Param.TimeSpan => "TimeSpan",
        Param.DateTimeOffset => "DateTimeOffset",
        Param.Tuple => "(int, string)",
        Param.Dictionary => "Dictionary<string, int>",
        Param.NullableEnum => "Color?",
        Param.Object => "object",
        Param.Memory => "ReadOnlyMemory<int>",
        Param.Uri => "Uri",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    /// <summary>The argument of the first call, of the second (the same key, another instance where it can be), of the third (another key).</summary>
    private static (string A, string A2, string B) Arguments(Param p) => p switch
    {
        Param.Int => ("7", "7", "8"),
        Param.Long => ("7L", "7L", "(1L << 40)"),
        Param.NullableString => ("\"a,b\"", "string.Concat(\"a,\", \"b\")", "null"),
        Param.Guid => ("Guid.Parse(\"00000000-0000-0000-0000-000000000001\")", "new Guid(\"00000000-0000-0000-0000-000000000001\")", "Guid.Parse(\"00000000-0000-0000-0000-000000000002\")"),
        Param.DateTime => ("new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)", "new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc)", "new DateTime(2027, 3, 4, 3, 4, 5, DateTimeKind.Utc)"),
        Param.DateOnly => ("new DateOnly(2026, 1, 2)", "new DateOnly(2026, 1, 2)", "new DateOnly(2027, 1, 2)"),
        Param.Enum => ("Color.Red", "Color.Red", "Color.Blue"),
        Param.NullableInt => ("5", "(int?)5", "null"),
        Param.Record => ("new Rec(1, \"a\")", "new Rec(1, \"a\")", "new Rec(1, \"b\")"),
        Param.Array => ("new[] { 1, 2 }", "new[] { 1, 2 }", "new[] { 2, 1 }"),
        Param.List => ("new List<int> { 1, 2 }", "new List<int> { 1, 2 }", "new List<int> { 2, 1 }"),
        // decorators.md: sequences are written element by element, so an array and a list of the same items share one key.
        Param.Enumerable => ("new[] { 1, 2 }", "new List<int> { 1, 2 }", "new[] { 2, 1 }"),
        Param.ParamsArray => ("1, 2", "new[] { 1, 2 }", "2, 1"),
        // The first call leaves the optional key parameter out; the second gives its default, 5.
        Param.Optional => ("", "5", "6"),
        Param.Double => ("1.5", "1.5", "2.5"),
        Param.Decimal => ("1.5m", "1.5m", "2.5m"),
        Param.Bool => ("true", "true", "false"),
        Param.Char => ("'a'", "'a'", "'b'"),
        Param.TimeSpan => ("TimeSpan.FromMinutes(90)", "new TimeSpan(1, 30, 0)", "TimeSpan.FromMinutes(91)"),
        // The same local time at two offsets: two instants.
        Param.DateTimeOffset => ("new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)", "new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)", "new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(1))"),
        Param.Tuple => ("(1, \"a\")", "(1, string.Concat(\"a\", \"\"))", "(1, \"b\")"),
        Param.Dictionary => ("new Dictionary<string, int> { [\"a\"] = 1 }", "new Dictionary<string, int> { [\"a\"] = 1 }", "new Dictionary<string, int> { [\"a\"] = 2 }"),
        Param.NullableEnum => ("Color.Red", "(Color?)Color.Red", "null"),
        // decorators.md, keys: "M(1), M(1L) and M(1.0) are three entries" for an object parameter.
        Param.Object => ("1", "(object)1", "1L"),
        // decorators.md, keys: a memory parameter of its own is written by its elements.
        Param.Memory => ("new[] { 1, 2 }", "new[] { 1, 2 }", "new[] { 2, 1 }"),
        Param.Uri => ("new Uri(\"http://x/a\")", "new Uri(\"http://x/a\")", "new Uri(\"http://x/b\")"),
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    };

    private static string ResultType(Result r) => r switch
    {
        Result.Int => "int",
        Result.NullableInt => "int?",
        Result.String => "string",
        Result.NullableString => "string?",
        Result.Record => "Rec",
        Result.Struct => "Pt",
        Result.ListOfInt => "List<int>",
        Result.ReadOnlyListOfString => "IReadOnlyList<string>",
        Result.Dictionary => "Dictionary<string, int>",
        Result.Tuple => "(int, string)",
        Result.NestedGeneric => "Dictionary<string, List<Rec>>",
        Result.Enum => "Color",
        Result.NamedTuple => "(int Count, string Name)",
        Result.IntArray => "int[]",
        Result.ListOfNullableString => "List<string?>",
        _ => throw new ArgumentOutOfRangeException(nameof(r)),
    };

    /// <summary>A value of the result type made from the body's call count <c>n</c>: each call's value differs.</summary>
    private static string ResultValue(Result r) => r switch
    {
        Result.Int => "n",
        Result.NullableInt => "(int?)n",
        Result.String => "\"v\" + n",
        Result.NullableString => "(n % 2 == 0 ? null : \"v\" + n)",
        Result.Record => "new Rec(n, \"r\")",
        Result.Struct => "new Pt(n, -n)",
        Result.ListOfInt => "new List<int> { n }",
        Result.ReadOnlyListOfString => "new[] { \"s\" + n }",
        Result.Dictionary => "new Dictionary<string, int> { [\"k\"] = n }",
        Result.Tuple => "(n, \"t\")",
        Result.NestedGeneric => "new Dictionary<string, List<Rec>> { [\"k\"] = new List<Rec> { new Rec(n, \"n\") } }",
        Result.Enum => "(Color)n",
        Result.NamedTuple => "(n, \"t\")",
        Result.IntArray => "new[] { n }",
        Result.ListOfNullableString => "new List<string?> { null, \"s\" + n }",
        _ => throw new ArgumentOutOfRangeException(nameof(r)),
    };

    private sealed record Parameter(string Declaration, string CoreDeclaration, string BuilderDeclaration, string Name, bool IsToken, bool IsKeyParam);

    private static List<Parameter> Parameters(Case c)
    {
        var list = new List<Parameter>();
        var n = c.ParamName;
        var @this = c.IsExtension ? "this " : "";
        var token = new Parameter("CancellationToken ct", "CancellationToken ct", "", "ct", true, false);
        if (c.Token == TokenPosition.First)
        {
            list.Add(token);
        }

        if (c.Extra == Extra.Ignored)
        {
            list.Add(new Parameter("[CacheKeyIgnore] string trace", "string trace", "string trace", "trace", false, false));
        }

        Parameter? key = c.Param switch
        {
            Param.None => null,
            Param.In => new Parameter($"{@this}in int {n}", $"in int {n}", "", n, false, true),
            Param.RefReadonly => new Parameter($"{@this}ref readonly int {n}", $"ref readonly int {n}", "", n, false, true),
            Param.ParamsArray => new Parameter($"params int[] {n}", $"int[] {n}", $"int[] {n}", n, false, true),
            Param.Optional => new Parameter($"int {n} = 5", $"int {n}", $"int {n}", n, false, true),
            _ => new Parameter($"{@this}{ParamType(c.Param)} {n}", $"{ParamType(c.Param)} {n}", $"{ParamType(c.Param)} {n}", n, false, true),
        };
        if (c.IsExtension)
        {
            list.Insert(0, key!); // 'this' comes first
            key = null;
        }

        var optionalExtra = c.Extra == Extra.Optional ? new Parameter("int page = 3", "int page", "int page", "page", false, false) : null;
        if (c.Param == Param.ParamsArray)
        {
            if (optionalExtra is not null)
            {
                list.Add(optionalExtra);
            }

            list.Add(key!);
        }
        else
        {
            if (key is not null)
            {
                list.Add(key);
            }

            if (optionalExtra is not null)
            {
                list.Add(optionalExtra);
            }
        }

        if (c.Token == TokenPosition.Last)
        {
            list.Add(token with { Declaration = "CancellationToken ct = default" });
        }

        return list;
    }

    /// <summary>The arguments of one call: <paramref name="which"/> is 0 (first key, first call), 1 (same key, second call), 2 (other key).</summary>
    private static string CallArguments(Case c, int which, bool receiver = true)
    {
        var (a, a2, b) = c.Param == Param.None ? ("", "", "") : Arguments(c.Param);
        var keyArgument = which switch { 0 => a, 1 => a2, _ => b };
        // Named arguments, so that an optional argument can be left out; with a params spread every argument is positional.
        var positional = c.Param == Param.ParamsArray;
        var parts = new List<string>();
        foreach (var p in Parameters(c).Skip(receiver ? 0 : 1))
        {
            var text = p.IsToken ? (which == 1 ? "new CancellationTokenSource().Token" : "CancellationToken.None")
                : p.Name == "trace" ? "\"trace" + which + "\""
                : p.Name == "page" ? (which == 0 && !positional ? "" : "3") // left out on the first call, its default given on the others
                : keyArgument;
            if (text.Length > 0)
            {
                parts.Add(positional ? text : p.Name + ": " + text);
            }
        }

        return string.Join(", ", parts);
    }

    private static string Accessibility(Access a) => a switch
    {
        Access.Public => "public",
        Access.Internal => "internal",
        Access.Private => "private",
        Access.Protected => "protected",
        Access.ProtectedInternal => "protected internal",
        Access.PrivateProtected => "private protected",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    private static string TypeName(Case c) => c.Container switch
    {
        Container.Class => c.Id + "_Class",
        Container.SealedClass => c.Id + "_Sealed",
        Container.Record => c.Id + "_Record",
        Container.Struct => c.Id + "_Struct",
        Container.RecordStruct => c.Id + "_RecordStruct",
        Container.StaticClass => c.Id + "_Static",
        Container.Nested => c.KeywordType ? "@base" : "Inner",
        Container.Generic => c.Id + "_Box",
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    /// <summary>The case's namespace as written (<c>Sweep.@namespace.N017</c> with keyword names) and as the runtime names it.</summary>
    private static string NamespaceName(Case c, bool written = true)
        => "Sweep." + (c.Naming == Naming.KeywordNamespace ? (written ? "@namespace." : "namespace.") : "") + "N" + c.Number.ToString("000", CultureInfo.InvariantCulture);

    /// <summary>The runtime name of the type that holds the probe (closed over int for the generic one).</summary>
    private static string ProbeTypeName(Case c)
    {
        var prefix = c.Namespace == NamespaceStyle.Global ? "" : NamespaceName(c, written: false) + ".";
        return c.Container switch
        {
            Container.Nested => prefix + c.Id + "_Outer+" + (c.KeywordType ? "base" : "Inner"),
            Container.Generic => prefix + c.Id + "_Box`1",
            _ => prefix + TypeName(c),
        };
    }

    private static string Source(Case c)
    {
        var parameters = Parameters(c);
        var declaration = string.Join(", ", parameters.Select(static p => p.Declaration));
        var core = string.Join(", ", parameters.Select(static p => p.CoreDeclaration));
        var builder = string.Join(", ", parameters.Where(static p => !p.IsToken).Select(static p => p.BuilderDeclaration));
        var t = ResultType(c.Result);
        var returnType = c.Wrapper switch { Wrapper.Sync => t, Wrapper.Task => $"Task<{t}>", _ => $"ValueTask<{t}>" };
        var st = c.IsStatic ? "static " : "";
        var typeName = TypeName(c);
        var keyPrefix = c.Id.ToLowerInvariant() + (c.Container == Container.Generic ? ":{T}" : "") + (c.IsGenericMethod ? ":{TM}" : "");
        var hole = c.HoleName;
        var m = c.MethodName;
        var typeParameters = c.IsGenericMethod ? "<TM>" : "";
        var constraint = c.IsGenericMethod ? " where TM : notnull" : "";
        // C# refuses constraints on an override (CS0460): it inherits its base method's.
        var methodConstraint = c.Inherit is Inherit.Override or Inherit.SealedOverride ? "" : constraint;

        // The attribute.
        var options = new List<string>();
        switch (c.Key)
        {
            case KeyKind.Fixed:
                options.Add($"Key = \"{keyPrefix}:fixed\"");
                break;
            case KeyKind.Template:
                options.Add($"Key = \"{keyPrefix}:{{{hole}}}\"");
                break;
            case KeyKind.Formatted:
                options.Add($"Key = \"{keyPrefix}:{{{hole}{FormatHole(c.Param)}}}\"");
                break;
            case KeyKind.MemberHole:
                options.Add($"Key = \"{keyPrefix}:{{{hole}.Id}}\"");
                break;
            case KeyKind.Builder:
                options.Add("KeyBuilder = nameof(BuildKey)");
                break;
        }

        switch (c.Ttl)
        {
            case TtlKind.Ten:
                options.Add("Ttl = 10");
                break;
            case TtlKind.Fraction:
                options.Add("Ttl = 12.5"); // a fraction, and long enough that no eager refresh starts under a loaded machine
                break;
        }

        var tagPrefix = c.Id.ToLowerInvariant();
        switch (c.Tags)
        {
            case TagKind.Fixed:
                options.Add($"Tags = new[] {{ \"{tagPrefix}:all\" }}");
                break;
            case TagKind.Template:
                options.Add($"Tags = new[] {{ \"{tagPrefix}:{{{c.ParamName}}}\", \"{tagPrefix}:all\" }}");
                break;
        }

        switch (c.Cache)
        {
            case CacheKind.Alias:
                options.Add("Alias = \"alt\"");
                break;
            case CacheKind.OwnCache:
                options.Add("Cache = typeof(SimpleMemoryCache)");
                break;
            case CacheKind.OwnCacheJson:
                options.Add("Cache = typeof(SimpleMemoryCache), Serializer = typeof(Cached.Serializers.JsonSerializer)");
                break;
            case CacheKind.Namespace:
                options.Add($"Namespace = \"ns{c.Number}\"");
                break;
        }

        switch (c.Resilience)
        {
            case Resilience.FailSafe:
                options.Add("FailSafe = 60");
                break;
            case Resilience.FailSafeSoft:
                options.Add("FailSafe = 60, SoftTimeout = 1");
                break;
            case Resilience.SoftOnly:
                options.Add("SoftTimeout = 1");
                break;
            case Resilience.Eager:
                options.Add("EagerRefresh = 0.5");
                break;
            case Resilience.Lease:
                options.Add("Lease = 5");
                break;
            case Resilience.Hard:
                options.Add("HardTimeout = 5");
                break;
        }

        if (c.SkipWhen)
        {
            options.Add("SkipCacheWhen = nameof(SkipWhen)");
        }

        var attribute = options.Count == 0 ? "[Cached]" : "[Cached(" + string.Join(", ", options) + ")]";

        // The modifiers.
        var access = Accessibility(c.Access);
        var inherit = c.Inherit switch
        {
            Inherit.New => "new ",
            Inherit.Virtual => "virtual ",
            Inherit.Override => "override ",
            Inherit.SealedOverride => "sealed override ",
            Inherit.Readonly => "readonly ",
            _ => "",
        };
        var @unsafe = c.IsUnsafe ? "unsafe " : "";
        var ro = c.Inherit == Inherit.Readonly ? "readonly " : "";

        // The body.
        var value = ResultValue(c.Result);
        var coreBody = c.Wrapper switch
        {
            Wrapper.Sync => $"{{ Calls++; var n = Calls; return {value}; }}",
            Wrapper.Task when !c.ParamIsRefKind => $"{{ await Task.Yield(); Calls++; var n = Calls; return {value}; }}",
            Wrapper.Task => $"{{ Calls++; var n = Calls; return Task.FromResult<{t}>({value}); }}",
            _ => $"{{ Calls++; var n = Calls; return new ValueTask<{t}>({value}); }}",
        };
        var coreAsync = c.Wrapper == Wrapper.Task && !c.ParamIsRefKind ? "async " : "";

        var body = new StringBuilder();
        body.AppendLine("    public static int Calls;");
        body.AppendLine("    public static int SkipCalls = 0;");
        body.AppendLine($"    {attribute}");
        body.AppendLine($"    {access} {st}{inherit}{@unsafe}partial {returnType} {m}{typeParameters}({declaration}){methodConstraint};");
        body.AppendLine($"    private {st}{ro}{coreAsync}{returnType} {c.CoreName}{typeParameters}({core}){constraint} {coreBody}");
        if (c.Key == KeyKind.Builder)
        {
            var typeArgument = (c.Container == Container.Generic ? "typeof(T).Name + " : "") + (c.IsGenericMethod ? "typeof(TM).Name + " : "");
            // An object parameter's key carries its value's type, as the default key does (1 and 1L are two entries).
            var keyText = c.Param == Param.None ? "\"none\""
                : c.Param == Param.Object ? $"Show.Text({c.ParamName}) + \":\" + {c.ParamName}?.GetType().Name"
                : $"Show.Text({c.ParamName})";
            body.AppendLine($"    private static string BuildKey{typeParameters}({builder}){constraint} => \"{c.Id.ToLowerInvariant()}:\" + {typeArgument}{keyText};");
        }

        if (c.SkipWhen)
        {
            body.AppendLine($"    private static bool SkipWhen({t} result) {{ SkipCalls++; return false; }}");
        }

        var forgetReturn = c.Wrapper switch { Wrapper.Sync => "void", Wrapper.Task => "Task", _ => "ValueTask" };
        var forgetBody = c.Wrapper switch { Wrapper.Sync => "{ }", Wrapper.Task => "=> Task.CompletedTask;", _ => "=> default;" };
        switch (c.Invalidator)
        {
            case Invalidator.InvalidateCache:
                body.AppendLine($"    [InvalidateCache(nameof({m}))]");
                break;
            case Invalidator.InvalidateTags:
                body.AppendLine(c.Tags == TagKind.Template ? $"    [InvalidateTags(\"{tagPrefix}:{{{c.ParamName}}}\")]" : $"    [InvalidateTags(\"{tagPrefix}:all\")]");
                break;
        }

        if (c.Invalidator != Invalidator.None)
        {
            body.AppendLine($"    public {st}partial {forgetReturn} Forget{typeParameters}({declaration}){constraint};");
            body.AppendLine($"    private {st}{forgetReturn} ForgetCore{typeParameters}({core}){constraint} {forgetBody}");
        }

        if (!c.ExpectsError)
        {
            body.Append(Probe(c, typeName));
        }

        // The base type, for new / override.
        var baseType = "";
        var baseDeclaration = "";
        if (c.Inherit is Inherit.New or Inherit.Override or Inherit.SealedOverride)
        {
            var baseName = c.Id + "_Base";
            var kind = c.Container == Container.Record ? "record" : "class";
            var baseParameters = declaration.Replace("[CacheKeyIgnore] ", "", StringComparison.Ordinal);
            var baseMember = c.Inherit == Inherit.New ? $"public {st}{returnType} {m}{typeParameters}({baseParameters}){constraint} => throw new NotSupportedException();"
                : $"{access} virtual {returnType} {m}{typeParameters}({baseParameters}){constraint} => throw new NotSupportedException();";
            baseDeclaration = $"public {kind} {baseName}\n{{\n    {baseMember}\n}}\n";
            baseType = " : " + baseName;
        }

        var typeKeyword = c.Container switch
        {
            Container.Class or Container.Nested or Container.Generic => "partial class",
            Container.SealedClass => "sealed partial class",
            Container.Record => "partial record",
            Container.Struct => "partial struct",
            Container.RecordStruct => "partial record struct",
            Container.StaticClass => "static partial class",
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
        var declaredName = c.Container == Container.Generic ? typeName + "<T>" : typeName;
        var type = $"public {typeKeyword} {declaredName}{baseType}\n{{\n{body}}}\n";
        if (c.Container == Container.Nested)
        {
            type = $"public partial class {c.Id}_Outer\n{{\n    private {typeKeyword} {typeName}{baseType}\n{{\n{body}}}\n}}\n";
        }

        var text = $"// {c.Name}\n";
        return c.Namespace switch
        {
            NamespaceStyle.FileScoped => text + $"namespace {NamespaceName(c)};\n" + baseDeclaration + type,
            NamespaceStyle.Block => text + $"namespace {NamespaceName(c)}\n{{\n" + baseDeclaration + type + "}\n",
            _ => text + baseDeclaration + type,
        };
    }

    /// <summary>
    /// The probe: three calls (first key, same key, other key), then the sibling invalidation and the first key again.
    /// It answers "calls after the third call|calls at the end|skip predicate calls|a|b|c|d".
    /// </summary>
    private static string Probe(Case c, string typeName)
    {
        var aw = c.Wrapper == Wrapper.Sync ? "" : "await ";
        var target = c.IsStatic ? "" : "o.";
        // Through the base type when the method overrides one (not for a protected one, which C# reaches through the
        // derived type only): the override is what is cached.
        var viaBase = (c.Inherit is Inherit.Override or Inherit.SealedOverride) && (c.Access is Access.Public or Access.Internal or Access.ProtectedInternal)
            ? $"(({c.Id}_Base)o)." : target;
        var probe = new StringBuilder();
        probe.AppendLine("    internal static async Task<string> ProbeCase()");
        probe.AppendLine("    {");
        probe.AppendLine("        await Task.CompletedTask;");
        if (!c.IsStatic)
        {
            probe.AppendLine(c.Container == Container.Generic ? $"        var o = new {typeName}<T>();" : $"        var o = new {typeName}();");
        }

        var m = c.MethodName;
        var ti = c.IsGenericMethod ? "<int>" : "";
        probe.AppendLine($"        var a = {aw}{target}{m}{ti}({CallArguments(c, 0)});");
        // The second call as an extension method's call where it is one: the receiver, then the other arguments.
        probe.AppendLine(c.IsExtension
            ? $"        var b = {aw}({Arguments(c.Param).A2}).{m}{ti}({CallArguments(c, 1, receiver: false)});"
            : $"        var b = {aw}{viaBase}{m}{ti}({CallArguments(c, 1)});");
        probe.AppendLine($"        var c = {aw}{target}{m}{ti}({CallArguments(c, 2)});");
        probe.AppendLine("        var afterThird = Calls;");
        if (c.Invalidator != Invalidator.None)
        {
            probe.AppendLine($"        {aw}{target}Forget{ti}({CallArguments(c, 0)});");
            probe.AppendLine($"        var d = {aw}{target}{m}{ti}({CallArguments(c, 0)});");
        }
        else
        {
            probe.AppendLine("        var d = \"-\";");
        }

        // Another instantiation of a generic method is an entry of its own (decorators.md, generic methods).
        probe.AppendLine(c.IsGenericMethod ? $"        var e = {aw}{target}{m}<long>({CallArguments(c, 0)});" : "        var e = \"-\";");
        probe.AppendLine("        return afterThird + \"|\" + Calls + \"|\" + SkipCalls + \"|\" + Show.Text(a) + \"|\" + Show.Text(b) + \"|\" + Show.Text(c) + \"|\" + Show.Text(d) + \"|\" + Show.Text(e);");
        probe.AppendLine("    }");
        return probe.ToString();
    }

    private const string SharedSource = """
        global using System;
        global using System.Collections.Generic;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Cached;
        global using Shared;

        namespace Shared
        {
            public sealed record Rec(int Id, string Name);
            public readonly record struct Pt(int X, int Y);
            public enum Color { Red = 1, Green = 2, Blue = 3 }

            public static class Show
            {
                public static string Text(object? value) => value switch
                {
                    null => "null",
                    string s => "\"" + s + "\"",
                    ReadOnlyMemory<int> m => Text(m.ToArray()),
                    System.Collections.IDictionary d => "{" + string.Join(",", d.Keys.Cast<object>().Select(k => Text(k) + ":" + Text(d[k])).Order(StringComparer.Ordinal)) + "}",
                    System.Collections.IEnumerable e => "[" + string.Join(",", e.Cast<object?>().Select(Text)) + "]",
                    IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                    _ => value.ToString() ?? "",
                };
            }
        }
        """;

    // ------------------------------------------------------------------------------------------------ compiling

    private const string SharedPath = "Source0.cs";

    private static string CasePath(Case c) => "Source" + c.Number.ToString(CultureInfo.InvariantCulture) + ".cs";

    private static GeneratorRunResult Generate(IEnumerable<Case> cases)
        => GenerateSweep(s_cases.Length, cases.ToHashSet(), number => Source(s_cases[number - 1]), allowUnsafe: true);

    /// <summary>
    /// One compilation of a sweep: the shared source, then each case's own file, a case left out as a comment so that
    /// every case keeps its file name (its number) from run to run.
    /// </summary>
    private static GeneratorRunResult GenerateSweep<TCase>(int count, HashSet<TCase> included, Func<int, string> sourceOf, bool allowUnsafe)
        where TCase : notnull
    {
        var sources = new string[count + 1];
        sources[0] = SharedSource;
        for (var number = 1; number <= count; number++)
        {
            sources[number] = included.Any(c => NumberOf(c) == number) ? sourceOf(number) : "// left out\n";
        }

        var compilation = GeneratorRunner.Compile(sources);
        if (allowUnsafe)
        {
            compilation = compilation.WithOptions(compilation.Options.WithAllowUnsafe(true));
        }

        return GeneratorRunner.Run(compilation);
    }

    private static int NumberOf(object c) => c switch { Case one => one.Number, MultiCase multi => multi.Number, _ => 0 };

    private static readonly Lazy<GeneratorRunResult> s_all = new(() => Generate(s_cases));

    /// <summary>The number of the case a generated file belongs to (its hint name holds the case's type), or 0.</summary>
    private static int CaseOfGeneratedFile(string path)
    {
        var match = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(path), @"Case(\d{3})_");
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Compilation, Diagnostic[]> s_diagnostics = new();

    /// <summary>The build's diagnostics, computed once per compilation: every case's test reads those of one compilation.</summary>
    private static Diagnostic[] Diagnostics(GeneratorRunResult run) => s_diagnostics.GetOrAdd(run.Output, static c => [.. c.GetDiagnostics()]);

    private static bool IsGenerated(Diagnostic d, GeneratorRunResult run)
        => d.Location.SourceTree is { } tree && !run.Input.SyntaxTrees.Contains(tree);

    /// <summary>The cases that build, each with no diagnostic, in a compilation of their own, emitted and loaded.</summary>
    private static readonly Lazy<(Assembly? Assembly, string Failure)> s_built = new(() =>
    {
        var broken = BrokenCases(s_all.Value, CaseOfGeneratedFile);
        return Built(Generate(s_cases.Where(c => !c.ExpectsError && !broken.Contains(c.Number))));
    });

    /// <summary>The numbers of the cases with an error, in their own file or in a file generated for them.</summary>
    private static HashSet<int> BrokenCases(GeneratorRunResult all, Func<string, int> caseOfGeneratedFile)
    {
        var broken = new HashSet<int>();
        foreach (var d in all.GeneratorDiagnostics.Concat(Diagnostics(all)).Where(static d => d.Severity == DiagnosticSeverity.Error))
        {
            if (d.Location.SourceTree is { } tree)
            {
                broken.Add(IsGenerated(d, all) ? caseOfGeneratedFile(tree.FilePath) : CaseOfUserFile(tree.FilePath));
            }
        }

        return broken;
    }

    /// <summary>The run's compilation emitted and loaded, or why it could not be.</summary>
    private static (Assembly? Assembly, string Failure) Built(GeneratorRunResult run)
    {
        var errors = Diagnostics(run).Where(static d => d.Severity == DiagnosticSeverity.Error).ToArray();
        if (errors.Length > 0)
        {
            return (null, string.Join("\n", errors.Take(20)));
        }

        using var image = new MemoryStream();
        var emitted = run.Output.Emit(image);
        return emitted.Success ? (Assembly.Load(image.ToArray()), "") : (null, string.Join("\n", emitted.Diagnostics.Take(20)));
    }

    /// <summary>
    /// What a whole sweep must not have: a dimension's value in no case, a generator exception, or a diagnostic in a
    /// generated file that belongs to no case (one shared by the assembly).
    /// </summary>
    private static void AssertSweep(Type[] dimensions, IReadOnlyList<int[]> cases, int atLeast, GeneratorRunResult run, Func<string, int> caseOfGeneratedFile)
    {
        var missing = new List<string>();
        for (var d = 0; d < dimensions.Length; d++)
        {
            foreach (int value in Enum.GetValues(dimensions[d]))
            {
                if (!cases.Any(c => c[d] == value))
                {
                    missing.Add(dimensions[d].Name + "." + Enum.GetName(dimensions[d], value));
                }
            }
        }

        var crashes = run.GeneratorDiagnostics.Concat(Diagnostics(run))
            .Where(static d => d.Id is "CS8785" or "AD0001" || d.GetMessage(CultureInfo.InvariantCulture).Contains("threw an exception", StringComparison.Ordinal))
            .Select(static d => d.ToString()).ToArray();
        var shared = Diagnostics(run).Where(d => d.Severity >= DiagnosticSeverity.Warning && IsGenerated(d, run) && caseOfGeneratedFile(d.Location.SourceTree!.FilePath) == 0)
            .Select(static d => d.ToString()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(cases, Has.Count.GreaterThan(atLeast), "a pairwise sweep, not a handful of cases");
            Assert.That(missing, Is.Empty, "every value of every dimension is in some case");
            Assert.That(crashes, Is.Empty, "no generator exception");
            Assert.That(shared, Is.Empty, "no diagnostic in a generated file shared by the cases");
        });
    }

    private static int CaseOfUserFile(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        return int.TryParse(name.AsSpan("Source".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
    }

    // ------------------------------------------------------------------------------------------------ the tests

    private ICache _default = null!;

    [SetUp]
    public void FreshCaches()
    {
        Caches.Reset();
        _default = Caches.Get();
        _default.Clear();
        Caches.AddInstance("alt", new SimpleMemoryCache());
    }

    [TearDown]
    public void ResetCaches()
    {
        _default.Clear();
        Caches.Reset();
    }

    [Test]
    public void The_sweep_covers_every_value_of_every_dimension_and_the_generator_does_not_throw()
        => AssertSweep(s_dimensions, s_cases.Select(static c => c.Values).ToArray(), 150, s_all.Value, CaseOfGeneratedFile);

    [TestCaseSource(nameof(AllCases))]
    public void Each_case_builds_clean_or_gets_its_documented_diagnostic_in_the_users_file(int number)
    {
        var c = s_cases[number - 1];
        var run = s_all.Value;
        var path = CasePath(c);
        var source = Source(c);

        var generated = Diagnostics(run)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && IsGenerated(d, run) && CaseOfGeneratedFile(d.Location.SourceTree!.FilePath) == number)
            .Select(static d => d.ToString()).ToArray();
        var cached = run.GeneratorDiagnostics.Where(d => d.Location.SourceTree?.FilePath == path).ToArray();
        var userProblems = Diagnostics(run)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath == path)
            .ToArray();
        var shown = () => source + "\n--- generator: " + string.Join("\n", cached.Select(static d => d.ToString()))
            + "\n--- compiler (user file): " + string.Join("\n", userProblems.Select(static d => d.ToString()))
            + "\n--- compiler (generated): " + string.Join("\n", generated)
            + "\n--- generated:\n" + string.Join("\n", run.Sources.Where(s => CaseOfGeneratedFile(s.Key) == number).Select(static s => s.Value));

        Assert.Multiple(() =>
        {
            Assert.That(generated, Is.Empty, () => "no error or warning inside the generated file\n" + shown());
            Assert.That(cached.Select(static d => d.Id).Order(StringComparer.Ordinal), Is.EqualTo(c.ExpectedDiagnostics),
                () => "the CACHED diagnostics the docs give this shape, in the user's file\n" + shown());
            if (c.ExpectsError)
            {
                // diagnostics.md: "A method with an error gets no generated body (so the compiler also reports the
                // partial method as unimplemented, CS8795)". Nothing else.
                Assert.That(userProblems.Where(static d => d.Id != "CS8795").Select(static d => d.ToString()), Is.Empty,
                    () => "only CS8795 beside the CACHED error\n" + shown());
            }
            else
            {
                Assert.That(userProblems.Select(static d => d.ToString()), Is.Empty, () => "the user's file builds with no error or warning\n" + shown());
            }
        });
    }

    [TestCaseSource(nameof(BuildingCases))]
    public async Task Each_case_that_builds_hits_on_the_second_call_and_keeps_another_key_apart(int number)
    {
        var c = s_cases[number - 1];
        var (assembly, failure) = s_built.Value;
        Assert.That(assembly, Is.Not.Null, () => "the building cases compile together:\n" + failure);
        var type = assembly!.GetType(ProbeTypeName(c), throwOnError: false);
        if (type is null)
        {
            Assert.Fail($"{c.Id} did not build (see its build test):\n{Source(c)}");
            return;
        }

        if (c.Container == Container.Generic)
        {
            type = type.MakeGenericType(typeof(int));
        }

        var probe = type.GetMethod("ProbeCase", BindingFlags.NonPublic | BindingFlags.Static)!;
        string answer;
        try
        {
            answer = await (Task<string>)probe.Invoke(null, null)!;
        }
        catch (TargetInvocationException thrown) when (thrown.InnerException is { } inner)
        {
            throw new AssertionException($"{c.Id} threw {inner}\n{Source(c)}");
        }

        var parts = answer.Split('|');
        var (afterThird, end, skips, a, b, third, d, e) = (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture),
            int.Parse(parts[2], CultureInfo.InvariantCulture), parts[3], parts[4], parts[5], parts[6], parts[7]);
        var expectedAfterThird = c.KeysApart ? 2 : 1;
        var expectedEnd = expectedAfterThird + (c.Invalidator == Invalidator.None ? 0 : 1) + (c.IsGenericMethod ? 1 : 0);
        Assert.Multiple(() =>
        {
            Assert.That(b, Is.EqualTo(a), () => $"the second call answers the first call's value ({answer})\n{Source(c)}");
            Assert.That(afterThird, Is.EqualTo(expectedAfterThird),
                () => (c.KeysApart ? "one body call per key" : "one body call: a fixed key or no key parameter is one entry") + $" ({answer})\n{Source(c)}");
            if (c.KeysApart)
            {
                Assert.That(third, Is.Not.EqualTo(a), () => $"another key value is another entry ({answer})\n{Source(c)}");
            }
            else
            {
                Assert.That(third, Is.EqualTo(a), () => $"one entry for every call ({answer})\n{Source(c)}");
            }

            Assert.That(end, Is.EqualTo(expectedEnd),
                () => $"the first key misses again after the sibling's invalidation, and in another instantiation of a generic method ({answer})\n{Source(c)}");
            if (c.IsGenericMethod)
            {
                Assert.That(e, Is.Not.EqualTo(a), () => $"M<long> does not answer M<int>'s entry ({answer})\n{Source(c)}");
            }
            if (c.Invalidator != Invalidator.None)
            {
                Assert.That(d, Is.Not.EqualTo(a), () => $"after the invalidation the body's new value ({answer})\n{Source(c)}");
            }

            Assert.That(skips, Is.EqualTo(c.SkipWhen ? end : 0), () => $"SkipCacheWhen judges each miss's result ({answer})\n{Source(c)}");
        });
    }

    // ------------------------------------------------------------------------------------------------ minimal repros

    /// <summary>Generates one small user file; answers the errors inside generated files and every error of the build.</summary>
    private static (string[] InGenerated, string[] All, string Generated) Minimal(string source)
    {
        var run = GeneratorRunner.Run(SharedSource, source);
        var errors = run.GeneratorDiagnostics.Concat(Diagnostics(run)).Where(static d => d.Severity == DiagnosticSeverity.Error).ToArray();
        return (errors.Where(d => IsGenerated(d, run)).Select(static d => d.ToString()).ToArray(), errors.Select(static d => d.ToString()).ToArray(),
            string.Join("\n", run.Sources.Values));
    }

    [Test]
    public void Minimal_a_Cached_method_named_with_a_keyword_builds()
    {
        // decorators.md: on a miss the generated method calls "<Name>Core"; C# allows a method named @event, whose
        // body is then eventCore. The sweep's KeywordMethod cases all fail the same way, [MultiCached] ones too.
        var (inGenerated, all, generated) = Minimal("""
            namespace Demo;
            public partial class Calendar
            {
                [Cached]
                public partial int @event(int id);
                private int eventCore(int id) => id;
            }
            """);

        Assert.Multiple(() =>
        {
            Assert.That(inGenerated, Is.Empty, () => "no error inside the generated file:\n" + generated);
            Assert.That(all, Is.Empty, () => "the user's build has no error:\n" + generated);
        });
    }

    [Test]
    public void Minimal_a_Cached_generic_override_builds()
    {
        // decorators.md, generic methods: constraints "are repeated on every generated member"; an override may not
        // repeat them (CS0460: it inherits its base method's), so the user's override declares none, and the
        // generated half must not add them either.
        var (inGenerated, all, generated) = Minimal("""
            namespace Demo;
            public class RepositoryBase
            {
                public virtual int Find<T>(int id) where T : notnull => 0;
            }
            public partial class Repository : RepositoryBase
            {
                [Cached]
                public override partial int Find<T>(int id);
                private int FindCore<T>(int id) where T : notnull => id;
            }
            """);

        Assert.Multiple(() =>
        {
            Assert.That(inGenerated, Is.Empty, () => "no error inside the generated file:\n" + generated);
            Assert.That(all, Is.Empty, () => "the user's build has no error:\n" + generated);
        });
    }

    [Test]
    public void Minimal_a_generic_Cached_method_returning_a_named_tuple_finds_its_Core()
    {
        // decorators.md, generic methods: the Core "is generic with the same number of type parameters". This one is
        // the declaration's exact twin, and CACHED002 asks to change it into itself: the named tuple's element names
        // are lost when the Core's signature is put in the method's type parameters (an unnamed tuple works, and so
        // does a named one on a method that is not generic).
        var (inGenerated, all, generated) = Minimal("""
            namespace Demo;
            public partial class Stats
            {
                [Cached]
                public partial (int Count, string Name) Get<T>(int id);
                private (int Count, string Name) GetCore<T>(int id) => (id, typeof(T).Name);
            }
            """);

        Assert.Multiple(() =>
        {
            Assert.That(inGenerated, Is.Empty, () => "no error inside the generated file:\n" + generated);
            Assert.That(all, Is.Empty, () => "the user's build has no error:\n" + generated);
        });
    }

    [Test]
    public void Minimal_an_invalidating_sibling_of_a_refused_Cached_method_adds_no_error_to_the_generated_file()
    {
        // diagnostics.md: "A method with an error gets no generated body (so the compiler also reports the partial
        // method as unimplemented, CS8795); fix the CACHED error first." Its [InvalidateTags] sibling is still generated
        // and calls the refused method's tag state, which was never written: CS0103 inside the generated file.
        var run = GeneratorRunner.Run(SharedSource, """
            namespace Demo;
            public partial class Users
            {
                [Cached(Tags = new[] { "user:{id}" })]
                public partial string Get(int id);
                private string GetCore(long id) => "x"; // CACHED002: another signature

                [InvalidateTags("user:{id}")]
                public partial void Rename(int id);
                private void RenameCore(int id) { }

                [InvalidateCache(nameof(Get))]
                public partial void Forget(int id);
                private void ForgetCore(int id) { }
            }
            """);
        var inGenerated = Diagnostics(run).Where(d => d.Severity == DiagnosticSeverity.Error && IsGenerated(d, run)).Select(static d => d.ToString()).ToArray();

        Assert.Multiple(() =>
        {
            Assert.That(run.GeneratorDiagnostics.Select(static d => d.Id), Does.Contain("CACHED002"), "the user's error is reported");
            Assert.That(inGenerated, Is.Empty, () => "no error inside the generated file:\n" + string.Join("\n", run.Sources.Values));
        });
    }

    [Test]
    public void Minimal_a_template_key_naming_a_memory_parameter_builds_and_keys_by_its_elements()
    {
        // decorators.md, keys: "only a memory parameter of its own is written by its elements", and "a hole that names a
        // collection writes its elements as the default key does". No CACHED diagnostic refuses the template below, so
        // the method must run: it throws instead, on every call, "A cache key cannot be written from a
        // System.ReadOnlyMemory<Int32>[2] inside another value" (a tag template naming it does the same).
        var scenario = UserScenario.Build("", [SharedSource, """
            namespace Demo;
            public static partial class Sums
            {
                public static int Calls;
                [Cached(Key = "sum:{values}")]
                public static partial int Sum(ReadOnlyMemory<int> values);
                private static int SumCore(ReadOnlyMemory<int> values) { Calls++; return values.Span[0] * 10 + values.Span[1]; }
            }
            public static class Probe
            {
                public static string Run() => Sums.Sum(new[] { 1, 2 }) + "," + Sums.Sum(new[] { 1, 2 }) + "," + Sums.Sum(new[] { 2, 1 }) + "|" + Sums.Calls;
            }
            """]);

        Assert.That(UserScenario.Run(scenario), Is.EqualTo("12,12,21|2"), "one entry per element sequence");
    }

    // ================================================================================================================
    // [MultiCached]: a second sweep, with the same containing types, crossed with the documented key collections,
    // dictionary results and options (decorators.md, [MultiCached]).
    // ================================================================================================================

    private enum MContainer { Class, SealedClass, Record, Struct, RecordStruct, StaticClass, Nested, Generic }
    private enum MKeys { Array, List, IList, ICollection, IReadOnlyList, IReadOnlyCollection, IEnumerable, HashSet, ISet, IReadOnlySet, ParamsArray }
    private enum MKey { Int, Long, String, Guid, Enum, Record, DateOnly, Tuple }
    private enum MValue { String, Int, NullableInt, Record, ListOfInt, Struct }
    private enum MResult { Dictionary, IDictionary, IReadOnlyDictionary }
    private enum MExtra { None, Ignored, Other }
    private enum MOption { Default, KeyBuilder, Namespace, Alias, OwnCache, OwnCacheJson }
    private enum MTags { None, Fixed, PerKey }
    private enum MSkip { No, Value, KeyValue }
    private enum MFailSafe { No, Yes }
    private enum MInvalidator { None, Collection, SingleKey, Tags }
    private enum MNaming { Plain, KeywordParameter, KeywordMethod }

    private static readonly Type[] s_multiDimensions =
    [
        typeof(MContainer), typeof(NamespaceStyle), typeof(Staticness), typeof(Access), typeof(Wrapper), typeof(MResult), typeof(MKeys),
        typeof(MKey), typeof(MValue), typeof(TokenPosition), typeof(MExtra), typeof(MOption), typeof(TtlKind), typeof(MTags), typeof(MSkip),
        typeof(MFailSafe), typeof(MInvalidator), typeof(MNaming),
    ];

    private sealed record MultiCase(int Number, int[] Values)
    {
        private T V<T>(int dimension) where T : Enum => (T)Enum.ToObject(typeof(T), Values[dimension]);
        public MContainer Container => V<MContainer>(0);
        public NamespaceStyle Namespace => V<NamespaceStyle>(1);
        public bool IsStatic => V<Staticness>(2) == Staticness.Static;
        public Access Access => V<Access>(3);
        public Wrapper Wrapper => V<Wrapper>(4);
        public MResult Result => V<MResult>(5);
        public MKeys Keys => V<MKeys>(6);
        public MKey Key => V<MKey>(7);
        public MValue Value => V<MValue>(8);
        public TokenPosition Token => V<TokenPosition>(9);
        public MExtra Extra => V<MExtra>(10);
        public MOption Option => V<MOption>(11);
        public TtlKind Ttl => V<TtlKind>(12);
        public MTags Tags => V<MTags>(13);
        public MSkip Skip => V<MSkip>(14);
        public bool FailSafe => V<MFailSafe>(15) == MFailSafe.Yes;
        public MInvalidator Invalidator => V<MInvalidator>(16);
        public MNaming Naming => V<MNaming>(17);

        public string Id => "Multi" + Number.ToString("000", CultureInfo.InvariantCulture);
        public string Name => Id + "_" + string.Join("_", s_multiDimensions.Select((d, i) => Enum.GetName(d, Values[i])));

        /// <summary>diagnostics.md, CACHED015: "a [MultiCached] method of a generic type" is refused.</summary>
        public bool ExpectsError => Container == MContainer.Generic;

        public string MethodName => Naming == MNaming.KeywordMethod ? "@event" : "Get";
        public string CoreName => Naming == MNaming.KeywordMethod ? "eventCore" : "GetCore";
        public string KeysName => Naming == MNaming.KeywordParameter ? "@params" : "ids";
    }

    private static int[] NormalizeMulti(int[] raw)
    {
        var v = (int[])raw.Clone();
        var container = (MContainer)v[0];
        if (container == MContainer.StaticClass)
        {
            v[2] = (int)Staticness.Static;
        }

        var access = (Access)v[3];
        if (container is MContainer.StaticClass && access is Access.Protected or Access.ProtectedInternal or Access.PrivateProtected)
        {
            v[3] = (int)Access.Public; // CS1057
        }

        if (container is MContainer.Struct or MContainer.RecordStruct or MContainer.SealedClass && access is Access.Protected or Access.ProtectedInternal or Access.PrivateProtected)
        {
            v[3] = (int)Access.Internal; // CS0666, CS0628
        }

        if ((MKeys)v[6] == MKeys.ParamsArray && (TokenPosition)v[9] == TokenPosition.Last)
        {
            v[9] = (int)TokenPosition.First;
        }

        if ((MInvalidator)v[16] == MInvalidator.Tags && (MTags)v[13] == MTags.None)
        {
            v[13] = (int)MTags.PerKey;
        }

        if (container == MContainer.Generic)
        {
            v[16] = (int)MInvalidator.None; // one documented error: the generic type's CACHED015
        }

        return v;
    }

    private static readonly MultiCase[] s_multiCases = Pairwise(s_multiDimensions, NormalizeMulti).Select(static (v, i) => new MultiCase(i + 1, v)).ToArray();

    public static IEnumerable<TestCaseData> AllMultiCases()
        => s_multiCases.Select(static c => new TestCaseData(c.Number).SetName(c.Name));

    public static IEnumerable<TestCaseData> BuildingMultiCases()
        => s_multiCases.Where(static c => !c.ExpectsError).Select(static c => new TestCaseData(c.Number).SetName("Run_" + c.Name));

    private static string KeyType(MKey k) => k switch
    {
        MKey.Int => "int",
        MKey.Long => "long",
        MKey.String => "string",
        MKey.Guid => "Guid",
        MKey.Enum => "Color",
        MKey.Record => "Rec",
        MKey.DateOnly => "DateOnly",
        MKey.Tuple => "(int, string)",
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    /// <summary>Three distinct keys.</summary>
    private static string[] KeyValues(MKey k) => k switch
    {
        MKey.Int => ["1", "2", "3"],
        MKey.Long => ["1L", "2L", "(1L << 40)"],
        MKey.String => ["\"a\"", "\"b,c\"", "\"d\""],
        MKey.Guid => ["Guid.Parse(\"00000000-0000-0000-0000-000000000001\")", "Guid.Parse(\"00000000-0000-0000-0000-000000000002\")", "Guid.Parse(\"00000000-0000-0000-0000-000000000003\")"],
        MKey.Enum => ["Color.Red", "Color.Green", "Color.Blue"],
        MKey.Record => ["new Rec(1, \"a\")", "new Rec(2, \"b\")", "new Rec(1, \"b\")"],
        MKey.DateOnly => ["new DateOnly(2026, 1, 2)", "new DateOnly(2026, 1, 3)", "new DateOnly(2027, 1, 2)"],
        MKey.Tuple => ["(1, \"a\")", "(1, \"b\")", "(2, \"a\")"],
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    private static string KeysType(MultiCase c)
    {
        var k = KeyType(c.Key);
        return c.Keys switch
        {
            MKeys.Array or MKeys.ParamsArray => k + "[]",
            MKeys.List => $"List<{k}>",
            MKeys.IList => $"IList<{k}>",
            MKeys.ICollection => $"ICollection<{k}>",
            MKeys.IReadOnlyList => $"IReadOnlyList<{k}>",
            MKeys.IReadOnlyCollection => $"IReadOnlyCollection<{k}>",
            MKeys.IEnumerable => $"IEnumerable<{k}>",
            MKeys.HashSet => $"HashSet<{k}>",
            MKeys.ISet => $"ISet<{k}>",
            MKeys.IReadOnlySet => $"IReadOnlySet<{k}>",
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
    }

    /// <summary>A collection of the keys parameter's type holding the keys of the given indexes.</summary>
    private static string KeysArgument(MultiCase c, params int[] indexes)
    {
        var k = KeyType(c.Key);
        var items = string.Join(", ", indexes.Select(i => KeyValues(c.Key)[i]));
        return c.Keys switch
        {
            MKeys.ParamsArray => items,
            MKeys.Array or MKeys.IEnumerable => $"new {k}[] {{ {items} }}",
            MKeys.HashSet or MKeys.ISet or MKeys.IReadOnlySet => $"new HashSet<{k}> {{ {items} }}",
            _ => $"new List<{k}> {{ {items} }}",
        };
    }

    private static string MultiValueType(MValue v) => v switch
    {
        MValue.String => "string",
        MValue.Int => "int",
        MValue.NullableInt => "int?",
        MValue.Record => "Rec",
        MValue.ListOfInt => "List<int>",
        MValue.Struct => "Pt",
        _ => throw new ArgumentOutOfRangeException(nameof(v)),
    };

    private static string MultiValue(MValue v) => v switch
    {
        MValue.String => "\"v\" + n",
        MValue.Int => "n",
        MValue.NullableInt => "(int?)n",
        MValue.Record => "new Rec(n, \"r\")",
        MValue.ListOfInt => "new List<int> { n }",
        MValue.Struct => "new Pt(n, -n)",
        _ => throw new ArgumentOutOfRangeException(nameof(v)),
    };

    private static string MultiTypeName(MultiCase c) => c.Container switch
    {
        MContainer.Nested => "Inner",
        MContainer.Generic => c.Id + "_Box",
        _ => c.Id + "_" + c.Container,
    };

    private static string MultiProbeTypeName(MultiCase c)
    {
        var prefix = c.Namespace == NamespaceStyle.Global ? "" : "Sweep.M" + c.Number.ToString("000", CultureInfo.InvariantCulture) + ".";
        return c.Container == MContainer.Nested ? prefix + c.Id + "_Outer+Inner" : prefix + MultiTypeName(c);
    }

    private sealed record MultiParameter(string Declaration, string Core, string Name, string Kind);

    private static List<MultiParameter> MultiParameters(MultiCase c)
    {
        var list = new List<MultiParameter>();
        if (c.Token == TokenPosition.First)
        {
            list.Add(new("CancellationToken ct", "CancellationToken ct", "ct", "token"));
        }

        if (c.Extra == MExtra.Ignored)
        {
            list.Add(new("[CacheKeyIgnore] string trace", "string trace", "trace", "extra"));
        }
        else if (c.Extra == MExtra.Other)
        {
            list.Add(new("string region", "string region", "region", "extra"));
        }

        var keys = KeysType(c);
        list.Add(new((c.Keys == MKeys.ParamsArray ? "params " : "") + keys + " " + c.KeysName, keys + " " + c.KeysName, c.KeysName, "keys"));
        if (c.Token == TokenPosition.Last)
        {
            list.Add(new("CancellationToken ct = default", "CancellationToken ct", "ct", "token"));
        }

        return list;
    }

    /// <summary>The arguments of one call, positional: the keys given, the extra argument and the token of call <paramref name="which"/>.</summary>
    private static string MultiArguments(MultiCase c, int which, string keys)
        => string.Join(", ", MultiParameters(c).Select(p => p.Kind switch
        {
            "token" => which % 2 == 1 ? "new CancellationTokenSource().Token" : "CancellationToken.None",
            "extra" => "\"x" + which + "\"",
            _ => keys,
        }));

    private static string MultiSource(MultiCase c)
    {
        var parameters = MultiParameters(c);
        var declaration = string.Join(", ", parameters.Select(static p => p.Declaration));
        var core = string.Join(", ", parameters.Select(static p => p.Core));
        var k = KeyType(c.Key);
        var v = MultiValueType(c.Value);
        var dictionary = c.Result switch
        {
            MResult.Dictionary => $"Dictionary<{k}, {v}>",
            MResult.IDictionary => $"IDictionary<{k}, {v}>",
            _ => $"IReadOnlyDictionary<{k}, {v}>",
        };
        var returnType = c.Wrapper switch { Wrapper.Sync => dictionary, Wrapper.Task => $"Task<{dictionary}>", _ => $"ValueTask<{dictionary}>" };
        var st = c.IsStatic ? "static " : "";
        var id = c.Id.ToLowerInvariant();
        var keysHole = "{" + c.KeysName + "}";

        var options = new List<string> { $"KeysFrom = nameof({c.KeysName})" };
        switch (c.Option)
        {
            case MOption.KeyBuilder:
                options.Add("KeyBuilder = nameof(KeyOf)");
                break;
            case MOption.Namespace:
                options.Add($"Namespace = \"{id}\"");
                break;
            case MOption.Alias:
                options.Add("Alias = \"alt\"");
                break;
            case MOption.OwnCache:
                options.Add("Cache = typeof(SimpleMemoryCache)");
                break;
            case MOption.OwnCacheJson:
                options.Add("Cache = typeof(SimpleMemoryCache), Serializer = typeof(Cached.Serializers.JsonSerializer)");
                break;
        }

        if (c.Option is not (MOption.KeyBuilder or MOption.Namespace or MOption.OwnCache or MOption.OwnCacheJson))
        {
            // decorators.md: "the method name is not part of these keys: give methods that share key values a Namespace".
            // The cases share key values in the default and "alt" caches, so each gets a namespace of its own there too.
            options.Add($"Namespace = \"{id}\"");
        }

        switch (c.Ttl)
        {
            case TtlKind.Ten:
                options.Add("Ttl = 10");
                break;
            case TtlKind.Fraction:
                options.Add("Ttl = 2.5");
                break;
        }

        switch (c.Tags)
        {
            case MTags.Fixed:
                options.Add($"Tags = new[] {{ \"{id}:all\" }}");
                break;
            case MTags.PerKey:
                options.Add($"Tags = new[] {{ \"{id}:{keysHole}\" }}");
                break;
        }

        if (c.Skip != MSkip.No)
        {
            options.Add("SkipCacheWhen = nameof(SkipWhen)");
        }

        if (c.FailSafe)
        {
            options.Add("FailSafe = 60");
        }

        var coreBody = $"Calls++; var n = Calls; Requests.Add(string.Join(\";\", {c.KeysName}.Select(static x => Show.Text(x)).Order(StringComparer.Ordinal))); var __r = {c.KeysName}.ToDictionary(static x => x, x => ({v}){MultiValue(c.Value)});";
        var core2 = c.Wrapper switch
        {
            Wrapper.Sync => $"{{ {coreBody} return __r; }}",
            Wrapper.Task => $"{{ await Task.Yield(); {coreBody} return __r; }}",
            _ => $"{{ {coreBody} return new ValueTask<{dictionary}>(__r); }}",
        };
        var body = new StringBuilder();
        body.AppendLine("    public static int Calls;");
        body.AppendLine("    public static int SkipCalls = 0;");
        body.AppendLine("    public static readonly List<string> Requests = new();");
        body.AppendLine($"    [MultiCached({string.Join(", ", options)})]");
        body.AppendLine($"    {Accessibility(c.Access)} {st}partial {returnType} {c.MethodName}({declaration});");
        body.AppendLine($"    private {st}{(c.Wrapper == Wrapper.Task ? "async " : "")}{returnType} {c.CoreName}({core}) {core2}");
        if (c.Option == MOption.KeyBuilder)
        {
            body.AppendLine($"    private static string KeyOf({k} key) => \"{id}:\" + Show.Text(key);");
        }

        switch (c.Skip)
        {
            case MSkip.Value:
                body.AppendLine($"    private static bool SkipWhen({v} value) {{ SkipCalls++; return false; }}");
                break;
            case MSkip.KeyValue:
                body.AppendLine($"    private static bool SkipWhen({k} key, {v} value) {{ SkipCalls++; return false; }}");
                break;
        }

        var forgetReturn = c.Wrapper switch { Wrapper.Sync => "void", Wrapper.Task => "Task", _ => "ValueTask" };
        var forgetBody = c.Wrapper switch { Wrapper.Sync => "{ }", Wrapper.Task => "=> Task.CompletedTask;", _ => "=> default;" };
        var forgetParameters = c.Invalidator == MInvalidator.SingleKey
            ? string.Join(", ", parameters.Select(p => p.Kind == "keys" ? $"{k} {c.KeysName}" : p.Declaration))
            : declaration;
        var forgetCore = c.Invalidator == MInvalidator.SingleKey
            ? string.Join(", ", parameters.Select(p => p.Kind == "keys" ? $"{k} {c.KeysName}" : p.Core))
            : core;
        switch (c.Invalidator)
        {
            case MInvalidator.Collection or MInvalidator.SingleKey:
                body.AppendLine($"    [InvalidateCache(nameof({c.MethodName}))]");
                break;
            case MInvalidator.Tags:
                body.AppendLine(c.Tags == MTags.Fixed ? $"    [InvalidateTags(\"{id}:all\")]" : $"    [InvalidateTags(\"{id}:{keysHole}\")]");
                break;
        }

        if (c.Invalidator != MInvalidator.None)
        {
            body.AppendLine($"    public {st}partial {forgetReturn} Forget({forgetParameters});");
            body.AppendLine($"    private {st}{forgetReturn} ForgetCore({forgetCore}) {forgetBody}");
        }

        if (!c.ExpectsError)
        {
            var aw = c.Wrapper == Wrapper.Sync ? "" : "await ";
            var target = c.IsStatic ? "" : "o.";
            var m = c.MethodName;
            var typeName = MultiTypeName(c);
            body.AppendLine("    internal static async Task<string> ProbeCase()");
            body.AppendLine("    {");
            body.AppendLine("        await Task.CompletedTask;");
            if (!c.IsStatic)
            {
                body.AppendLine($"        var o = new {typeName}();");
            }

            body.AppendLine($"        var r1 = {aw}{target}{m}({MultiArguments(c, 0, KeysArgument(c, 0, 1))});");
            body.AppendLine($"        var r2 = {aw}{target}{m}({MultiArguments(c, 1, KeysArgument(c, 1, 2))});");
            body.AppendLine($"        var r3 = {aw}{target}{m}({MultiArguments(c, 2, KeysArgument(c, 0, 1, 2))});");
            body.AppendLine("        var callsBefore = Calls;");
            if (c.Invalidator != MInvalidator.None)
            {
                var forgetKeys = c.Invalidator == MInvalidator.SingleKey ? KeyValues(c.Key)[0] : KeysArgument(c, 0);
                body.AppendLine($"        {aw}{target}Forget({MultiArguments(c, 3, forgetKeys)});");
                body.AppendLine($"        var r4 = {aw}{target}{m}({MultiArguments(c, 4, KeysArgument(c, 0, 1))});");
            }
            else
            {
                body.AppendLine("        var r4 = \"-\";");
            }

            body.AppendLine("        return callsBefore + \"|\" + Calls + \"|\" + SkipCalls + \"|\" + string.Join(\"~\", Requests) + \"|\" + Show.Text(r1) + \"|\" + Show.Text(r2) + \"|\" + Show.Text(r3) + \"|\" + Show.Text(r4);");
            body.AppendLine("    }");
        }

        var typeKeyword = c.Container switch
        {
            MContainer.Class or MContainer.Nested or MContainer.Generic => "partial class",
            MContainer.SealedClass => "sealed partial class",
            MContainer.Record => "partial record",
            MContainer.Struct => "partial struct",
            MContainer.RecordStruct => "partial record struct",
            MContainer.StaticClass => "static partial class",
            _ => throw new ArgumentOutOfRangeException(nameof(c)),
        };
        var declaredName = c.Container == MContainer.Generic ? MultiTypeName(c) + "<T>" : MultiTypeName(c);
        var type = c.Container == MContainer.Nested
            ? $"public partial class {c.Id}_Outer\n{{\n    private {typeKeyword} Inner\n{{\n{body}}}\n}}\n"
            : $"public {typeKeyword} {declaredName}\n{{\n{body}}}\n";
        var ns = "Sweep.M" + c.Number.ToString("000", CultureInfo.InvariantCulture);
        var text = $"// {c.Name}\n";
        return c.Namespace switch
        {
            NamespaceStyle.FileScoped => text + $"namespace {ns};\n" + type,
            NamespaceStyle.Block => text + $"namespace {ns}\n{{\n" + type + "}\n",
            _ => text + type,
        };
    }

    private static GeneratorRunResult GenerateMulti(IEnumerable<MultiCase> cases)
        => GenerateSweep(s_multiCases.Length, cases.ToHashSet(), number => MultiSource(s_multiCases[number - 1]), allowUnsafe: false);

    private static readonly Lazy<GeneratorRunResult> s_multiAll = new(() => GenerateMulti(s_multiCases));

    private static int MultiCaseOfGeneratedFile(string path)
    {
        var match = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(path), @"Multi(\d{3})_");
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static readonly Lazy<(Assembly? Assembly, string Failure)> s_multiBuilt = new(() =>
    {
        var broken = BrokenCases(s_multiAll.Value, MultiCaseOfGeneratedFile);
        return Built(GenerateMulti(s_multiCases.Where(c => !c.ExpectsError && !broken.Contains(c.Number))));
    });

    [Test]
    public void The_MultiCached_sweep_covers_every_value_of_every_dimension_and_the_generator_does_not_throw()
        => AssertSweep(s_multiDimensions, s_multiCases.Select(static c => c.Values).ToArray(), 80, s_multiAll.Value, MultiCaseOfGeneratedFile);

    [TestCaseSource(nameof(AllMultiCases))]
    public void Each_MultiCached_case_builds_clean_or_gets_its_documented_diagnostic_in_the_users_file(int number)
    {
        var c = s_multiCases[number - 1];
        var run = s_multiAll.Value;
        var path = "Source" + number.ToString(CultureInfo.InvariantCulture) + ".cs";
        var source = MultiSource(c);
        var generated = Diagnostics(run)
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && IsGenerated(d, run) && MultiCaseOfGeneratedFile(d.Location.SourceTree!.FilePath) == number)
            .Select(static d => d.ToString()).ToArray();
        var cached = run.GeneratorDiagnostics.Where(d => d.Location.SourceTree?.FilePath == path).ToArray();
        var userProblems = Diagnostics(run).Where(d => d.Severity >= DiagnosticSeverity.Warning && d.Location.SourceTree?.FilePath == path).ToArray();
        var shown = () => source + "\n--- generator: " + string.Join("\n", cached.Select(static d => d.ToString()))
            + "\n--- compiler (user file): " + string.Join("\n", userProblems.Select(static d => d.ToString()))
            + "\n--- compiler (generated): " + string.Join("\n", generated)
            + "\n--- generated:\n" + string.Join("\n", run.Sources.Where(s => MultiCaseOfGeneratedFile(s.Key) == number).Select(static s => s.Value));

        Assert.Multiple(() =>
        {
            Assert.That(generated, Is.Empty, () => "no error or warning inside the generated file\n" + shown());
            // An extra parameter that is not [CacheKeyIgnore] is not part of the keys: CACHED042 says so.
            var expected = (c.ExpectsError ? new[] { "CACHED015" } : []).Concat(c.Extra == MExtra.Other && !c.ExpectsError ? ["CACHED042"] : Array.Empty<string>());
            Assert.That(cached.Select(static d => d.Id).Order(StringComparer.Ordinal), Is.EqualTo(expected.Order(StringComparer.Ordinal)),
                () => "the CACHED diagnostics the docs give this shape, in the user's file\n" + shown());
            Assert.That(userProblems.Where(d => !c.ExpectsError || d.Id != "CS8795").Select(static d => d.ToString()), Is.Empty,
                () => "the user's file builds (beside a CACHED error, only CS8795)\n" + shown());
        });
    }

    [TestCaseSource(nameof(BuildingMultiCases))]
    public async Task Each_MultiCached_case_that_builds_asks_its_body_only_for_missing_keys_and_drops_the_invalidated_one(int number)
    {
        var c = s_multiCases[number - 1];
        var (assembly, failure) = s_multiBuilt.Value;
        Assert.That(assembly, Is.Not.Null, () => "the building cases compile together:\n" + failure);
        var type = assembly!.GetType(MultiProbeTypeName(c), throwOnError: false);
        if (type is null)
        {
            Assert.Fail($"{c.Id} did not build (see its build test):\n{MultiSource(c)}");
            return;
        }

        string answer;
        try
        {
            answer = await (Task<string>)type.GetMethod("ProbeCase", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, null)!;
        }
        catch (TargetInvocationException thrown) when (thrown.InnerException is { } inner)
        {
            throw new AssertionException($"{c.Id} threw {inner}\n{MultiSource(c)}");
        }

        var parts = answer.Split('|');
        var keys = KeyTexts(c);
        var requests = parts[3].Split('~');
        // The first batch asks for k1 and k2, the second only for k3, the third for nothing; after the invalidation the
        // batch of k1 and k2 asks for k1 again (both, when a fixed tag dropped every entry).
        var expectedRequests = new List<string> { Join(keys[0], keys[1]), keys[2] };
        if (c.Invalidator != MInvalidator.None)
        {
            expectedRequests.Add(c.Invalidator == MInvalidator.Tags && c.Tags == MTags.Fixed ? Join(keys[0], keys[1]) : keys[0]);
        }

        var computed = expectedRequests.Sum(static r => r.Split(';').Length);
        Assert.Multiple(() =>
        {
            Assert.That(int.Parse(parts[0], CultureInfo.InvariantCulture), Is.EqualTo(2), () => $"two body calls for three overlapping batches ({answer})\n{MultiSource(c)}");
            Assert.That(int.Parse(parts[1], CultureInfo.InvariantCulture), Is.EqualTo(expectedRequests.Count), () => $"one more body call after the invalidation ({answer})\n{MultiSource(c)}");
            Assert.That(requests, Is.EqualTo(expectedRequests), () => $"the body is asked only for the missing keys ({answer})\n{MultiSource(c)}");
            Assert.That(parts[6], Is.EqualTo(Merge(parts[4], parts[5])), () => $"the third batch answers the first two batches' values ({answer})\n{MultiSource(c)}");
            Assert.That(int.Parse(parts[2], CultureInfo.InvariantCulture), Is.EqualTo(c.Skip == MSkip.No ? 0 : computed),
                () => $"SkipCacheWhen judges each computed entry ({answer})\n{MultiSource(c)}");
        });

        static string Join(string a, string b) => string.Join(";", new[] { a, b }.Order(StringComparer.Ordinal));
    }

    /// <summary>The keys as Show.Text writes them, from a value of each (the probe's log is of these texts).</summary>
    private static string[] KeyTexts(MultiCase c) => c.Key switch
    {
        MKey.Int => ["1", "2", "3"],
        MKey.Long => ["1", "2", (1L << 40).ToString(CultureInfo.InvariantCulture)],
        MKey.String => ["\"a\"", "\"b,c\"", "\"d\""],
        MKey.Guid => ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003"],
        MKey.Enum => ["Red", "Green", "Blue"],
        MKey.Record => ["Rec { Id = 1, Name = a }", "Rec { Id = 2, Name = b }", "Rec { Id = 1, Name = b }"],
        MKey.DateOnly => [new DateOnly(2026, 1, 2).ToString(CultureInfo.InvariantCulture), new DateOnly(2026, 1, 3).ToString(CultureInfo.InvariantCulture), new DateOnly(2027, 1, 2).ToString(CultureInfo.InvariantCulture)],
        MKey.Tuple => ["(1, a)", "(1, b)", "(2, a)"],
        _ => throw new ArgumentOutOfRangeException(nameof(c)),
    };

    /// <summary>The union of two dictionaries as Show.Text writes them (<c>{k:v,k:v}</c>), keys in order.</summary>
    private static string Merge(string first, string second)
    {
        static IEnumerable<string> Entries(string text) => text.Length <= 2 ? [] : SplitTopLevel(text[1..^1]);
        var all = Entries(first).Concat(Entries(second)).Distinct().Order(StringComparer.Ordinal);
        return "{" + string.Join(",", all) + "}";
    }

    private static IEnumerable<string> SplitTopLevel(string text)
    {
        var depth = 0;
        var start = 0;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '"':
                    quoted = !quoted;
                    break;
                case '{' or '[' or '(' when !quoted:
                    depth++;
                    break;
                case '}' or ']' or ')' when !quoted:
                    depth--;
                    break;
                case ',' when depth == 0 && !quoted:
                    yield return text[start..i];
                    start = i + 1;
                    break;
            }
        }

        yield return text[start..];
    }
}
