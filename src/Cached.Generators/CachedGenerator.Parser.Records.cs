using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>Records in a default key: the members their compiler-written text prints, written as a tuple's elements (see <see cref="KeyShape"/>).</summary>
internal sealed partial class Parser
{
    /// <summary>
    /// The members a record's compiler-written text prints (public instance fields and public properties with a
    /// getter, base record's first), when generated code can read each of them as that text does; <c>null</c> keeps the
    /// record's own text: for any other type, a record that prints nothing or writes its own text, and a record whose
    /// members generated code cannot write exactly (see <see cref="CanWrite"/>). <c>ExactType</c> names a record that
    /// is not sealed: an argument of a derived record prints members the declared one does not know, so only an
    /// argument of exactly that type is written member by member, and any other by its own text (a tuple's text never
    /// reads like a quoted one).
    /// </summary>
    private (string[] Members, ITypeSymbol[] Types, string? ExactType)? PrintedRecord(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            type = nullable.TypeArguments[0];
        }

        if (type is not INamedTypeSymbol { IsRecord: true } record)
        {
            return null;
        }

        var chain = new List<INamedTypeSymbol>();
        for (var current = record; current is { IsRecord: true }; current = current.BaseType)
        {
            if (current.GetMembers().OfType<IMethodSymbol>().Any(static m => m.Name is "ToString" or "PrintMembers" && !IsCompilerWritten(m)))
            {
                return null;
            }

            chain.Insert(0, current);
        }

        var members = new List<string>();
        var types = new List<ITypeSymbol>();
        foreach (var level in chain)
        {
            foreach (var member in level.GetMembers())
            {
                var (printed, memberType) = member switch
                {
                    IFieldSymbol field => (!field.IsImplicitlyDeclared && !field.IsConst, field.Type),
                    IPropertySymbol property => (!property.IsIndexer && property.GetMethod is not null && property.Name != "EqualityContract", property.Type),
                    _ => (false, null),
                };
                if (!printed || member.IsStatic || member.DeclaredAccessibility != Accessibility.Public)
                {
                    continue;
                }

                // A name printed twice (a member hidden with 'new') would read the same member twice.
                if (members.Contains(member.Name) || !CanWrite(member, memberType!))
                {
                    return null;
                }

                members.Add(member.Name);
                types.Add(memberType!);
            }
        }

        if (members.Count == 0)
        {
            return null;
        }

        var exact = record.IsSealed || record.IsValueType
            ? null
            : record.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        return (members.Select(static name => Identifier(name)).ToArray(), types.ToArray(), exact);
    }

    /// <summary>
    /// Whether generated code reads a printed member as the record's text does and the key writer writes it: a getter
    /// as public as the property (the text reads a private one), no obsolete or experimental mark on the member or its
    /// getter (a warning, or an error, in the user's build), and a type a tuple can hold and a key can write (not a ref struct, a pointer or a
    /// memory inside another value, which a key refuses).
    /// </summary>
    private bool CanWrite(ISymbol member, ITypeSymbol type)
        => (member is not IPropertySymbol property || property.GetMethod!.DeclaredAccessibility == Accessibility.Public)
            && !IsMarkedForLater(member) && !(member is IPropertySymbol { GetMethod: { } getter } && IsMarkedForLater(getter))
            && !type.IsRefLikeType && type is not (IPointerTypeSymbol or IFunctionPointerTypeSymbol)
            && !IsMemoryOfElements(type) && NestedMemoryOfElements(type, nested: true) is null;

    /// <summary>
    /// Whether <paramref name="symbol"/> is marked obsolete or experimental: naming it in generated code would warn, or
    /// fail the user's build (an error-level obsolete mark, an experimental one), where the user's own pragmas do not reach.
    /// </summary>
    private static bool IsMarkedForLater(ISymbol symbol)
        => symbol.GetAttributes().Any(static a => IsAttribute(a, "ObsoleteAttribute", "System") || IsAttribute(a, "ExperimentalAttribute", "System.Diagnostics.CodeAnalysis"));

    /// <summary>
    /// Whether a record's ToString or PrintMembers is the compiler's: implicitly declared in source, marked
    /// [CompilerGenerated] in a referenced assembly (whose symbols are never implicitly declared).
    /// </summary>
    private static bool IsCompilerWritten(IMethodSymbol method)
        => method.IsImplicitlyDeclared || method.GetAttributes().Any(static a => IsAttribute(a, "CompilerGeneratedAttribute", "System.Runtime.CompilerServices"));

    /// <summary>
    /// Whether <paramref name="attribute"/> is .NET's <paramref name="name"/> of <paramref name="namespace"/>, not a
    /// user's attribute of the same name (a user's [Experimental] on a record member once changed its keys).
    /// </summary>
    private static bool IsAttribute(AttributeData attribute, string name, string @namespace)
        => attribute.AttributeClass is { } type && type.Name == name && type.ContainingNamespace?.ToDisplayString() == @namespace;
}
