namespace LMIndexer.Silo.Hosting.Options;

/// <summary>Telemetry export (section <c>Telemetry</c>); Prometheus scraping at <c>/metrics</c> is always on.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>An OTLP collector (e.g. <c>http://collector:4317</c>) for metrics and traces; empty: no export.</summary>
    public string OtlpEndpoint { get; set; } = "";
}
