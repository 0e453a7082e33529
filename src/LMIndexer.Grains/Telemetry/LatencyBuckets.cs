using System.Diagnostics.Metrics;

namespace LMIndexer.Grains.Telemetry;

/// <summary>
/// Histogram bucket edges for latencies in seconds, 1 ms to 10 s. Without them exporters fall back
/// to OpenTelemetry's defaults (0 … 10,000, meant for milliseconds), where every observation in
/// seconds lands in the first bucket.
/// </summary>
public static class LatencyBuckets
{
    public static InstrumentAdvice<double> Seconds { get; } = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };
}
