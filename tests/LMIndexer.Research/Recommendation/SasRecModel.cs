using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Research.Recommendation;

/// <summary>Sizes of <see cref="SasRecModel"/> (Kang &amp; McAuley 2018 defaults for Amazon data, with CE loss).</summary>
public sealed record SasRecConfig
{
    public required int ItemCount { get; init; }
    public int Hidden { get; init; } = 64;
    public int Heads { get; init; } = 2;
    public int Layers { get; init; } = 2;
    public int MaxLength { get; init; } = 50;
    public double Dropout { get; init; } = 0.5;
}

/// <summary>
/// SASRec: item + learned position embeddings, causal pre-norm transformer blocks, scores =
/// hidden · item embeddingᵀ over every item (full softmax). Item 0 is padding; real items are 1..N.
/// </summary>
public sealed class SasRecModel : NamedModule
{
    private readonly Embedding items;
    private readonly Embedding positions;
    private readonly ModuleList<SasRecBlock> blocks = new();
    private readonly LayerNorm finalNorm;

    public SasRecModel(SasRecConfig config) : base(nameof(SasRecModel))
    {
        Config = config;
        items = nn.Embedding(config.ItemCount + 1, config.Hidden, padding_idx: 0);
        positions = nn.Embedding(config.MaxLength, config.Hidden);
        for (var i = 0; i < config.Layers; i++)
            blocks.Add(new SasRecBlock(config));
        finalNorm = nn.LayerNorm(config.Hidden, eps: 1e-8);
        register_module("items", items);
        register_module("positions", positions);
        register_module("blocks", blocks);
        register_module("final_norm", finalNorm);
        using (torch.no_grad())
        {
            nn.init.normal_(items.weight!, 0, 0.02);
            items.weight![0].zero_();
            nn.init.normal_(positions.weight!, 0, 0.02);
        }
    }

    public SasRecConfig Config { get; }

    /// <summary>Hidden state at every position of left-padded sequences. // [batch, len, hidden]</summary>
    public Tensor Encode(Tensor sequence)
    {
        var length = sequence.shape[1];
        var keep = sequence.OtherThan(0).unsqueeze(-1).to(ScalarType.Float32);                      // [batch, len, 1]
        var x = items.forward(sequence).Times(Math.Sqrt(Config.Hidden));                        // [batch, len, hidden]
        x = x.Plus(positions.forward(TensorArithmetic.Range(length, sequence.device)).unsqueeze(0));
        x = Dropout(x, Config.Dropout, training) * keep;
        var causal = torch.ones(length, length, dtype: ScalarType.Bool, device: sequence.device).tril();  // [len, len]
        var visible = causal.unsqueeze(0) & sequence.OtherThan(0).unsqueeze(1);                  // [batch, len, len]
        foreach (var block in blocks)
            x = block.Forward(x, visible) * keep;
        return finalNorm.forward(x);
    }

    /// <summary>Scores of every item for hidden states. // [..., items + 1]</summary>
    public Tensor Scores(Tensor hidden) => hidden.matmul(items.weight!.t());

    /// <summary>
    /// Inverted dropout with the masks the generative models draw (<see cref="TrainOnlyDropout"/>):
    /// libtorch's own CPU dropout draws one number per element on one thread, which was most of a
    /// SASRec encoder pass.
    /// </summary>
    public static Tensor Dropout(Tensor input, double rate, bool training) => TrainOnlyDropout.Apply(input, rate, training);
}

/// <summary>One SASRec block: pre-norm causal self-attention and a point-wise feed-forward, both residual.</summary>
public sealed class SasRecBlock : NamedModule
{
    private readonly SasRecConfig config;
    private readonly LayerNorm attentionNorm;
    private readonly Linear qkv;
    private readonly Linear output;
    private readonly LayerNorm feedForwardNorm;
    private readonly Linear feedForwardIn;
    private readonly Linear feedForwardOut;

    public SasRecBlock(SasRecConfig config) : base(nameof(SasRecBlock))
    {
        this.config = config;
        attentionNorm = nn.LayerNorm(config.Hidden, eps: 1e-8);
        qkv = nn.Linear(config.Hidden, 3 * config.Hidden);
        output = nn.Linear(config.Hidden, config.Hidden);
        feedForwardNorm = nn.LayerNorm(config.Hidden, eps: 1e-8);
        feedForwardIn = nn.Linear(config.Hidden, config.Hidden);
        feedForwardOut = nn.Linear(config.Hidden, config.Hidden);
        register_module("attention_norm", attentionNorm);
        register_module("qkv", qkv);
        register_module("output", output);
        register_module("ff_norm", feedForwardNorm);
        register_module("ff_in", feedForwardIn);
        register_module("ff_out", feedForwardOut);
    }

    /// <summary><paramref name="visible"/> is [batch, len, len] (query, key). // [batch, len, hidden]</summary>
    public Tensor Forward(Tensor x, Tensor visible)
    {
        var batch = x.shape[0];
        var length = x.shape[1];
        var headDim = config.Hidden / config.Heads;
        var normed = attentionNorm.forward(x);
        var parts = qkv.forward(normed).view(batch, length, 3, config.Heads, headDim).permute(2, 0, 3, 1, 4); // [3, batch, heads, len, d]
        var scores = parts[0].matmul(parts[1].transpose(-1, -2)).Over(Math.Sqrt(headDim));                   // [batch, heads, len, len]
        // Fully padded query rows see nothing; keep them finite (their output is masked anyway).
        var mask = visible.unsqueeze(1) | torch.eye(length, dtype: ScalarType.Bool, device: x.device);
        var weights = Dropout(scores.masked_fill(mask.logical_not(), TensorArithmetic.NegativeInfinity).softmax(-1));
        var context = weights.matmul(parts[2]).transpose(1, 2).reshape(batch, length, config.Hidden);       // [batch, len, hidden]
        x = x.Plus(Dropout(output.forward(context)));
        var hidden = feedForwardOut.forward(Dropout(nn.functional.relu(feedForwardIn.forward(feedForwardNorm.forward(x)))));
        return x.Plus(Dropout(hidden));
    }

    private Tensor Dropout(Tensor input) => SasRecModel.Dropout(input, config.Dropout, training);
}
