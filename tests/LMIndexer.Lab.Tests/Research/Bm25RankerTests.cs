using LMIndexer.Research.Search;
using LMIndexer.Core.Text;

namespace LMIndexer.Lab.Tests.Research;

public sealed class Bm25RankerTests
{
    // Tokens ≥ 4 are words; 1 is </s>, which never counts.
    private static readonly int[][] Documents =
    [
        [10, 11, 11, CatalogTokenizer.EosId],   // |d| = 3
        [11, 12, CatalogTokenizer.EosId],       // |d| = 2
        [12, 13, 13, 13, CatalogTokenizer.EosId], // |d| = 4
    ];

    [Fact]
    public void Scores_match_the_formula_computed_by_hand()
    {
        var ranker = new Bm25Ranker(Documents, k1: 1.2, b: 0.75);
        var scores = ranker.Scores([11, CatalogTokenizer.EosId]);

        // Token 11: df = 2 of N = 3 → idf = ln(1 + 1.5/2.5); avgdl = 3.
        var idf = Math.Log(1 + 1.5 / 2.5);
        var first = idf * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / 3.0));
        var second = idf * 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * 2 / 3.0));
        Assert.Equal(first, scores[0], 12);
        Assert.Equal(second, scores[1], 12);
        Assert.Equal(0, scores[2]);
    }

    [Fact]
    public void A_rare_query_term_outranks_a_common_one_and_ties_keep_index_order()
    {
        var ranker = new Bm25Ranker(Documents);
        Assert.Equal([2, 1, 0], ranker.Rank([13, 12], top: 3));   // 13 only in document 2
        Assert.Equal([0, 1], ranker.Rank([99], top: 2));           // no match: every score 0, index order
        Assert.Equal([0], ranker.Rank([10, 11], top: 1));
    }
}
