using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using TorchSharp;
using TorchSharp.Modules;
using LMIndexer.Core.Indexing;
using static TorchSharp.torch;

namespace LMIndexer.Research.Indexing;

/// <summary>Sizes of the RQ-VAE (TIGER: 3 levels of 256 codes, 32-dim latent, MLP 512-256-128).</summary>
public sealed record RqVaeOptions
{
    public int LatentDim { get; init; } = 32;
    public int[] HiddenDims { get; init; } = [512, 256, 128];
    public double Beta { get; init; } = 0.25;
    public int Epochs { get; init; } = 200;
    public int BatchSize { get; init; } = 256;
    public double LearningRate { get; init; } = 1e-3;
    public int Seed { get; init; } = 42;
}

/// <summary>
/// Residual-quantisation VAE over item embeddings (Lee et al. 2022, as TIGER uses it): an MLP
/// encoder to a latent, L residual codebooks each quantising what the previous left over, an MLP
/// decoder back to the embedding; loss = reconstruction MSE + Σ_l ‖sg(r_l) − e_l‖² + β‖r_l − sg(e_l)‖².
/// </summary>
public sealed class ResidualQuantizerVae : NamedModule
{
    private readonly Sequential encoder;
    private readonly Sequential decoder;
    private readonly ModuleList<CodebookQuantizer> codebooks;
    private readonly double beta;

    public ResidualQuantizerVae(int inputDim, int levels, int codebookSize, RqVaeOptions options) : base(nameof(ResidualQuantizerVae))
    {
        beta = options.Beta;
        encoder = Mlp([inputDim, .. options.HiddenDims, options.LatentDim]);
        decoder = Mlp([options.LatentDim, .. options.HiddenDims.Reverse(), inputDim]);
        codebooks = new ModuleList<CodebookQuantizer>();
        for (var l = 0; l < levels; l++)
            codebooks.Add(new CodebookQuantizer(codebookSize, options.LatentDim));
        register_module("encoder", encoder);
        register_module("decoder", decoder);
        register_module("codebooks", codebooks);
    }

    public int Levels => codebooks.Count;

    /// <summary>Loss and codes for a batch. // x: [batch, input]; codes: [batch, levels]</summary>
    public (Tensor Loss, Tensor Codes) Forward(Tensor x)
    {
        var latent = encoder.forward(x);                                       // [batch, latent]
        var residual = latent;
        var quantized = torch.zeros_like(latent);
        Tensor quantizationLoss = torch.zeros([], device: x.device);
        var codes = new List<Tensor>();
        foreach (var codebook in codebooks)
        {
            var code = KMeans.Nearest(residual, codebook.Embed);                      // [batch]
            var vector = codebook.Embed.index_select(0, code);                 // [batch, latent]
            quantizationLoss = quantizationLoss
                .Plus((residual.detach() - vector).pow(TensorArithmetic.Two).sum(-1).mean())
                .Plus((residual - vector.detach()).pow(TensorArithmetic.Two).sum(-1).mean().Times(beta));
            quantized = quantized.Plus(vector);
            residual = residual - vector.detach();
            codes.Add(code);
        }
        var straightThrough = latent.Plus((quantized - latent).detach());        // decoder gradient reaches the encoder
        var reconstruction = (decoder.forward(straightThrough) - x).pow(TensorArithmetic.Two).sum(-1).mean();
        return (reconstruction.Plus(quantizationLoss), torch.stack(codes, 1));
    }

    /// <summary>Initialises each level's codebook by k-means on that level's residuals (as TIGER does).</summary>
    public void InitializeCodebooks(Tensor x, KMeansOptions options)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var residual = encoder.forward(x);
        foreach (var codebook in codebooks)
        {
            var result = KMeans.Fit(residual, codebook.Size, options);
            codebook.Load(result.Centroids);
            residual = residual - codebook.Embed.index_select(0, KMeans.Nearest(residual, codebook.Embed));
        }
    }

    private static Sequential Mlp(int[] dims)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i < dims.Length - 1; i++)
        {
            layers.Add(($"linear{i}", nn.Linear(dims[i], dims[i + 1])));
            if (i < dims.Length - 2)
                layers.Add(($"relu{i}", nn.ReLU()));
        }
        return nn.Sequential(layers);
    }
}

/// <summary>Trains an RQ-VAE on item embeddings and returns its codes.</summary>
public static class RqVaeIndexer
{
    public static long[][] Assign(Tensor embeddings, int levels, int codebookSize, RqVaeOptions options, KMeansOptions kmeans, CancellationToken cancellationToken = default)
    {
        torch.manual_seed(options.Seed);
        using var model = new ResidualQuantizerVae((int)embeddings.shape[1], levels, codebookSize, options);
        // Standardise the embeddings so the MSE is comparable across encoders.
        using var mean = embeddings.mean([0], keepdim: true);
        using var std = embeddings.std(0, keepdim: true).AtLeast(1e-6);
        using var x = (embeddings - mean) / std;
        model.InitializeCodebooks(x, kmeans);
        using var optimizer = torch.optim.Adam(model.parameters(), options.LearningRate);
        var n = x.shape[0];
        var random = new Random(options.Seed);
        var order = Enumerable.Range(0, (int)n).ToArray();
        model.train();
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            random.Shuffle(order);
            for (var start = 0; start < order.Length; start += options.BatchSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var index = tensor(order.Skip(start).Take(options.BatchSize).Select(i => (long)i).ToArray());
                var (loss, _) = model.Forward(x.index_select(0, index));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        }
        model.eval();
        using var noGrad = torch.no_grad();
        using var finalScope = NewDisposeScope();
        var (_, codes) = model.Forward(x);
        var flat = codes.data<long>().ToArray();
        return [.. Enumerable.Range(0, (int)n).Select(i => flat.AsSpan(i * levels, levels).ToArray())];
    }
}
