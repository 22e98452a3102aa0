namespace Cached.Tests.Serializers;

// Contract-less MessagePack builds formatters only for public types: every model here is public and has no attributes.

public sealed record Person(string Name, int Age, IReadOnlyList<string> Tags);

public sealed record Settings
{
    public string Theme { get; init; } = "light";

    public int FontSize { get; init; }

    public bool? Compact { get; init; }
}

public enum Status
{
    Pending,
    Shipped,
    Cancelled,
}

public sealed class Address
{
    public string Street { get; set; } = "";

    public string City { get; set; } = "";
}

public sealed class Order
{
    public int Id;

    public decimal Total;

    public Status Status;
}

/// <summary>A plain class: parameterless constructor, settable properties, public fields, nested objects and collections.</summary>
public sealed class Customer
{
    public string Name { get; set; } = "";

    public Address? Home { get; set; }

    public List<Order> Orders { get; set; } = [];

    public Dictionary<string, Address> Addresses { get; set; } = [];

    public string? Note { get; set; }
}

public static class Catalog
{
    /// <summary>A type declared inside another type.</summary>
    public sealed record Item(string Sku, Catalog.Price Price);

    public sealed record Price(decimal Amount, string Currency);
}

/// <summary>Holds any value in an <see cref="object"/> member, the shape a typeless payload exploits.</summary>
public sealed class Envelope
{
    public string Label { get; set; } = "";

    public object? Body { get; set; }
}

/// <summary>
/// Stands for a type an attacker wants a reader to create (one whose constructor or setters have side effects);
/// it counts its instances so a test can tell whether reading a payload created one.
/// </summary>
public sealed class Gadget
{
    private static int s_created;

    public Gadget()
    {
        Interlocked.Increment(ref s_created);
    }

    public static int Created => Volatile.Read(ref s_created);

    public string Command { get; set; } = "";

    public static void ResetCount() => Volatile.Write(ref s_created, 0);
}

internal sealed record InternalRecord(string Value);
