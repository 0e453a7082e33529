using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Runtime;

namespace LMIndexer.Cli.Console;

/// <summary>The JSON report of an evaluation run: bundle, configuration, metrics and timings.</summary>
public static class EvaluationReportFile
{
    public static void Write(string path, ServingBundle serving, string split, EvaluationOptions options, EvaluationResult result, IReadOnlyDictionary<string, EvaluationResult>? baselines = null, IReadOnlyList<string>? ensemble = null)
    {
        static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics) =>
            new([.. metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(Math.Round(kv.Value, 6))))]);
        var json = new JsonObject
        {
            ["task"] = serving.Task,
            ["bundleVersion"] = serving.Version,
            ["split"] = split,
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            ["machine"] = MachineDescription.Current(),
            ["config"] = new JsonObject
            {
                ["beams"] = options.Beams,
                ["batchSize"] = options.BatchSize,
                ["cutoffs"] = new JsonArray([.. options.Cutoffs.Select(c => (JsonNode)c)]),
                ["definition"] = options.Definition.ToString(),
                // Null: the networks' default (hybrid with a dense item head, generative without).
                ["ranking"] = options.Ranking is { } ranking ? RankingModes.Name(ranking) : null,
                ["denseWeight"] = options.DenseWeight,
                ["source"] = HistorySourceOptions.ModeName(serving.Source.Mode),
                ["maxSourceTokens"] = serving.Source.MaxSourceTokens,
                ["model"] = JsonSerializer.SerializeToNode(serving.Bundle.Manifest.Properties),
            },
            ["examples"] = result.Examples,
            ["seconds"] = Math.Round(result.Seconds, 2),
            ["examplesPerSecond"] = Math.Round(result.ExamplesPerSecond, 2),
            ["metrics"] = Metrics(result.Metrics),
        };
        if (ensemble is { Count: > 0 })
            json["ensemble"] = new JsonArray([.. ensemble.Select(e => (JsonNode)e)]);   // bundles scored with this one
        foreach (var (name, baseline) in baselines ?? new Dictionary<string, EvaluationResult>())
            json[name] = Metrics(baseline.Metrics);   // "popularity", "markov": the same users, ranked without the model
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
            Directory.CreateDirectory(directory);
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
