using LMIndexer.Bench.Scale;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Indexing;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

/// <summary><c>lmindexer-bench scale</c>: the stages it records and the prefix-grain arithmetic behind them.</summary>
public sealed class ScaleBenchTests
{
    [Fact]
    public void A_backfill_rewrites_each_touched_prefix_grains_whole_state_once_per_batch()
    {
        // Entries are 10 bytes of JSON each ("0-0":"A",); a grain's state adds its two braces.
        var table = new SemanticIdTable(["A", "B", "C", "D"], [[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 2, 0]]);

        var figures = ServingStructures.PrefixGrains(table, batchSize: 2);

        Assert.Equal(2, figures.Grains);
        Assert.Equal(3, figures.LargestItems);
        Assert.Equal(32, figures.LargestStateBytes);
        Assert.Equal(40, figures.IdealBytes);
        // Batch 1 writes grain 0 with A, B (22); batch 2 writes grain 0 with A, B, D (32) and grain 1 with C (12).
        Assert.Equal(66, figures.BackfillBytesWritten);
    }

    [Fact]
    public void Uniform_ids_are_unique_with_counters_in_the_references_order()
    {
        var itemIds = Enumerable.Range(0, 500).Select(i => $"I{i}").ToList();
        var table = ServingStructures.UniformIds(itemIds, codebook: 4, seed: 1);

        Assert.Equal(500, table.Ids.Select(id => string.Join('-', id)).Distinct().Count());
        Assert.All(table.Ids, id => Assert.True(id[0] < 4 && id[1] < 4));
        // 16 prefixes share 500 items: every prefix is used and its counters run 0, 1, 2, … in item order.
        foreach (var group in table.Ids.GroupBy(id => (id[0], id[1])))
            Assert.Equal(Enumerable.Range(0, group.Count()).Select(c => (long)c), group.Select(id => id[2]));
        Assert.Equal(16, table.Ids.Select(id => (id[0], id[1])).Distinct().Count());
    }

    [Fact]
    public void Scale_bench_streams_the_catalog_and_records_every_stage_with_its_time_and_memory()
    {
        using var temp = new TempDirectory();
        var indexer = ModelBundle.ReadManifest(TestServingBundle.IndexedDirectory).Properties["indexer"];

        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(8), "scale", "--items", "3000", "--users", "400", "--work", "work",
            "--indexer", indexer, "--assign-items", "100", "--codebook", "16", "--event-users", "1500", "--backfill", "--backfill-rate", "5", "--backfill-batch", "500",
            "--recommend-rate", "10", "--recommend-seconds", "2",
            "--sustain-minutes", "0.25", "--sustain-warmup", "0.1", "--sustain-rate", "400", "--collection-age", "10",
            "--bundle", TestServingBundle.Directory, "--data", TestServingBundle.CatalogDirectory, "--results", "report", "--threads", "1");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var catalog = CatalogFiles.Load(Path.Combine(temp.Path, "work", "catalog"));
        Assert.Equal(3000, catalog.Items.Count);
        Assert.Equal(400, catalog.Users.Count);
        var rows = ReadRows(Path.Combine(temp.Path, "report", "results", "scale.json"));
        foreach (var stage in new[] { "synth", "assign-t5-scratch", "serving", "backfill", "events", "recommend-generative", "recommend-hybrid", "recommend-hybrid-approximate" })
            Assert.True(rows[(stage, "peak_mib")] > 10, $"{stage} reports the memory it peaked at");
        Assert.True(rows[("assign-t5-scratch", "items_per_second")] > 0);
        Assert.Equal(3000 / rows[("assign-t5-scratch", "items_per_second")], rows[("assign-t5-scratch", "extrapolated_seconds")], 0.5);
        // Full IDs through the `index assign` path, each with its collision counter.
        Assert.True(rows[("assign-t5-scratch", "largest_counter")] >= 1);
        Assert.InRange(rows[("serving", "bytes_per_item")], 50, 5000);
        Assert.Equal(16, rows[("prefix-grains", "grains_per_version")]);
        Assert.True(rows[("prefix-grains-table-order", "write_amplification")] > 3, "in table order every batch of 500 rewrites all 16 grains");
        Assert.True(rows[("prefix-grains-id-order", "write_amplification")] < rows[("prefix-grains-table-order", "write_amplification")] / 2, "in ID order a batch fills one or two grains");
        Assert.InRange(rows[("prefix-grains", "write_amplification")], 1.0, 1.01);   // the job writes each grain once
        Assert.True(rows[("events", "active_user_grains")] >= 1500, $"one user grain per distinct user: {rows[("events", "active_user_grains")]}");
        Assert.True(rows[("events", "events_per_second")] > 0);
        // The whole table went into the cluster while it served: nothing failed, nothing named the new version.
        Assert.True(rows[("backfill", "items_per_second")] > 0);
        Assert.True(rows[("backfill", "requests")] > 0);
        Assert.Equal((0.0, 0.0), (rows[("backfill", "failed_requests")], rows[("backfill", "wrong_version")]));
        // Every item generatable: each request answered with a full beam, by beam search and hybrid ranking,
        // and the hybrid bundle carries a vector per item (3,000 × 64 floats) beside the same network.
        foreach (var stage in new[] { "recommend-generative", "recommend-hybrid", "recommend-hybrid-approximate" })
        {
            Assert.Equal(0, rows[(stage, "failed_requests")]);
            Assert.Equal(20, rows[(stage, "items_per_answer")]);
            Assert.True(rows[(stage, "p50_ms")] > 0 && rows[(stage, "mean_batch")] >= 1, $"{stage} measured its requests");
        }
        Assert.InRange(rows[("recommend-hybrid", "weights_mib")] - rows[("recommend-generative", "weights_mib")], 0.6, 1.0);
        // The approximate run served the same bundle through the HNSW index and compared itself with exact ranking.
        Assert.True(rows[("recommend-hybrid-approximate", "index_seconds")] > 0);
        // Its engine saved the index, and a second start read it back (the run fails otherwise).
        Assert.True(rows[("recommend-hybrid-approximate", "restart_seconds")] > 0);
        Assert.True(rows[("recommend-hybrid-approximate", "index_file_mib")] > 0);
        Assert.False(rows.ContainsKey(("recommend-hybrid", "restart_seconds")));
        Assert.InRange(rows[("recommend-hybrid-approximate", "dense_recall_at_100")], 0.5, 1.0);
        Assert.InRange(rows[("recommend-hybrid-approximate", "hybrid_agreement_at_20")], 0.5, 1.0);
        // The sustained run kept its schedule (400/s for 21 s) over users taken in turn, and sampled the process.
        Assert.InRange(rows[("events-sustained", "events")], 0.9 * 400 * 21, 1.05 * 400 * 21);
        Assert.True(rows[("events-sustained", "activations_max")] >= 400, "each of the 400 users in turn activates its grain");
        Assert.True(rows[("events-sustained", "rss_last_minute_mib")] > 10);
        Assert.True(double.IsFinite(rows[("events-sustained", "rss_slope_mib_per_minute")]));
    }

    [Fact]
    public void Assigned_ids_take_the_place_of_uniform_codes_in_the_serving_and_prefix_grain_stages()
    {
        using var temp = new TempDirectory();
        var indexer = ModelBundle.ReadManifest(TestServingBundle.IndexedDirectory).Properties["indexer"];

        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(6), "scale", "--items", "200", "--users", "50", "--work", "work",
            "--indexer", indexer, "--assign-items", "200", "--ids", "assigned",
            "--event-users", "0", "--recommend-rate", "0", "--results", "report", "--threads", "1");

        Assert.True(run.ExitCode == 0, run.Error + run.Output);
        var rows = ReadRows(Path.Combine(temp.Path, "report", "results", "scale.json"));
        // The same assignment, made here through the indexer's own API: its first codes are the prefix grains.
        using var trained = IndexerBundle.Load(indexer);
        var (table, _) = trained.AssignItems(CatalogFiles.EnumerateItems(Path.Combine(temp.Path, "work", "catalog", CatalogFiles.ItemsFile)));
        var firstCodes = table.Ids.GroupBy(id => id[0]).ToList();
        Assert.Equal(firstCodes.Count, rows[("prefix-grains", "grains_per_version")]);
        Assert.Equal(firstCodes.Max(g => g.Count()), rows[("prefix-grains", "largest_items")]);
        Assert.Equal(table.Ids.Max(id => id[^1]) + 1, rows[("serving", "counter_width")]);
        // The assigned table is measured as a uniform one is (it was built before the stage's measurement began).
        Assert.True(rows[("serving", "table_bytes_per_item")] > 0, "the ID table's bytes are measured");
    }

    [Theory]
    [InlineData("--ids assigned --assign-items 100", "--ids assigned needs exactly one --indexer and --assign-items of at least --items.")]
    [InlineData("--ids drawn", "Argument 'drawn' not recognized. Must be one of: 'uniform' 'assigned' (see 'lmindexer-bench scale --help')")]
    public void Assigned_ids_need_one_indexer_that_assigns_the_whole_catalog(string arguments, string error)
    {
        using var temp = new TempDirectory();
        var indexer = ModelBundle.ReadManifest(TestServingBundle.IndexedDirectory).Properties["indexer"];

        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), ["scale", "--items", "600", "--users", "50", "--work", "work", "--indexer", indexer, .. arguments.Split(' ')]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(error, run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "work", "catalog")), "nothing written");
    }

    private static Dictionary<(string?, string?), double> ReadRows(string path)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("rows").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("system").GetString(), r.GetProperty("metric").GetString()), r => r.GetProperty("value").GetDouble());
    }

    [Fact]
    public void A_sustained_run_is_judged_on_its_samples_after_the_warm_up()
    {
        var samples = new[] { 0.5, 1.0, 2.0, 2.5, 3.0, 3.5, 4.0 }.Select(m => new MemorySample(m, 100 + (m < 2 ? 500 : 3 * m), 0, 10)).ToList();
        var run = new SustainedEventsResult(1000, 10, samples, WarmUpMinutes: 2);

        Assert.Equal(5, run.Steady.Count);
        Assert.Equal(3, run.ResidentSlope, 9);   // the warm-up's high samples do not count
        Assert.Equal((100 + (3 * 2.5), 100 + (3 * 3.5)), run.ResidentEnds);
        Assert.True(double.IsNaN(SustainedEventsResult.Slope([(1, 1)])));
    }
}
