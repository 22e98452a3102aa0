namespace Cached.Configuration;

/// <summary>
/// The one rule that says which property a setting's name means: pycached's names (<c>db</c>, <c>host</c>), then its
/// snake_case (<c>max_entries</c>), matched to property names case-insensitively. Used both to find the property and to
/// tell when two spellings name the same one.
/// </summary>
internal static class SettingNames
{
    private static readonly Dictionary<string, string> s_pycachedNames = new(StringComparer.OrdinalIgnoreCase)
    {
        ["db"] = "Database",
        ["host"] = "Endpoint",
    };

    /// <summary>The property name <paramref name="setting"/> stands for, to compare case-insensitively: <c>max_entries</c> gives <c>maxentries</c>, <c>db</c> gives <c>Database</c>.</summary>
    public static string PropertyNameOf(string setting)
        => s_pycachedNames.GetValueOrDefault(setting, setting).Replace("_", string.Empty, StringComparison.Ordinal);

    /// <summary>Whether two settings' names stand for the same property (<c>host</c> and <c>Endpoint</c>, <c>max_entries</c> and <c>MaxEntries</c>).</summary>
    public static bool NameSameProperty(string setting, string other)
        => string.Equals(PropertyNameOf(setting), PropertyNameOf(other), StringComparison.OrdinalIgnoreCase);
}
