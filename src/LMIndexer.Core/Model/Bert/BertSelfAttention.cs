using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model.Bert;

/// <summary>Multi-head scaled dot-product self-attention with biased Q/K/V projections (Hugging Face's BertSelfAttention).</summary>
public sealed class BertSelfAttention : NamedModule<Tensor, Tensor, Tensor>
{
    private readonly BertConfig config;
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        this.config = config;
        query = nn.Linear(config.HiddenSize, config.HiddenSize);
        key = nn.Linear(config.HiddenSize, config.HiddenSize);
        value = nn.Linear(config.HiddenSize, config.HiddenSize);
        register_module("query", query);
        register_module("key", key);
        register_module("value", value);
    }

    /// <param name="hidden">[batch, tokens, hidden]</param>
    /// <param name="additiveMask">[batch, 1, 1, tokens]: 0 where a token may be attended, a large negative number at padding.</param>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        var (batch, tokens) = (hidden.shape[0], hidden.shape[1]);
        var heads = config.NumAttentionHeads;
        var headSize = config.HiddenSize / heads;
        using var q = Split(query.forward(hidden));                                                          // [batch, heads, tokens, head]
        using var k = Split(key.forward(hidden));
        using var v = Split(value.forward(hidden));
        var dropout = training ? config.AttentionProbsDropoutProb : 0.0;
        using var context = nn.functional.scaled_dot_product_attention(q, k, v, additiveMask, p: dropout);      // [batch, heads, tokens, head]
        return context.transpose(1, 2).reshape(batch, tokens, config.HiddenSize);                             // [batch, tokens, hidden]

        Tensor Split(Tensor projected)
        {
            using (projected)
                return projected.view(batch, tokens, heads, headSize).transpose(1, 2);
        }
    }
}
