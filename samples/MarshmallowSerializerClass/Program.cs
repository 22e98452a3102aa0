// pycached's examples/marshmallow_serializer_class.py. marshmallow describes in a schema which fields of a type are
// stored and how; it dumps through the schema, and on load validates the data before it builds the object again
// (@post_load). The .NET counterpart: a schema object that maps the domain type to a plain DTO (the stored fields,
// written as JSON) and back, checking the DTO before any domain object is built from it, and a serializer made from
// such a schema.
//
//   dotnet run --project samples/MarshmallowSerializerClass                                      # the memory backend
//   dotnet run --project samples/MarshmallowSerializerClass -- --redis redis://127.0.0.1:6379/0  # or REDIS_URL=...
//
// tests/Cached.Samples.Tests asserts every line this prints, on both backends.
using System.Buffers;
using System.Text;
using System.Text.Json;
using Cached;
using Cached.Serializers;
using JsonSerializer = Cached.Serializers.JsonSerializer;

var schema = new RandomModelSchema();
using var cache = CreateCache(args, new SchemaSerializer<RandomModel, RandomModelSchema.Fields>(schema, RandomModelSchema.JsonOptions));
Console.WriteLine($"backend: {cache.GetType().Name}");

// pycached draws the fields at random; fixed ones keep the output checkable.
var model = new RandomModel(intType: 7, strType: "q", dictType: new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, listType: [1, 2, 3]);
cache.Set("key", model);
Console.WriteLine($"stored as: {StoredText(cache, "key")}");

var result = cache.Get<RandomModel>("key")!;
Console.WriteLine($"get key: {result}");
Console.WriteLine($"same fields: {result.HasSameFields(model)}");

// Someone else (a Python service, an older version of this one) wrote fields the schema does not accept: the read
// fails with the schema's reasons instead of building an invalid RandomModel.
var invalid = new RandomModelSchema.Fields(IntType: 42, StrType: "QQ", DictType: [], ListType: [1, -2]);
cache.Set("invalid", invalid, serializer: new JsonSerializer(RandomModelSchema.JsonOptions));
try
{
    cache.Get<RandomModel>("invalid");
}
catch (CacheSerializationException ex) when (ex.InnerException is SchemaValidationException validation)
{
    Console.WriteLine($"get invalid: refused, {ex.Key}: {string.Join("; ", validation.Errors)}");
}

Console.WriteLine($"deleted: {cache.Delete("key") + cache.Delete("invalid")}");

// What the backend holds, read with a raw command on the stored key: bytes in memory, a string in Redis.
static string StoredText(ICache cache, string key) => cache.Raw("get", cache.BuildKey(key)) switch
{
    byte[] bytes => Encoding.UTF8.GetString(bytes),
    var other => other?.ToString() ?? "(nothing)",
};

// The memory backend unless `--redis <url>` or the REDIS_URL environment variable names a Redis server.
// A URL names the connection; the serializer, an object rather than text, is given beside it.
static ICache CreateCache(string[] args, ISerializer serializer)
{
    var redisUrl = args is ["--redis", var given, ..] ? given : Environment.GetEnvironmentVariable("REDIS_URL");
    if (string.IsNullOrEmpty(redisUrl))
    {
        return new SimpleMemoryCache { Namespace = "main", Serializer = serializer };
    }

    return Cache.FromUrl(Namespaced(redisUrl), serializer: serializer);

    static string Namespaced(string url) => $"{url}{(url.Contains('?') ? '&' : '?')}namespace=main";
}

/// <summary>The domain type: read-only, with a constant that is not data; the schema decides what is stored.</summary>
internal sealed class RandomModel
{
    public const string MyConstant = "CONSTANT";

    public RandomModel(int intType, string strType, IReadOnlyDictionary<string, int> dictType, IReadOnlyList<int> listType)
    {
        IntType = intType;
        StrType = strType;
        DictType = dictType;
        ListType = listType;
    }

    public int IntType { get; }

    public string StrType { get; }

    public IReadOnlyDictionary<string, int> DictType { get; }

    public IReadOnlyList<int> ListType { get; }

    public bool HasSameFields(RandomModel other)
        => IntType == other.IntType && StrType == other.StrType && ListType.SequenceEqual(other.ListType)
            && DictType.Count == other.DictType.Count
            && DictType.All(pair => other.DictType.TryGetValue(pair.Key, out var value) && value == pair.Value);

    public override string ToString()
        => $"RandomModel(int_type={IntType}, str_type={StrType}, dict_type={{{string.Join(", ", DictType.Select(pair => $"{pair.Key}: {pair.Value}"))}}}, list_type=[{string.Join(", ", ListType)}])";
}

/// <summary>How a <typeparamref name="T"/> is stored: the fields it dumps to, their checks, and how it is built back.</summary>
internal interface ISchema<T, TFields>
{
    TFields Dump(T value);

    /// <summary>What is wrong with <paramref name="fields"/>, one message per field; empty when they are valid.</summary>
    IReadOnlyList<string> Validate(TFields fields);

    T Load(TFields fields);
}

/// <summary>marshmallow's RandomSchema: the stored fields of <see cref="RandomModel"/> (never its constant) and their rules.</summary>
internal sealed class RandomModelSchema : ISchema<RandomModel, RandomModelSchema.Fields>
{
    /// <summary>snake_case names, as the Python side writes them.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public Fields Dump(RandomModel value)
        => new(value.IntType, value.StrType, new Dictionary<string, int>(value.DictType), [.. value.ListType]);

    public IReadOnlyList<string> Validate(Fields fields)
    {
        var errors = new List<string>();
        if (fields.IntType is < 1 or > 10)
        {
            errors.Add($"int_type {fields.IntType} is not between 1 and 10");
        }

        if (fields.StrType is not { Length: 1 } || !char.IsAsciiLetterLower(fields.StrType[0]))
        {
            errors.Add($"str_type '{fields.StrType}' is not one lowercase letter");
        }

        if (fields.DictType is null)
        {
            errors.Add("dict_type is missing");
        }

        if (fields.ListType is null || fields.ListType.Exists(item => item < 0))
        {
            errors.Add("list_type must be a list of integers of 0 or more");
        }

        return errors;
    }

    public RandomModel Load(Fields fields) => new(fields.IntType, fields.StrType, fields.DictType, fields.ListType);

    /// <summary>What is stored: plain data, no behaviour.</summary>
    internal sealed record Fields(int IntType, string StrType, Dictionary<string, int> DictType, List<int> ListType);
}

/// <summary>Thrown on load when stored fields break the schema's rules; nothing is built from them.</summary>
internal sealed class SchemaValidationException(IReadOnlyList<string> errors)
    : Exception($"The stored fields are not valid: {string.Join("; ", errors)}.")
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Stores what a schema dumps, as JSON, and loads only what the schema validates.</summary>
internal sealed class SchemaSerializer<T, TFields>(ISchema<T, TFields> schema, JsonSerializerOptions options) : ISerializer
    where T : class
{
    public bool StoresReferences => false;

    public void Serialize<TValue>(IBufferWriter<byte> destination, TValue value)
    {
        if (value is not T typed)
        {
            throw new NotSupportedException($"This serializer stores {typeof(T).Name} values, not {typeof(TValue).Name}.");
        }

        using var writer = new Utf8JsonWriter(destination);
        System.Text.Json.JsonSerializer.Serialize(writer, schema.Dump(typed), options);
    }

    public TValue? Deserialize<TValue>(ReadOnlySequence<byte> payload)
    {
        var reader = new Utf8JsonReader(payload);
        var fields = System.Text.Json.JsonSerializer.Deserialize<TFields>(ref reader, options)
            ?? throw new SchemaValidationException(["the payload is null"]);
        if (schema.Validate(fields) is { Count: > 0 } errors)
        {
            throw new SchemaValidationException(errors);
        }

        return schema.Load(fields) is TValue loaded
            ? loaded
            : throw new NotSupportedException($"This serializer loads {typeof(T).Name} values, not {typeof(TValue).Name}.");
    }
}
