using LMIndexer.Core.Downstream;
using LMIndexer.Core.Encoders;

namespace LMIndexer.Core.Tests.Encoders;

/// <summary>The validation scores fine-tuning chooses by: dense alone, and fused with BM25 as search serves it.</summary>
public sealed class DenseRetrievalScoreTests
{
    private static readonly Dictionary<string, string> Texts = new(StringComparer.Ordinal)
    {
        ["lipstick"] = "red lipstick matte finish",
        ["mascara"] = "blue mascara waterproof",
        ["serum"] = "green face serum with vitamin c",
        ["shampoo"] = "argan oil shampoo for dry hair",
    };

    [Fact]
    public void Weight_zero_is_bm25_alone_and_a_dense_weight_brings_in_what_no_query_word_matches()
    {
        using var encoder = new TrainableSentenceEncoder(PretrainedEncoderPackage.MiniLm, maxTokens: 32);
        // BM25 puts the first query's item first; no word of the second is in any text.
        List<QueryPair> queries = [new("red lipstick", "lipstick"), new("crimson lip colour", "lipstick")];

        var scores = DenseRetrievalScore.HybridNdcg10(texts => encoder.Embed(texts), encoder.Package.QueryPrefix, queries, Texts, [0, 1]);

        Assert.Equal(0.5, scores[0], 12);          // 1 for the first query, nothing found for the second
        Assert.True(scores[1] > 0.5 + 0.2, $"the dense ranking finds the lipstick among four items: {scores[1]:F4}");
        var dense = DenseRetrievalScore.Ndcg10(encoder, queries, Texts);
        Assert.InRange(dense, 0.43, 1);             // every item is in a dense top 10 of four
    }
}
