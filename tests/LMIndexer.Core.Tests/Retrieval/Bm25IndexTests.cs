using LMIndexer.Core.Retrieval;

namespace LMIndexer.Core.Tests.Retrieval;

public sealed class Bm25IndexTests
{
    private static Bm25Index<int> ThreeDocuments()
    {
        var index = new Bm25Index<int>(k1: 1.2, b: 0.75);
        index.Upsert("a", [10, 11, 11]);     // |d| = 3
        index.Upsert("b", [11, 12]);         // |d| = 2
        index.Upsert("c", [12, 13, 13, 13]); // |d| = 4
        return index;
    }

    [Fact]
    public void Scores_match_the_formula_computed_by_hand()
    {
        var hits = ThreeDocuments().Search([11], top: 3);

        // Term 11: df = 2 of N = 3 → idf = ln(1 + 1.5/2.5); avgdl = 3.
        var idf = Math.Log(1 + 1.5 / 2.5);
        var first = idf * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / 3.0));
        var second = idf * 1 * 2.2 / (1 + 1.2 * (1 - 0.75 + 0.75 * 2 / 3.0));
        Assert.Equal(["a", "b"], hits.Select(h => h.Key));   // c has no match and is not returned
        Assert.Equal(first, hits[0].Score, 12);
        Assert.Equal(second, hits[1].Score, 12);
    }

    [Fact]
    public void A_rare_query_term_outranks_a_common_one_and_ties_keep_insertion_order()
    {
        var index = ThreeDocuments();
        Assert.Equal(["c", "b"], index.Search([13, 12], top: 3).Select(h => h.Key));   // 13 only in c
        Assert.Empty(index.Search([99], top: 2));
        index.Upsert("d", [10, 11, 11]);                                                // a's twin, added later
        Assert.Equal(["a", "d"], index.Search([10], top: 2).Select(h => h.Key));
    }

    [Fact]
    public void Replacing_and_removing_a_document_is_the_same_as_building_without_it()
    {
        var index = ThreeDocuments();
        index.Upsert("b", [10, 13]);    // replaced
        index.Upsert("e", [11]);
        Assert.True(index.Remove("e"));
        Assert.False(index.Remove("e"));

        var rebuilt = new Bm25Index<int>();
        rebuilt.Upsert("a", [10, 11, 11]);
        rebuilt.Upsert("b", [10, 13]);
        rebuilt.Upsert("c", [12, 13, 13, 13]);
        Assert.Equal(3, index.Count);
        foreach (var query in new[] { new[] { 10 }, [11], [12, 13], [13, 10, 11] })
        {
            var expected = rebuilt.Search(query, 3);
            var actual = index.Search(query, 3);
            Assert.Equal(expected.Select(h => h.Key).Order(), actual.Select(h => h.Key).Order());
            foreach (var (key, score) in expected)
                Assert.Equal(score, actual.Single(h => h.Key == key).Score, 12);
        }
        Assert.DoesNotContain("b", index.Search([11], 3).Select(h => h.Key));   // its old terms are gone
    }

    [Fact]
    public void Words_are_lower_cased_without_accents_and_split_at_punctuation()
    {
        Assert.Equal(["creme", "brulee", "lip", "balm", "2", "pack"], SearchTextAnalyzer.Terms("Crème-Brûlée LIP balm (2-pack)"));
        Assert.Empty(SearchTextAnalyzer.Terms("  \t "));
        Assert.Empty(SearchTextAnalyzer.Terms(null));
    }
}
