using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing.ResidualQuantization;

/// <summary>
/// Residual-quantisation VAE over item embeddings (Lee et al. 2022, as TIGER uses it): an MLP
/// encoder to a latent, L residual codebooks each quantising what the previous left over, an MLP
/// decoder back to the embedding; loss = reconstruction MSE + Σ_l ‖sg(r_l) − e_l‖² + β‖r_l − sg(e_l)‖².
/// The input is standardised by the training set's per-dimension mean and sd, kept as buffers so a
/// saved model codes new items exactly as it coded the training items.
/// </summary>
public sealed class ResidualQuantizerVae : NamedModule
{
    private readonly Sequential encoder;
    private readonly Sequential decoder;
    private readonly ModuleList<CodebookQuantizer> codebooks;
    private readonly Tensor mean;
    private readonly Tensor std;
    private readonly double beta;

    public ResidualQuantizerVae(int inputDim, int levels, int codebookSize, RqVaeOptions options) : base(nameof(ResidualQuantizerVae))
    {
        beta = options.Beta;
        encoder = Mlp([inputDim, .. options.HiddenDims, options.LatentDim]);
        decoder = Mlp([options.LatentDim, .. options.HiddenDims.Reverse(), inputDim]);
        codebooks = new ModuleList<CodebookQuantizer>();
        for (var l = 0; l < levels; l++)
            codebooks.Add(new CodebookQuantizer(codebookSize, options.LatentDim));
        mean = torch.zeros(1, inputDim);
        std = torch.ones(1, inputDim);
        register_module("encoder", encoder);
        register_module("decoder", decoder);
        register_module("codebooks", codebooks);
        register_buffer("mean", mean);
        register_buffer("std", std);
    }

    public int Levels => codebooks.Count;

    /// <summary>Fixes the standardisation to the training embeddings' statistics. // embeddings: [items, input]</summary>
    public void FitStandardization(Tensor embeddings)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        mean.copy_(embeddings.mean([0], keepdim: true));
        std.copy_(embeddings.std(0, keepdim: true).AtLeast(1e-6));
    }

    /// <summary>Embeddings in the standardised space the model reads. // [batch, input]</summary>
    public Tensor Standardize(Tensor embeddings) => (embeddings - mean) / std;

    /// <summary>Loss and codes for a batch of standardised inputs. // x: [batch, input]; codes: [batch, levels]</summary>
    public (Tensor Loss, Tensor Codes) Forward(Tensor x)
    {
        var latent = encoder.forward(x);                                       // [batch, latent]
        var residual = latent;
        var quantized = torch.zeros_like(latent);
        Tensor quantizationLoss = torch.zeros([], device: x.device);
        var codes = new List<Tensor>();
        foreach (var codebook in codebooks)
        {
            var code = KMeans.Nearest(residual, codebook.Embed);               // [batch]
            var vector = codebook.Embed.index_select(0, code);                 // [batch, latent]
            quantizationLoss = quantizationLoss
                .Plus((residual.detach() - vector).pow(TensorArithmetic.Two).sum(-1).mean())
                .Plus((residual - vector.detach()).pow(TensorArithmetic.Two).sum(-1).mean().Times(beta));
            quantized = quantized.Plus(vector);
            residual = residual - vector.detach();
            codes.Add(code);
        }
        var straightThrough = latent.Plus((quantized - latent).detach());      // decoder gradient reaches the encoder
        var reconstruction = (decoder.forward(straightThrough) - x).pow(TensorArithmetic.Two).sum(-1).mean();
        return (reconstruction.Plus(quantizationLoss), torch.stack(codes, 1));
    }

    /// <summary>Eval-mode codes of raw (unstandardised) embeddings. // embeddings: [batch, input] → [batch, levels]</summary>
    public long[][] Codes(Tensor embeddings)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var residual = encoder.forward(Standardize(embeddings));
        var codes = new List<Tensor>();
        foreach (var codebook in codebooks)
        {
            var code = KMeans.Nearest(residual, codebook.Embed);
            residual = residual - codebook.Embed.index_select(0, code);
            codes.Add(code);
        }
        var flat = torch.stack(codes, 1).data<long>().ToArray();
        var rows = (int)embeddings.shape[0];
        return [.. Enumerable.Range(0, rows).Select(i => flat.AsSpan(i * Levels, Levels).ToArray())];
    }

    /// <summary>Initialises each level's codebook by k-means on that level's residuals (as TIGER does). // x: standardised</summary>
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
