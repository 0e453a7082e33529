using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;

namespace LMIndexer.Core.Checkpoints;

/// <summary>
/// Gives a model another set of ID-token ranges: text-token rows are kept, ID rows of positions
/// whose size is unchanged are kept, new or resized ranges start N(0, 1) (as Hugging Face's
/// <c>resize_token_embeddings</c> initialises T5 rows).
/// </summary>
public static class VocabularyResizer
{
    public static (T5Model Model, CatalogTokenizer Tokenizer) WithIdPositions(T5Model model, CatalogTokenizer tokenizer, IReadOnlyList<int> sizes)
    {
        var resizedTokenizer = tokenizer.WithIdPositions(sizes);
        var config = model.Config with { VocabSize = resizedTokenizer.VocabSize };
        var resized = new T5Model(config);
        var source = model.state_dict();
        using var noGrad = torch.no_grad();
        foreach (var (name, target) in resized.state_dict())
        {
            var value = source[name];
            if (name is not ("shared.weight" or "lm_head.weight"))
            {
                target.copy_(value);
                continue;
            }
            target.normal_(0, 1.0);
            var text = tokenizer.FirstIdToken;
            target[..text].copy_(value[..text]);
            for (var p = 0; p < Math.Min(sizes.Count, tokenizer.IdPositionSizes.Count); p++)
            {
                var rows = Math.Min(sizes[p], tokenizer.IdPositionSizes[p]);
                var from = tokenizer.IdTokenOffset(p);
                var to = resizedTokenizer.IdTokenOffset(p);
                target[to..(to + rows)].copy_(value[from..(from + rows)]);
            }
        }
        resized.train(model.training);
        return (resized, resizedTokenizer);
    }
}
