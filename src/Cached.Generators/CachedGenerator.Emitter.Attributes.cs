namespace Cached.Generators;

/// <summary>The attributes of the members generated code writes beside a method.</summary>
internal static partial class Emitter
{
    /// <summary>A member written beside an <c>[Obsolete]</c> method is <c>[Obsolete]</c> too (<see cref="CodeWriter.Obsolete"/>).</summary>
    private static void MarkObsolete(CodeWriter writer)
    {
        if (writer.Obsolete)
        {
            writer.Line("[global::System.Obsolete]");
        }
    }

    /// <summary>The attributes of a member written beside the method: <c>[GeneratedCode]</c>, and <c>[Obsolete]</c> where the method is.</summary>
    private static void MemberAttributes(CodeWriter writer)
    {
        MarkObsolete(writer);
        writer.Line(s_generatedCode);
    }
}
