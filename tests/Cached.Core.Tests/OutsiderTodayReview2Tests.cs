using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Cached.Runtime;

namespace Cached.Tests.Outsider.Today2
{
    /// <summary>Two enums that name a member alike.</summary>
    public enum Review2Status
    {
        Active,
        Gone,
    }

    /// <summary>The other one.</summary>
    public enum Review2Role
    {
        Active,
        Admin,
    }

    /// <summary>A generic type with an enum inside: the enum is generic too (Review2Outer&lt;int&gt;.Kind).</summary>
    public static class Review2Outer<T>
    {
        /// <summary>The nested enum.</summary>
        public enum Kind
        {
            A,
        }
    }

    /// <summary>An application's formattable struct whose text may hold a comma (an amount "1,5", a range "1,2").</summary>
    public readonly struct Review2Text(string text) : ISpanFormattable
    {
        public string ToString(string? format, IFormatProvider? formatProvider) => text;

        public override string ToString() => text;

        public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
        {
            if (text.AsSpan().TryCopyTo(destination))
            {
                charsWritten = text.Length;
                return true;
            }

            charsWritten = 0;
            return false;
        }
    }

    /// <summary>
    /// An outsider's second review of 069a242..09317ed (keys held as object, template holes naming collections, tag
    /// templates). Each test states the sentence of the docs or of the commit it checks.
    /// </summary>
    [TestFixture]
    [NonParallelizable]
    public sealed class OutsiderTodayReview2Tests
    {
        private static string Key<T>(T value)
        {
            var writer = new CacheKeyWriter(stackalloc char[64], "M");
            return writer.Argument(value).Finish();
        }

        // ============================================================ 1. values held as object: quoted ones vs strings

        /// <summary>
        /// decorators.md: "a value held there whose text another type shares" carries a type mark. The commit quotes a
        /// Uri like a string, so a Uri held as object now writes exactly what the string of its text writes: before,
        /// the Uri was bare (http://x/a) and the string quoted, two entries; now one.
        /// </summary>
        [Test]
        public void A_Uri_held_as_object_keeps_apart_from_the_string_of_its_text()
        {
            object uri = new Uri("http://x/a");
            object text = "http://x/a";

            Assert.That(Key(uri), Is.Not.EqualTo(Key(text)), $"both wrote {Key(uri)}");
        }

        /// <summary>The same for a Rune (ISpanFormattable, not in the bare list): "a" the rune and "a" the string.</summary>
        [Test]
        public void A_Rune_held_as_object_keeps_apart_from_a_string()
        {
            object rune = new Rune('a');
            object text = "a";

            Assert.That(Key(rune), Is.Not.EqualTo(Key(text)), $"both wrote {Key(rune)}");
        }

        /// <summary>The same inside a sequence of object: [Uri] and [string] were two keys before the commit.</summary>
        [Test]
        public void A_Uri_in_a_sequence_of_object_keeps_apart_from_a_string()
        {
            var w1 = new CacheKeyWriter(stackalloc char[64], "M");
            var withUri = w1.Sequence(new object[] { new Uri("http://x/a") }).Finish();
            var w2 = new CacheKeyWriter(stackalloc char[64], "M");
            var withText = w2.Sequence(new object[] { "http://x/a" }).Finish();

            Assert.That(withUri, Is.Not.EqualTo(withText), $"both wrote {withUri}");
        }

        /// <summary>Other formattable types the commit now quotes: Version, IPAddress, Complex (bare before, apart from strings).</summary>
        [Test]
        public void Other_quoted_formattables_held_as_object_keep_apart_from_strings()
        {
            Assert.Multiple(() =>
            {
                Assert.That(Key<object>(new Version(1, 2)), Is.Not.EqualTo(Key<object>("1.2")), "Version");
                Assert.That(Key<object>(System.Net.IPAddress.Loopback), Is.Not.EqualTo(Key<object>("127.0.0.1")), "IPAddress");
                Assert.That(Key<object>(new System.Numerics.Complex(1, 2)), Is.Not.EqualTo(Key<object>("<1; 2>")), "Complex");
            });
        }

        /// <summary>
        /// The enum mark is the type's FullName: for an enum nested in a generic type that name is assembly-qualified
        /// (Version=, Culture=, PublicKeyToken=), so the key changes with the runtime's (or the application's) assembly
        /// version, and two processes on different versions never share the entry.
        /// </summary>
        [Test]
        public void The_mark_of_an_enum_in_a_generic_type_names_no_assembly_version()
        {
            object kind = Review2Outer<int>.Kind.A;
            var key = Key(kind);

            Assert.That(key, Does.Not.Contain("Version=").And.Not.Contain("PublicKeyToken"), key);
        }

        /// <summary>Sanity (passes): declared enums and nullable enums, and [MultiCached] keys of an enum type, are unmarked as before.</summary>
        [Test]
        public void Sanity_declared_enums_keep_their_keys()
        {
            var w1 = new CacheKeyWriter(stackalloc char[64], "M");
            var declared = w1.Enum(Review2Status.Active).Finish();
            var w2 = new CacheKeyWriter(stackalloc char[64], "M");
            var nullable = w2.NullableEnum<Review2Status>(Review2Status.Gone).Finish();
            var w3 = new CacheKeyWriter(stackalloc char[64], "M");
            var list = w3.Sequence(new List<Review2Status?> { Review2Status.Active, null }).Finish();
            Assert.Multiple(() =>
            {
                Assert.That(declared, Is.EqualTo("M(Active)"));
                Assert.That(nullable, Is.EqualTo("M(Gone)"));
                Assert.That(list, Is.EqualTo("M([Active,null])"));
                Assert.That(CacheKeyWriter.Format(Review2Status.Active), Is.EqualTo("Active"));
                Assert.That(CacheKeyWriter.Format<Review2Status?>(Review2Status.Active), Is.EqualTo("Active"));
                Assert.That(Key<object>(Review2Status.Active), Is.Not.EqualTo(Key<object>(Review2Role.Active)));
            });
        }

        /// <summary>
        /// decorators.md (this commit): other values are "their ToString() ... quoted, a Uri and any other formattable
        /// type but the numbers, dates, times, Guid and enums included". A parameter declared as a formattable struct of
        /// the application's is written by <c>Formattable&lt;T&gt;</c> (the generator picks it for every ISpanFormattable
        /// value type without an overload of its own, CachedGenerator.Parser.Keys.cs KeyKindOf), which writes it bare:
        /// M(a: "1,2", b: "3") and M(a: "1", b: "2,3") are one key.
        /// </summary>
        [Test]
        public void A_declared_formattable_struct_is_quoted_as_the_docs_say()
        {
            var w1 = new CacheKeyWriter(stackalloc char[64], "M");
            var first = w1.Formattable(new Review2Text("1,2")).Formattable(new Review2Text("3")).Finish();
            var w2 = new CacheKeyWriter(stackalloc char[64], "M");
            var second = w2.Formattable(new Review2Text("1")).Formattable(new Review2Text("2,3")).Finish();
            var w3 = new CacheKeyWriter(stackalloc char[64], "M");
            var nullable = w3.NullableFormattable<Review2Text>(new Review2Text("1,2")).NullableFormattable<Review2Text>(new Review2Text("3")).Finish();

            Assert.Multiple(() =>
            {
                Assert.That(first, Is.Not.EqualTo(second), $"both wrote {first}");
                Assert.That(nullable, Is.Not.EqualTo("M(1,2,3)"), "a nullable one");
            });
        }

        /// <summary>Sanity (passes): the types the commit now quotes are ISpanFormattable, so before it they took the bare branch.</summary>
        [Test]
        public void Sanity_the_newly_quoted_types_are_span_formattable()
        {
            Assert.Multiple(() =>
            {
                Assert.That(new Uri("http://x/a"), Is.InstanceOf<ISpanFormattable>());
                Assert.That(new Rune('a'), Is.InstanceOf<ISpanFormattable>());
                Assert.That(new Version(1, 2), Is.InstanceOf<ISpanFormattable>());
                Assert.That(System.Net.IPAddress.Loopback, Is.InstanceOf<ISpanFormattable>());
                Assert.That(new System.Numerics.Complex(1, 2), Is.InstanceOf<ISpanFormattable>());
            });
        }

        // ============================================================ 2. values held as object inside an object

        /// <summary>
        /// decorators.md: "a number other than an int in a parameter declared object, or in a sequence of object,
        /// carries its type ... so does a value held there whose text another type shares: an enum (Ns.Status)Active".
        /// A sequence of object held in a parameter declared object is written without the marks.
        /// </summary>
        [Test]
        public void Enums_in_a_sequence_of_object_held_as_object_keep_apart()
        {
            object status = new object[] { Review2Status.Active };
            object role = new object[] { Review2Role.Active };

            Assert.That(Key(status), Is.Not.EqualTo(Key(role)), $"both wrote {Key(status)}");
        }

        /// <summary>The same for a List&lt;object&gt; declared as such, inside a declared sequence (rows of objects).</summary>
        [Test]
        public void Enums_in_nested_sequences_of_object_keep_apart()
        {
            var w1 = new CacheKeyWriter(stackalloc char[64], "M");
            var status = w1.Sequence(new List<List<object>> { new() { Review2Status.Active } }).Finish();
            var w2 = new CacheKeyWriter(stackalloc char[64], "M");
            var role = w2.Sequence(new List<List<object>> { new() { Review2Role.Active } }).Finish();

            Assert.That(status, Is.Not.EqualTo(role), $"both wrote {status}");
        }

        /// <summary>A dictionary held as object goes through IDictionary, which writes its values unmarked.</summary>
        [Test]
        public void Enums_in_a_dictionary_held_as_object_keep_apart()
        {
            object status = new Dictionary<string, object> { ["k"] = Review2Status.Active };
            object role = new Dictionary<string, object> { ["k"] = Review2Role.Active };

            Assert.That(Key(status), Is.Not.EqualTo(Key(role)), $"both wrote {Key(status)}");
        }

        /// <summary>A tuple element declared object (a [MultiCached] key (object, int) goes through Format): unmarked.</summary>
        [Test]
        public void Enums_in_a_tuple_element_declared_object_keep_apart()
        {
            (object, int) status = (Review2Status.Active, 1);
            (object, int) role = (Review2Role.Active, 1);

            Assert.Multiple(() =>
            {
                Assert.That(Key(status), Is.Not.EqualTo(Key(role)), $"default key: both wrote {Key(status)}");
                Assert.That(CacheKeyWriter.Format(status), Is.Not.EqualTo(CacheKeyWriter.Format(role)), $"[MultiCached] key: both wrote {CacheKeyWriter.Format(status)}");
            });
        }

        // ============================================================ 3. a template hole that names a collection

        /// <summary>
        /// decorators.md (this commit): "a hole that names a collection writes its elements as the default key does
        /// (sum:{ids} is sum:[1,2])". The default key writes a List&lt;object&gt; holding 1L as [1L]; the template as [1],
        /// the text of a list holding the int 1, so Sum([1L]) and Sum([1]) share one entry.
        /// </summary>
        [Test]
        public void A_template_hole_naming_a_list_of_objects_writes_it_as_the_default_key_does()
        {
            var longs = new List<object> { 1L };
            var ints = new List<object> { 1 };
            var w = new CacheKeyWriter(stackalloc char[64], "sum");
            var defaultKey = w.Sequence(longs).Finish();

            var templateLongs = CacheKeyTemplate.Write(stackalloc char[64], $"sum:{longs}").Finish();
            var templateInts = CacheKeyTemplate.Write(stackalloc char[64], $"sum:{ints}").Finish();

            Assert.Multiple(() =>
            {
                Assert.That(templateLongs, Is.EqualTo("sum:" + defaultKey["sum(".Length..^1]), "as the default key writes it");
                Assert.That(templateLongs, Is.Not.EqualTo(templateInts), "Sum([1L]) and Sum([1]) share one entry");
            });
        }

        /// <summary>The same for enums in a template's collection: Status.Active and Role.Active share one key.</summary>
        [Test]
        public void A_template_hole_naming_a_list_of_objects_keeps_enums_of_two_types_apart()
        {
            var status = new List<object> { Review2Status.Active };
            var role = new List<object> { Review2Role.Active };

            var a = CacheKeyTemplate.Write(stackalloc char[64], $"k:{status}").Finish();
            var b = CacheKeyTemplate.Write(stackalloc char[64], $"k:{role}").Finish();

            Assert.That(a, Is.Not.EqualTo(b), $"both wrote {a}");
        }

        // ============================================================ 4. tag templates

        /// <summary>
        /// tags.md: "A template that formats to an empty string adds no tag rather than failing the call"; a key template
        /// writes a default ImmutableArray as null (decorators.md: "a default ImmutableArray&lt;T&gt; is null"). The tag
        /// template enumerates it and throws.
        /// </summary>
        [Test]
        public void A_tag_hole_naming_a_default_ImmutableArray_does_not_fail()
        {
            var ids = default(ImmutableArray<int>);
            Assert.That(CacheKeyTemplate.Write(stackalloc char[64], $"user:{ids}").Finish(), Is.EqualTo("user:null"), "the key template");

            Assert.That(() => CacheTagTemplate.Expand($"user:{ids}"), Throws.Nothing, "the tag template");
        }

        // ============================================================ 5. flights: the body's note once it has returned

        /// <summary>
        /// Commit 428e3c7: "an async body's note in its flow lets go of the flight once the body returns, so work the body
        /// left behind (a registration, a task) no longer keeps the landed flight ... alive". A body that throws
        /// synchronously (a non-async lambda that validates and throws) has returned too, but on the fail-safe path
        /// (CachedMethod.ResilienceAsync) StartBody throws before the try whose finally ends the note, so the task it
        /// left behind keeps the failed flight alive. The plain in-process path (MissAsync) ends it (the control).
        /// </summary>
        [Test]
        public async Task A_body_that_throws_synchronously_lets_go_of_its_flight_too([Values] bool resilient, [Values] bool synchronously)
        {
            using var cache = new SimpleMemoryCache();
            var method = new CachedMethod<object>(new CachedMethodOptions { Method = "Tests.Review2.Throws", CacheFactory = () => cache, Ttl = 60, FailSafe = resilient ? 600 : 0 });
            using var appLifetime = new CancellationTokenSource();
            var flight = await Call(method, appLifetime.Token, synchronously);

            await Task.Delay(50);
            await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => Thread.SpinWait(100))));
            await Task.Delay(50);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var kept = flight.IsAlive;
            appLifetime.Cancel();

            Assert.That(kept, Is.False, "the failed flight is still reachable from the task its body left behind");
            GC.KeepAlive(method);

            [MethodImpl(MethodImplOptions.NoInlining)]
            static async Task<WeakReference> Call(CachedMethod<object> method, CancellationToken appLifetime, bool synchronously)
            {
                WeakReference? weakFlight = null;
                var board = (FlightBoard)typeof(CachedMethod<object>).GetField("_flights", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(method)!;
                Exception? failure = null;
                try
                {
                    // The control (synchronously: false) throws after an await: its note ends in the finally.
                    await method.InvokeAsync("k", (appLifetime, synchronously), (s, ct) =>
                    {
                        weakFlight = new WeakReference(board.Find("k"));
                        var token = s.appLifetime;
                        _ = Task.Run(async () => await Task.Delay(Timeout.Infinite, token));
                        return s.synchronously ? throw new InvalidOperationException("refused") : Later();
                    }, static (_, _) => true, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
                }
                catch (InvalidOperationException ex)
                {
                    failure = ex;
                }

                Assert.That(failure?.Message, Is.EqualTo("refused"));

                static async ValueTask<object> Later()
                {
                    await Task.Yield();
                    throw new InvalidOperationException("refused");
                }
                Assert.That(weakFlight!.Target, Is.Not.Null, "the body found its flight on the board");
                return weakFlight!;
            }
        }

        /// <summary>Sanity (passes): a string parameter is one tag, a null collection is written as a key template writes null.</summary>
        [Test]
        public void Sanity_a_string_and_a_list_of_lists_in_a_tag()
        {
            string name = "ab";
            List<int[]> groups = [[1, 2], [3]];
            Assert.Multiple(() =>
            {
                Assert.That(CacheTagTemplate.Expand($"n:{name}"), Is.EqualTo(new[] { "n:ab" }));
                Assert.That(CacheTagTemplate.Expand($"g:{groups}"), Is.EqualTo(new[] { "g:[1,2]", "g:[3]" }));
                Assert.That(CacheTagTemplate.Expand($"u:{new[] { 1, 1 }}"), Is.EqualTo(new[] { "u:1", "u:1" }));
            });
        }
    }
}
