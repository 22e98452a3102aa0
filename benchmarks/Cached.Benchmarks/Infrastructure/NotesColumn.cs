using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Cached.Benchmarks.Infrastructure;

/// <summary>A column that shows one kind of <see cref="RunNotes"/> for each benchmark; hidden when no benchmark has one.</summary>
public sealed class NotesColumn(string kind, string header, string legend) : IColumn
{
    public string Id => $"{nameof(NotesColumn)}.{kind}";

    public string ColumnName => header;

    public bool AlwaysShow => false;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => false;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => legend;

    /// <summary>The note key of a benchmark case, as the benchmark records it.</summary>
    public static string KeyOf(string kind, BenchmarkCase benchmarkCase)
    {
        var parameters = string.Join(", ", benchmarkCase.Parameters.Items.Select(static p => $"{p.Name}={p.Value}"));
        return RunNotes.Key(kind, benchmarkCase.Descriptor.Type.Name, benchmarkCase.Descriptor.WorkloadMethod.Name, parameters);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => RunNotes.Find(KeyOf(kind, benchmarkCase)) ?? "-";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => RunNotes.Find(KeyOf(kind, benchmarkCase)) is null;

    public bool IsAvailable(Summary summary) => true;

    public override string ToString() => ColumnName;
}
