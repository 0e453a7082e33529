using System.CommandLine;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Cli.Commands;

/// <summary>The indexer sizes and schedule shared by <c>index train</c> and <c>index bench</c>.</summary>
public sealed class IndexerCoreOptions
{
    public Option<int> CodebookSize { get; } = new("--codebook-size") { Description = "Codes per learned position (K).", DefaultValueFactory = _ => 128 };
    public Option<int> MaxTokens { get; } = new("--max-tokens") { Description = "Text tokens per item, including </s>.", DefaultValueFactory = _ => 64 };
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Items per step.", DefaultValueFactory = _ => 32 };
    public Option<int> Epochs { get; } = new("--epochs") { Description = "Epochs of each stage (warm-up, continuous, codebook).", DefaultValueFactory = _ => 3 };
    public Option<int?> LaterContinuousEpochs { get; } = new("--later-continuous-epochs") { Description = "Epochs of the continuous stage at positions ≥ 2 (default: --epochs ÷ 6 rounded up, the reference's 5 of 30)." };
    public Option<bool> BFloat16 { get; } = new("--bf16") { Description = "Train the stages in bfloat16 with fp32 master weights (about 2× faster from the small size up)." };
    public Option<string> Encoder { get; } = new("--encoder") { Description = $"Text encoder the IDs are learned on: {TextEncoders.NamesText}.", DefaultValueFactory = _ => TextEncoders.T5Scratch };
    public Option<int> EncoderTrainableLayers { get; } = new("--encoder-trainable-layers") { Description = "Top layers of a pretrained encoder that fine-tune (0: frozen).", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        command.Options.Add(CodebookSize);
        command.Options.Add(MaxTokens);
        command.Options.Add(BatchSize);
        command.Options.Add(Epochs);
        command.Options.Add(LaterContinuousEpochs);
        command.Options.Add(BFloat16);
        command.Options.Add(Encoder);
        command.Options.Add(EncoderTrainableLayers);
    }

    /// <summary>The reference's ratio: 5 continuous epochs at position 2 against 30 everywhere else.</summary>
    public static int ReferenceLaterContinuousEpochs(int epochs) => (epochs + 5) / 6;

    public SemanticIndexerOptions Build(ParseResult result, int seed)
    {
        var epochs = result.GetValue(Epochs);
        return new SemanticIndexerOptions
        {
            CodebookSize = result.GetValue(CodebookSize),
            CounterSize = result.GetValue(CodebookSize),
            MaxTokens = result.GetValue(MaxTokens),
            BatchSize = result.GetValue(BatchSize),
            WarmupEpochs = epochs,
            ContinuousEpochs = epochs,
            CodebookEpochs = epochs,
            LaterContinuousEpochs = result.GetValue(LaterContinuousEpochs) ?? ReferenceLaterContinuousEpochs(epochs),
            BFloat16 = result.GetValue(BFloat16),
            Encoder = result.GetValue(Encoder)!,
            EncoderTrainableLayers = result.GetValue(EncoderTrainableLayers),
            Seed = seed,
        };
    }
}
