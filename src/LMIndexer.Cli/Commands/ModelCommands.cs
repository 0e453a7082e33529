using System.CommandLine;
using System.Globalization;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Model;
using LMIndexer.Core.Training;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary><c>lmindexer model info|pretrain</c>.</summary>
public static class ModelCommands
{
    public static Command Create()
    {
        var model = new Command("model", "Create and inspect model bundles.");
        model.Subcommands.Add(Info());
        model.Subcommands.Add(Pretrain());
        return model;
    }

    private static Command Info()
    {
        var bundle = new Argument<DirectoryInfo>("bundle") { Description = "Model bundle directory." };
        var command = new Command("info", "Print a bundle's manifest, sizes and vocabulary.") { bundle };
        command.SetAction(result => CliErrors.Run(() =>
        {
            var directory = result.GetValue(bundle)!.FullName;
            var manifest = ModelBundle.ReadManifest(directory);
            var tokenizer = Core.Text.CatalogTokenizer.Load(Path.Combine(directory, ModelBundle.TokenizerFile));
            var weights = new FileInfo(Path.Combine(directory, ModelBundle.WeightsFile));
            if (!weights.Exists)
                throw new CliUsageException($"{directory}: {ModelBundle.WeightsFile} is missing.");
            AnsiConsole.Write(ManifestTable(manifest, tokenizer, weights.Length));
            return 0;
        }));
        return command;
    }

    private static Command Pretrain()
    {
        var common = new CommonOptions();
        var catalog = new Option<DirectoryInfo>("--catalog", "-c") { Description = "Catalog directory (items.jsonl).", Required = true };
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Bundle directory to write.", Required = true };
        var size = new Option<string>("--size") { Description = $"Model size: {T5Config.PresetNamesText}.", DefaultValueFactory = _ => T5Config.DefaultSizeName };
        var steps = new Option<int>("--steps") { Description = "Optimiser steps.", DefaultValueFactory = _ => 300 };
        var batch = new Option<int>("--batch-size") { Description = "Sequences per step.", DefaultValueFactory = _ => 32 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Text tokens kept per item.", DefaultValueFactory = _ => 64 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate.", DefaultValueFactory = _ => 1e-3 };
        var bf16 = new Option<bool>("--bf16") { Description = "Train in bfloat16 with fp32 master weights (about 2× faster from the small size up)." };
        var encoder = new Option<string>("--encoder") { Description = $"The encoder the IDs will be learned on ({Core.Encoders.TextEncoders.NamesText}): its subword vocabulary becomes the model's.", DefaultValueFactory = _ => Core.Encoders.TextEncoders.T5Scratch };
        var command = new Command("pretrain", "Pretrain a from-scratch T5 on catalog text (text infilling) and save a bundle.")
        {
            catalog, output, size, steps, batch, maxTokens, lr, bf16, encoder,
        };
        common.AddTo(command);
        command.SetAction(result => CliErrors.Run(() =>
        {
            Positive(result.GetValue(steps), "--steps");
            Positive(result.GetValue(batch), "--batch-size");
            if (result.GetValue(maxTokens) < 4)
                throw new CliUsageException("--max-tokens must be at least 4.");
            if (!Core.Encoders.TextEncoders.IsKnown(result.GetValue(encoder)!))
                throw new CliUsageException($"Unknown --encoder '{result.GetValue(encoder)}'; expected {Core.Encoders.TextEncoders.NamesText}.");
            common.InitializeRuntime(result);
            var data = CatalogFiles.Load(result.GetValue(catalog)!.FullName);
            var plan = new PretrainingPlan
            {
                Encoder = result.GetValue(encoder)!,
                ModelSize = result.GetValue(size)!,
                MaxTokens = result.GetValue(maxTokens),
                Denoising = new DenoisingOptions
                {
                    Steps = result.GetValue(steps),
                    BatchSize = result.GetValue(batch),
                    Seed = result.GetValue(common.Seed),
                    BFloat16 = result.GetValue(bf16),
                    Optimizer = new OptimizerOptions { LearningRate = result.GetValue(lr) },
                },
            };
            var (bundle, report) = TrainingProgressView.Run("pretrain", plan.Denoising.Steps, progress => CatalogPretraining.Run(data, plan, progress));
            using (bundle)
                bundle.Save(result.GetValue(output)!.FullName);
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"loss {report.FirstLoss:F3} → {report.FinalLoss:F3} in {report.Seconds:F0} s ({report.SequencesPerSecond:F1} seq/s); bundle: {result.GetValue(output)!.FullName}");
            return 0;
        }));
        return command;
    }

    internal static void Positive(int value, string name)
    {
        if (value <= 0)
            throw new CliUsageException($"{name} must be positive, got {value}.");
    }

    /// <summary>A table describing a bundle (used by <c>model info</c> and the demo).</summary>
    public static Table ManifestTable(BundleManifest manifest, Core.Text.CatalogTokenizer tokenizer, long weightBytes)
    {
        var c = manifest.Config;
        var table = new Table().AddColumn("field").AddColumn("value");
        table.AddRow("format", manifest.Format);
        table.AddRow("version", Markup.Escape(manifest.Version));
        table.AddRow("kind", Markup.Escape(manifest.Kind));
        table.AddRow("created", manifest.Created.ToString("u", CultureInfo.InvariantCulture));
        table.AddRow("model", string.Create(CultureInfo.InvariantCulture, $"d_model {c.DModel}, heads {c.NumHeads}×{c.DKv}, d_ff {c.DFf}, layers {c.NumLayers}+{c.NumDecoderLayers}, {c.FeedForward}"));
        table.AddRow("parameters", string.Create(CultureInfo.InvariantCulture, $"{ParameterCount(c):N0} ({weightBytes / 1048576.0:F1} MiB on disk)"));
        table.AddRow("vocabulary", string.Create(CultureInfo.InvariantCulture, $"{tokenizer.VocabSize} ({tokenizer.TextTokenCount} text tokens; ID positions {string.Join(" × ", tokenizer.IdPositionSizes)})"));
        table.AddRow("training data", Markup.Escape(manifest.TrainingDataHash ?? "-"));
        foreach (var (key, value) in manifest.Properties.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            table.AddRow(Markup.Escape(key), Markup.Escape(value));
        return table;
    }

    private static long ParameterCount(Core.Model.T5Config c)
    {
        long attention = 4L * c.DModel * c.InnerDim;
        long feedForward = (c.FeedForward == Core.Model.FeedForwardKind.Relu ? 2L : 3L) * c.DModel * c.DFf;
        long encoder = c.NumLayers * (attention + feedForward + 2L * c.DModel) + c.DModel;
        long decoder = c.NumDecoderLayers * (2 * attention + feedForward + 3L * c.DModel) + c.DModel;
        long bias = 2L * c.RelativeAttentionNumBuckets * c.NumHeads;
        long embeddings = (long)c.VocabSize * c.DModel * (c.TieWordEmbeddings ? 1 : 2);
        return encoder + decoder + bias + embeddings;
    }
}
