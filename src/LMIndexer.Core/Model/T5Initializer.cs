using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// Hugging Face's T5 initialisation (factor 1): the missing 1/√d attention scale is folded into
/// the query init, and tied embeddings start at N(0, 1) because the LM head rescales by d^-0.5.
/// </summary>
internal static class T5Initializer
{
    public static void Initialize(T5Model model)
    {
        var c = model.Config;
        using var noGrad = torch.no_grad();
        model.Shared.weight!.normal_(0, 1.0);
        model.LmHead?.weight.normal_(0, 1.0);
        // Item vectors stand beside token vectors in the source, so they start at the same scale.
        model.SourceItems?.weight!.normal_(0, 1.0);
        foreach (var stack in new[] { model.Encoder, model.Decoder })
        {
            foreach (var block in stack.Blocks)
            {
                InitAttention(block.SelfAttention.Attention, c);
                if (block.CrossAttention is not null)
                    InitAttention(block.CrossAttention.Attention, c);
                foreach (var wi in block.FeedForward.FeedForward.InputProjections)
                    wi.weight.normal_(0, Math.Pow(c.DModel, -0.5));
                block.FeedForward.FeedForward.OutputProjection.weight.normal_(0, Math.Pow(c.DFf, -0.5));
            }
        }
    }

    /// <summary>The dense item head: unit-scale first-step states map to unit-scale queries.</summary>
    public static void InitializeDenseHead(T5Model model)
    {
        using var noGrad = torch.no_grad();
        model.DenseHead?.weight.normal_(0, Math.Pow(model.Config.DModel, -0.5));
    }

    private static void InitAttention(T5Attention attention, T5Config c)
    {
        attention.Query.weight.normal_(0, Math.Pow(c.DModel * c.DKv, -0.5));
        attention.Key.weight.normal_(0, Math.Pow(c.DModel, -0.5));
        attention.Value.weight.normal_(0, Math.Pow(c.DModel, -0.5));
        attention.Output.weight.normal_(0, Math.Pow(c.NumHeads * c.DKv, -0.5));
        attention.RelativeBiasTable?.weight!.normal_(0, Math.Pow(c.DModel, -0.5));
    }
}
