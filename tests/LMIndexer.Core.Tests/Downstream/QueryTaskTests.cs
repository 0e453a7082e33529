using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class QueryTaskTests
{
    [Fact]
    public void Proxy_search_queries_hold_out_words_never_used_in_the_items_training_queries()
    {
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 150, Users = 10, Seed = 5 });
        var split = ProxySearchQueries.Build(catalog.Items, seed: 1);
        Assert.Equal(split, ProxySearchQueries.Build(catalog.Items, seed: 1), new SplitComparer());
        Assert.NotEmpty(split.Test);
        Assert.NotEmpty(split.Validation);
        var byItem = catalog.Items.ToDictionary(i => i.ItemId);
        foreach (var held in split.Test.Concat(split.Validation))
        {
            var item = byItem[held.ItemId];
            var leaf = item.PrimaryCategoryPath[^1].ToLowerInvariant();
            var trainWords = split.Train.Where(p => p.ItemId == held.ItemId).SelectMany(p => p.Query.Split(' ')).ToHashSet();
            Assert.StartsWith(leaf, held.Query, StringComparison.Ordinal);
            var heldWords = held.Query[leaf.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(heldWords);
            Assert.All(heldWords, w => Assert.DoesNotContain(w, trainWords.Except(leaf.Split(' '))));
            Assert.All(heldWords, w => Assert.Contains(w, item.Title!.ToLowerInvariant(), StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Identical_queries_are_grouped_into_one_example_with_every_item()
    {
        var table = new SemanticIdTable(["a", "b", "c"], [[0, 0, 0], [0, 1, 0], [1, 0, 0]]);
        var tokenizer = CatalogTokenizer.Build(["red shoes", "blue hat"], [2, 2, 2]);
        var split = new QuerySplit(
            [new QueryPair("red shoes", "a"), new QueryPair("red shoes", "b")],
            [],
            [new QueryPair("red shoes", "a"), new QueryPair("red shoes", "b"), new QueryPair("blue hat", "c"), new QueryPair("blue hat", "unknown")]);
        var data = QueryTask.Build(split, table, tokenizer, maxSourceTokens: 16);
        Assert.Equal(2, data.Train.Count);                    // one row per pair for training
        Assert.Equal(2, data.Test.Count);
        Assert.Equal([0, 1], data.Test[0].Targets);
        Assert.Equal([2], data.Test[1].Targets);
        Assert.Equal(CatalogTokenizer.EosId, data.Test[0].Source[^1]);
    }

    [Fact]
    public void Retrieval_split_keeps_queries_whole_and_disjoint()
    {
        var documents = Enumerable.Range(1, 30).Select(i => new CorpusDocument($"{i}", $"title {i}", $"text about topic {i % 5}")).ToList();
        var queries = Enumerable.Range(1, 40).Select(i => new RetrievalQuery($"q{i}", $"query {i}", new Dictionary<string, int> { [$"{i % 30 + 1}"] = 1, [$"{(i + 7) % 30 + 1}"] = 2 })).ToList();
        var corpus = new RetrievalCorpus(documents, queries);
        var split = RetrievalQueries.Build(corpus);
        Assert.Equal(80, split.Train.Count + split.Validation.Count + split.Test.Count);
        var trainQueries = split.Train.Select(p => p.Query).ToHashSet();
        Assert.DoesNotContain(split.Test, p => trainQueries.Contains(p.Query));
        Assert.DoesNotContain(split.Validation, p => trainQueries.Contains(p.Query));
        Assert.Equal(16, split.Test.Count);   // 20 % of 40 queries × 2 relevant documents
        Assert.Equal(30, RetrievalQueries.DocumentQueries(corpus).Count());
    }

    private sealed class SplitComparer : IEqualityComparer<QuerySplit>
    {
        public bool Equals(QuerySplit? x, QuerySplit? y) =>
            x!.Train.SequenceEqual(y!.Train) && x.Validation.SequenceEqual(y.Validation) && x.Test.SequenceEqual(y.Test);

        public int GetHashCode(QuerySplit obj) => obj.Train.Count;
    }
}
