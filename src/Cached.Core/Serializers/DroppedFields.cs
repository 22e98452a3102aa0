using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Cached.Serializers;

/// <summary>
/// Refuses, by type, an object whose public fields System.Text.Json would skip: it writes properties only unless a field
/// is marked <see cref="JsonIncludeAttribute"/> (or the options include fields), so a struct of fields was stored as
/// <c>{}</c> and read back as its defaults. A field marked <see cref="JsonIgnoreAttribute"/> (its default condition,
/// <see cref="JsonIgnoreCondition.Always"/>) is left out on purpose and counts as kept; another condition
/// (<c>Never</c>, <c>WhenWritingDefault</c>...) only says when a written member is left out, and System.Text.Json
/// still skips the field. Checked once per type, where the application allows reflection (which reading the fields needs).
/// </summary>
internal static class DroppedFields
{
    /// <summary><paramref name="info"/>, once no public instance field of its type is missing from it.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Only called where reflection-based serialization is enabled (JsonSerializer.IsReflectionEnabledByDefault), as JsonContextResolver's reflection branch.")]
    public static JsonTypeInfo Checked(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object)
        {
            return info;
        }

        foreach (var field in info.Type.GetFields(BindingFlags.Public | BindingFlags.Instance))
        {
            if (field.GetCustomAttribute<JsonIgnoreAttribute>(inherit: true) is { Condition: JsonIgnoreCondition.Always } || IsWritten(info, field))
            {
                continue;
            }

            throw new NotSupportedException(
                $"JsonSerializer does not store a {TypeNames.Of(info.Type)}: System.Text.Json skips its public field '{field.Name}', "
                + "so it would read back without it. Make the field a property, mark it [JsonInclude] (or [JsonIgnore] to leave it out), "
                + "or use new JsonSerializer(new JsonSerializerOptions { IncludeFields = true }).");
        }

        return info;
    }

    /// <summary>A modifier for a caller's own options (<c>new JsonSerializer(options)</c>): the same refusal, wherever the type occurs.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Used only by the JsonSerializer(JsonSerializerOptions) constructor, which itself requires unreferenced code.")]
    public static void Check(JsonTypeInfo info) => Checked(info);

    private static bool IsWritten(JsonTypeInfo info, FieldInfo field)
    {
        foreach (var property in info.Properties)
        {
            if (property.AttributeProvider is FieldInfo written && written.Name == field.Name)
            {
                return true;
            }
        }

        return false;
    }
}
