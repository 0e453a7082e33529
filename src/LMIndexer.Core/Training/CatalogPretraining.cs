using System.Globalization;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;

namespace LMIndexer.Core.Training;

/// <summary>How to build and pretrain a base model for a catalog.</summary>
public sealed record PretrainingPlan
{
    /// <summary>tiny, mini, small or base.</summary>
    public string ModelSize { get; init; } = T5Config.DefaultSizeName;

    /// <summary>Codes per ID position reserved in the vocabulary (learned positions, then the collision counter).</summary>
    public int[] IdPositionSizes { get; init; } = [256, 256, 256];

    /// <summary>Text tokens kept per item (the reference trains with 127 + &lt;/s&gt;).</summary>
    public int MaxTokens { get; init; } = 64;

    public DenoisingOptions Denoising { get; init; } = new();

    /// <summary>The text encoder the IDs will be learned on: its subword vocabulary is the model's (<see cref="Encoders.TextEncoders"/>).</summary>
    public string Encoder { get; init; } = Encoders.TextEncoders.T5Scratch;
}

/// <summary>Catalog → compact tokenizer → T5 → denoising pretraining → bundle.</summary>
public static class CatalogPretraining
{
    public static (ModelBundle Bundle, TrainingReport Report) Run(Catalog catalog, PretrainingPlan plan, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (catalog.Items.Count == 0)
            throw new ArgumentException("The catalog has no items.");
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var tokenizer = CatalogTokenizer.Build(texts, plan.IdPositionSizes, baseEncoding: Encoders.TextEncoders.BaseEncodingFor(plan.Encoder));
        var encoded = texts.Select(t => tokenizer.Encode(t, plan.MaxTokens)).Where(t => t.Length > 0).ToList();
        torch.manual_seed(plan.Denoising.Seed);
        var config = T5Config.Preset(plan.ModelSize, tokenizer.VocabSize);
        var model = new T5Model(config);
        TrainingReport report;
        try
        {
            report = DenoisingPretrainer.Train(model, encoded, plan.Denoising with { MaxTokens = plan.MaxTokens }, progress, cancellationToken);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        var hash = ModelBundle.HashOf(texts);
        var manifest = new BundleManifest
        {
            Version = $"pretrained-{hash[..8]}",
            Kind = "pretrained",
            Config = config,
            TrainingDataHash = hash,
            Properties = new Dictionary<string, string>
            {
                ["objective"] = "text-infilling",
                ["steps"] = report.Steps.ToString(CultureInfo.InvariantCulture),
                ["batchSize"] = plan.Denoising.BatchSize.ToString(CultureInfo.InvariantCulture),
                ["maxTokens"] = plan.MaxTokens.ToString(CultureInfo.InvariantCulture),
                ["seed"] = plan.Denoising.Seed.ToString(CultureInfo.InvariantCulture),
                ["finalLoss"] = report.FinalLoss.ToString("F4", CultureInfo.InvariantCulture),
                ["items"] = catalog.Items.Count.ToString(CultureInfo.InvariantCulture),
            },
        };
        return (new ModelBundle(model, tokenizer, manifest), report);
    }
}
