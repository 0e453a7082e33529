using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model.Bert;

/// <summary>One BERT layer: self-attention and a GELU feed-forward network, each closed by a post-LayerNorm residual.</summary>
public sealed class BertLayer : NamedModule<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention selfAttention;
    private readonly BertDenseNorm attentionOutput;
    private readonly Linear intermediate;
    private readonly BertDenseNorm output;

    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        selfAttention = new BertSelfAttention(config);
        attentionOutput = new BertDenseNorm(config, config.HiddenSize);
        intermediate = nn.Linear(config.HiddenSize, config.IntermediateSize);
        output = new BertDenseNorm(config, config.IntermediateSize);
        // Hugging Face's nesting, so that state-dict names equal the checkpoint's (attention.self.query.weight, …).
        var attention = new NamedContainer("BertAttention");
        attention.Add("self", selfAttention);
        attention.Add("output", attentionOutput);
        var intermediateContainer = new NamedContainer("BertIntermediate");
        intermediateContainer.Add("dense", intermediate);
        register_module("attention", attention);
        register_module("intermediate", intermediateContainer);
        register_module("output", output);
    }

    /// <param name="hidden">[batch, tokens, hidden]</param>
    /// <param name="additiveMask">[batch, 1, 1, tokens]</param>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var attended = selfAttention.forward(hidden, additiveMask);
        using var afterAttention = attentionOutput.forward(attended, hidden);                                // [batch, tokens, hidden]
        using var projected = intermediate.forward(afterAttention);
        using var activated = nn.functional.gelu(projected);                                                 // exact (erf) GELU, as BERT
        return output.forward(activated, afterAttention);                                                    // [batch, tokens, hidden]
    }
}
