using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing.ResidualQuantization;

/// <summary>
/// TIGER's rq-VAE over the items' sentence vectors. Its trained model goes into the indexer bundle
/// (<see cref="StateFile"/>), so new items are coded from their text as the catalog was.
/// </summary>
public sealed class RqVaeCodeAssigner(RqVaeOptions? options = null) : IEmbeddingCodeAssigner
{
    public const string StateFile = "rqvae.safetensors";
    private const string LatentDimProperty = "rqvae.latentDim";
    private const string HiddenDimsProperty = "rqvae.hiddenDims";

    public string Method => IdMethods.RqVae;

    public RqVaeOptions Options { get; } = options ?? new RqVaeOptions();

    public EmbeddingCodes Assign(Tensor embeddings, SemanticIndexerOptions indexer, IProgress<Training.TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        using var model = RqVaeTraining.Train(embeddings, indexer.Positions, indexer.CodebookSize, Options, indexer.KMeans, indexer.Seed, progress, cancellationToken);
        var codes = model.Codes(embeddings);
        var state = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var properties = new Dictionary<string, string>
        {
            [LatentDimProperty] = Options.LatentDim.ToString(CultureInfo.InvariantCulture),
            [HiddenDimsProperty] = string.Join(',', Options.HiddenDims),
        };
        return new EmbeddingCodes(codes, state, properties, StateFile);
    }

    /// <summary>The model a bundle saved, rebuilt from its manifest properties and state.</summary>
    public static ResidualQuantizerVae Load(string directory, IReadOnlyDictionary<string, string> properties, int inputDim, int levels, int codebookSize)
    {
        var options = new RqVaeOptions
        {
            LatentDim = int.Parse(properties[LatentDimProperty], CultureInfo.InvariantCulture),
            HiddenDims = [.. properties[HiddenDimsProperty].Split(',').Select(d => int.Parse(d, CultureInfo.InvariantCulture))],
        };
        var model = new ResidualQuantizerVae(inputDim, levels, codebookSize, options);
        var (state, _) = Checkpoints.SafeTensors.Load(Path.Combine(directory, StateFile));
        try
        {
            model.load_state_dict(state);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in state.Values)
                t.Dispose();
        }
        model.eval();
        return model;
    }
}
