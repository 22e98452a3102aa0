namespace Cached.CodeFixes;

/// <summary>
/// The ids of the generator's diagnostics that have a fix. They are repeated here rather than read from the generator
/// so that this assembly, which only IDEs use, does not depend on it; the tests run the real generator, so a renumbered
/// diagnostic fails them.
/// </summary>
internal static class DiagnosticIds
{
    public const string MethodNotPartial = "CACHED001";
    public const string ImplementationMissing = "CACHED002";
    public const string UnknownTemplateParameter = "CACHED005";
    public const string KeyParameterWithoutValueToString = "CACHED012";
}
