using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Cached.Diagnostics;

namespace Cached.Tests.Diagnostics;

/// <summary>One measurement of an instrument of the "Cached" meter.</summary>
internal sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public object? this[string tag] => Tags.GetValueOrDefault(tag);
}

/// <summary>Listens to the "Cached" meter as OpenTelemetry or dotnet-counters would, keeping this test's measurements.</summary>
internal sealed class CachedMeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();

    public CachedMeterRecorder(string alias)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == CachedDiagnostics.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(alias, instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(alias, instrument, value, tags));
        _listener.Start();
    }

    public IReadOnlyList<Measurement> Measurements => _measurements.ToArray();

    public IEnumerable<Measurement> Of(string instrument) => Measurements.Where(m => m.Instrument == instrument);

    public double Sum(string instrument) => Of(instrument).Sum(static m => m.Value);

    private void Record(string alias, Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        // Other caches of the process may run meanwhile; keep only this test's.
        if (Equals(copy.GetValueOrDefault("cache.alias"), alias))
        {
            _measurements.Enqueue(new Measurement(instrument.Name, value, copy));
        }
    }

    public void Dispose() => _listener.Dispose();
}
