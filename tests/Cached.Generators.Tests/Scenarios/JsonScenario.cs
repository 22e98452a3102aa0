using System.Text.Json.Serialization;

namespace Cached.Generators.Tests.Scenarios;

public sealed record Reading(string Station, double Celsius);

/// <summary>A context no test registers by hand: the generator's module initializer does (JsonContextRegistrationTests).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Reading))]
internal sealed partial class ScenarioJsonContext : JsonSerializerContext
{
}
