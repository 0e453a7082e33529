using LMIndexer.Bench.ColdStart;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Inference;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

/// <summary><c>lmindexer-bench cold-start</c>: items left out of every training stage, then added through the new-item path.</summary>
public sealed class ColdStartBenchTests
{
    [Fact]
    public void Cold_items_leave_the_item_list_and_every_sequence_and_the_same_seed_picks_the_same_ones()
    {
        var catalog = new Catalog(
            [.. Enumerable.Range(0, 40).Select(i => new CatalogItem($"I{i}", $"item {i}"))],
            [new UserSequence("u1", ["I1", "I2", "I3", "I4"]), new UserSequence("u2", ["I5", "I6", "I7"])]);

        var cold = ColdStartEvaluation.ColdItems(catalog, 0.1, seed: 3);
        var training = ColdStartEvaluation.WithoutCold(catalog, cold);

        Assert.Equal(4, cold.Count);
        Assert.Equal(cold, ColdStartEvaluation.ColdItems(catalog, 0.1, seed: 3));
        Assert.NotEqual(cold, ColdStartEvaluation.ColdItems(catalog, 0.1, seed: 4));
        Assert.Equal(36, training.Items.Count);
        Assert.DoesNotContain(training.Items, i => cold.Contains(i.ItemId));
        Assert.All(training.Users, u => Assert.DoesNotContain(u.ItemIds, cold.Contains));
        Assert.All(training.Users, u => Assert.True(u.ItemIds.Count >= 3));
    }

    [Fact]
    public void The_bench_trains_without_the_cold_items_adds_them_back_and_records_every_system()
    {
        using var temp = new TempDirectory();
        string[] shrink =
        [
            "pretrain.denoising.steps=5", "indexer.codebookSize=8", "indexer.counterSize=32", "indexer.warmupEpochs=1", "indexer.continuousEpochs=1",
            "indexer.codebookEpochs=1", "recommender.fineTune.steps=20", "recommender.fineTune.evalEvery=0", "recommender.fineTune.validationLimit=8",
        ];
        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(8), [
            // One boost and two of the three vector sources (not the recorded grid) keep the validation grid to eight candidates per seed.
            "cold-start", "--data", TestServingBundle.CatalogDirectory, "--cold-share", "0.1", "--seeds", "1,2,3", "--overall-users", "40", "--boosts", "4",
            "--sources", "neighbours,ranking", "--work", "work",
            .. shrink.SelectMany(s => new[] { "--set", s }), "--results", "report", "--threads", "1"]);

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        // The indexer never saw a cold item.
        var catalog = CatalogFiles.Load(TestServingBundle.CatalogDirectory);
        var cold = ColdStartEvaluation.ColdItems(catalog, 0.1, seed: 1);
        var indexed = SemanticIdTable.Load(Path.Combine(temp.Path, "work", "seed-1", "indexer", SemanticIdTable.FileName));
        Assert.Equal(catalog.Items.Count - cold.Count, indexed.Count);
        Assert.DoesNotContain(indexed.ItemIds, cold.Contains);

        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "cold-start.json")));
        var rows = json.RootElement.GetProperty("rows").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("system").GetString(), r.GetProperty("metric").GetString()), r => r.GetProperty("value").GetDouble());
        Assert.Equal(cold.Count, rows[("cold", "items")]);
        Assert.Equal(catalog.Users.Count(u => cold.Contains(u.ItemIds[^1])), rows[("cold", "users")]);
        foreach (var system in new[] { "lmindexer", "no-text-vectors", "popularity", "random-cold" })
            Assert.InRange(rows[(system, "recall@10")], 0, 1);
        Assert.Equal(0, rows[("popularity", "recall@10")]);   // a cold item is never among the trained items' most popular
        Assert.True(rows[("random-cold", "recall@10")] > 0, "ten draws among a dozen cold items find the test item now and then");
        Assert.InRange(rows[("lmindexer", "overall-recall@10")], 0, 1);
        Assert.True(double.IsFinite(rows[("lmindexer-minus-no-text-vectors", "recall@10")]));
        Assert.InRange(rows[("projection", "held-out-cosine")], -1, 1);
        Assert.InRange(rows[("neighbours", "held-out-cosine")], -1, 1);
        Assert.InRange(rows[("ranking", "held-out-recall@10")], rows[("projection", "held-out-recall@10")] - 1e-9, 1);   // the ridge map is the ranking map's epoch 0
        Assert.InRange(rows[("ranking", "held-out-mrr")], rows[("projection", "held-out-mrr")] - 1e-9, 1);
        Assert.InRange(rows[("ranking", "epochs")], 0, RankingMapReport.MaxEpochs);
        Assert.InRange(rows[("lmindexer", "overall-cold-share@10")], 0, 1);
        Assert.True(rows[("cold", "validation-users")] > 0);

        // How new items are scored was chosen on validation, from every candidate, and test was decoded once.
        var protocol = json.RootElement.GetProperty("protocol");
        Assert.Equal("validation", protocol.GetProperty("selected_on").GetString());
        Assert.Equal(1, protocol.GetProperty("test_decodes").GetInt32());
        Assert.Equal(ColdStartCandidate.Grid([4], Sources).Select(c => c.Name), protocol.GetProperty("validation").EnumerateObject().Select(c => c.Name));
        Assert.Contains(protocol.GetProperty("choice").GetString(), ColdStartCandidate.Grid([4], Sources).Select(c => c.Name));
        foreach (var candidate in ColdStartCandidate.Grid([4], Sources).Select(c => c.Name).Append("no-text-vectors"))
            Assert.InRange(rows[($"validation:{candidate}", "ndcg@10")], 0, 1);
    }

    private static readonly NewItemVectorSource[] Sources = [NewItemVectorSource.Neighbours, NewItemVectorSource.Ranking];

    [Theory]
    [InlineData("--seeds", "1,2", "at least 3 seeds")]
    [InlineData("--sources", "neighbours,nearest", "--sources must be among projection, neighbours, ranking")]
    [InlineData("--boosts", "0,four", "--boosts must be finite numbers")]
    public void Bad_arguments_are_refused_before_anything_trains(string option, string value, string message)
    {
        using var temp = new TempDirectory();
        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), ["cold-start", "--data", TestServingBundle.CatalogDirectory, option, value, "--work", "work"]);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains(message, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "work")), "nothing trained");
    }
}
