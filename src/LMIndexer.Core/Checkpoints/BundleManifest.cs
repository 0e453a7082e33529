using System.Text.Json.Serialization;
using LMIndexer.Core.Model;

namespace LMIndexer.Core.Checkpoints;

/// <summary>What a model bundle is: written as <c>manifest.json</c> beside the weights and vocabulary.</summary>
public sealed record BundleManifest
{
    public const string CurrentFormat = "lmindexer-bundle/1";

    public string Format { get; init; } = CurrentFormat;

    /// <summary>Model version label (e.g. an index version such as <c>v3</c>).</summary>
    public required string Version { get; init; }

    /// <summary>What the bundle is for: <c>base</c>, <c>indexer</c>, <c>recommender</c>, …</summary>
    public string Kind { get; init; } = "base";

    public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;

    public required T5Config Config { get; init; }

    /// <summary>SHA-256 of the training data, so a bundle can be traced to what it learnt from.</summary>
    public string? TrainingDataHash { get; init; }

    /// <summary>Free-form facts (training steps, seeds, source checkpoint, …).</summary>
    public Dictionary<string, string> Properties { get; init; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(BundleManifest))]
internal sealed partial class BundleJson : JsonSerializerContext;
