using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace LMIndexer.Bench.Reporting;

/// <summary>
/// Each test user's metric for every system of a run, saved beside its result JSON
/// (<c>NAME.users.tsv.gz</c>: one line per system and metric, the users' values in the run's test
/// order), so that runs of several seeds over the same users can be paired user by user afterwards
/// (<see cref="SeedRuns.PooledDifferences"/>).
/// </summary>
public static class PerUserMetrics
{
    public const string Suffix = ".users.tsv.gz";

    /// <summary>The per-user file of a result JSON (<c>results/NAME.json</c> → <c>results/NAME.users.tsv.gz</c>).</summary>
    public static string PathFor(string resultJson) =>
        Path.Combine(Path.GetDirectoryName(resultJson) ?? "", Path.GetFileNameWithoutExtension(resultJson) + Suffix);

    /// <summary>Writes <paramref name="systems"/> (system → metric → one value per test user); every vector must be as long.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double[]>> systems)
    {
        ArgumentNullException.ThrowIfNull(systems);
        var lengths = systems.Values.SelectMany(m => m.Values).Select(v => v.Length).Distinct().ToList();
        if (lengths.Count > 1)
            throw new ArgumentException($"Every system's per-user vector must cover the same users; got lengths {string.Join(", ", lengths)}.", nameof(systems));
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
        using var writer = new StreamWriter(gzip, new UTF8Encoding(false));
        foreach (var (system, metrics) in systems.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            foreach (var (metric, values) in metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                // G9 keeps a float's NDCG exactly; hits and misses print as 1 and 0.
                writer.Write(system);
                writer.Write('\t');
                writer.Write(metric);
                writer.Write('\t');
                writer.WriteLine(string.Join(' ', values.Select(v => v.ToString("G9", CultureInfo.InvariantCulture))));
            }
        }
    }

    /// <summary>Reads a file written by <see cref="Write"/>: system → metric → per-user values.</summary>
    public static Dictionary<string, Dictionary<string, double[]>> Read(string path)
    {
        using var file = File.OpenRead(path);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        var systems = new Dictionary<string, Dictionary<string, double[]>>(StringComparer.Ordinal);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            var parts = line.Split('\t');
            if (parts.Length != 3)
                throw new InvalidDataException($"{path}:{lineNumber}: expected system, metric and values separated by tabs.");
            var values = parts[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) ? x : throw new InvalidDataException($"{path}:{lineNumber}: '{v}' is not a number."))
                .ToArray();
            if (!systems.TryGetValue(parts[0], out var metrics))
                systems[parts[0]] = metrics = new Dictionary<string, double[]>(StringComparer.Ordinal);
            metrics[parts[1]] = values;
        }
        return systems;
    }
}
