using LMIndexer.Core.Runtime;
using LMIndexer.Core.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LMIndexer.Core.Indexing;

/// <summary>What the quantiser hands back for a batch of decoder states.</summary>
public sealed record Quantized(Tensor Z, Tensor Codes, Tensor Logits);

/// <summary>
/// One position's codebook E ∈ R^{K×d}. Codes are argmax_k h·e_k; the training output is
/// z = soft + sg(hard − soft): its value is exactly the hard code vector while gradients flow
/// through the soft mixture softmax(h·Eᵀ)·E into both h and E (the reference's GBQuantize with
/// τ = 1 and no Gumbel noise).
/// </summary>
public sealed class CodebookQuantizer : NamedModule
{
    private readonly Parameter embed;

    public CodebookQuantizer(int codebookSize, int dim) : base(nameof(CodebookQuantizer))
    {
        embed = new Parameter(torch.empty(codebookSize, dim));
        using (torch.no_grad())
            nn.init.xavier_normal_(embed);
        register_parameter("embed", embed);
    }

    public Parameter Embed => embed;

    public int Size => (int)embed.shape[0];

    /// <summary>Quantises h. // z: [batch, d], codes: [batch], logits: [batch, K]</summary>
    public Quantized Forward(Tensor h)
    {
        var logits = h.matmul(embed.t());                                   // [batch, K]
        var codes = logits.argmax(-1);                                      // [batch]
        var soft = nn.functional.softmax(logits, -1).matmul(embed);         // [batch, d]
        var hard = embed.index_select(0, codes);                            // [batch, d]
        var z = soft.Plus((hard - soft).detach());                         // value = hard, gradient = soft's
        return new Quantized(z, codes, logits);
    }

    /// <summary>Eval-time code assignment. // [batch]</summary>
    public Tensor Assign(Tensor h) => h.matmul(embed.t()).argmax(-1);

    /// <summary>Overwrites the codebook (k-means initialisation).</summary>
    public void Load(Tensor centroids)
    {
        if (!centroids.shape.SequenceEqual(embed.shape))
            throw new ArgumentException($"Centroids of shape [{string.Join(", ", centroids.shape)}] do not fit a codebook of shape [{string.Join(", ", embed.shape)}].");
        using var noGrad = torch.no_grad();
        embed.copy_(centroids.to(embed.dtype).to(embed.device));
    }
}
