using LMIndexer.Core.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model.Bert;

/// <summary>
/// dense → dropout → LayerNorm(· + residual): BERT's post-LayerNorm sublayer output, used after
/// attention (BertSelfOutput) and after the feed-forward network (BertOutput).
/// </summary>
public sealed class BertDenseNorm : NamedModule<Tensor, Tensor, Tensor>
{
    private readonly BertConfig config;
    private readonly Linear dense;
    private readonly LayerNorm norm;

    public BertDenseNorm(BertConfig config, int inputSize) : base(nameof(BertDenseNorm))
    {
        this.config = config;
        dense = nn.Linear(inputSize, config.HiddenSize);
        norm = nn.LayerNorm(config.HiddenSize, eps: config.LayerNormEps);
        register_module("dense", dense);
        register_module("LayerNorm", norm);
    }

    /// <param name="input">[batch, tokens, inputSize]</param>
    /// <param name="residual">[batch, tokens, hidden]</param>
    public override Tensor forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        var projected = TrainOnlyDropout.Apply(dense.forward(input), config.HiddenDropoutProb, training);
        return norm.forward(projected.Plus(residual)).MoveToOuterDisposeScope();                                 // [batch, tokens, hidden]
    }
}
