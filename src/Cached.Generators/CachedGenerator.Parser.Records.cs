using System.Collections.Generic;
using System.Linq;
using Cached.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Cached.Generators;

/// <summary>Records in a default key: the members their compiler-written text prints, written as a tuple's elements.</summary>
internal sealed partial class Parser
{
    /// <summary><see cref="PrintedRecord"/> as a spec, for the key type of a [MultiCached] method without a KeyBuilder.</summary>
    private static RecordTextSpec? RecordText(ITypeSymbol type)
        => PrintedRecord(type) is { } printed ? new RecordTextSpec(new EquatableArray<string>(printed.Members), printed.ExactType) : null;

    /// <summary>
    /// The members a record's compiler-written text prints (public instance fields and readable properties, base
    /// record's first), when its ToString and PrintMembers are the compiler's; <c>null</c> for any other type, or a
    /// record that prints nothing or writes its own text. <c>ExactType</c> names a record that is not sealed: an
    /// argument of a derived record prints members the declared one does not know, so only an argument of exactly that
    /// type is written member by member, and any other by its own text (a tuple's text never reads like a quoted one).
    /// </summary>
    private static (string[] Members, string? ExactType)? PrintedRecord(ITypeSymbol type)
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
            if (current.GetMembers().OfType<IMethodSymbol>().Any(static m => m.Name is "ToString" or "PrintMembers" && !m.IsImplicitlyDeclared))
            {
                return null;
            }

            chain.Insert(0, current);
        }

        var members = new List<string>();
        foreach (var level in chain)
        {
            foreach (var member in level.GetMembers())
            {
                var printed = member switch
                {
                    IFieldSymbol field => !field.IsImplicitlyDeclared && !field.IsConst,
                    IPropertySymbol property => !property.IsIndexer && property.GetMethod is { DeclaredAccessibility: Accessibility.Public } && property.Name != "EqualityContract",
                    _ => false,
                };
                if (printed && !member.IsStatic && member.DeclaredAccessibility == Accessibility.Public && !members.Contains(member.Name))
                {
                    members.Add(member.Name);
                }
            }
        }

        if (members.Count == 0)
        {
            return null;
        }

        var exact = record.IsSealed || record.IsValueType
            ? null
            : record.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        return (members.Select(static name => Identifier(name)).ToArray(), exact);
    }
}
