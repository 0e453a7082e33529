using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Grains.Inference;
using LMIndexer.Grains.Items;
using LMIndexer.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace LMIndexer.Grains.Tests;

/// <summary>The dynamic batcher with several decoding workers sharing one model.</summary>
public sealed class InferenceEngineTests
{
    /// <summary>An unused ID: the learned codes of the table's first item with a counter beyond every one under them.</summary>
    private static long[] UnusedId(SemanticIdTable table)
    {
        var existing = table.Ids[0];
        var codes = existing.ToArray();
        codes[^1] = table.Ids.Where(id => id.AsSpan(0, id.Length - 1).SequenceEqual(existing.AsSpan(0, existing.Length - 1))).Max(id => id[^1]) + 1;
        return codes;
    }

    [Fact]
    public async Task Several_workers_answer_every_request_exactly_as_one_worker_does()
    {
        var histories = Enumerable.Range(0, 48)
            .Select(i => (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Skip(i * 7 % 200).Take(1 + i % 5)])
            .ToList();

        var single = await GenerateAllAsync(new InferenceOptions { Workers = 1, MaxBatchSize = 1 }, histories, expectedWorkers: 1);
        // Batches of one on both sides: padding in a shared batch would move scores in the last bits.
        var several = await GenerateAllAsync(new InferenceOptions { Workers = 3, MaxBatchSize = 1 }, histories, expectedWorkers: 3);

        for (var i = 0; i < histories.Count; i++)
        {
            Assert.Equal(10, single[i].Ids.Count);
            Assert.Equal(single[i].Ids.Select(g => (string.Join(',', g.Codes), g.Score)), several[i].Ids.Select(g => (string.Join(',', g.Codes), g.Score)));
        }
    }

    [Fact]
    public async Task Items_added_while_workers_decode_become_generatable_without_failing_a_request()
    {
        var serving = ServingBundle.Load(TestServingBundle.Directory);
        var table = serving.Table;
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 2 }, NullLogger.Instance);
        var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(3)];
        var before = engine.ItemCount;
        var load = Enumerable.Range(0, 40).Select(_ => engine.GenerateAsync(history, 5)).ToList();

        var codes = UnusedId(table);
        var added = engine.AddItems([new PrefixEntry(codes, "ADDED-1")]);
        var results = await Task.WhenAll(load);

        Assert.Equal(1, added);
        Assert.Equal(before + 1, engine.ItemCount);
        Assert.All(results, r => Assert.Equal(5, r.Ids.Count));
    }

    [Fact]
    public async Task A_bundle_with_a_dense_item_head_serves_hybrid_rankings_and_items_added_after_training()
    {
        var serving = ServingBundle.Load(TestServingBundle.DenseDirectory);
        var model = serving.Bundle.Model;
        Assert.True(model.Config.DenseItemHead);
        var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(3)];
        // The source as the engine encodes it.
        var source = new HistorySource(serving.Bundle.Tokenizer, new Dictionary<string, CatalogItem>(), serving.Table, serving.Source).Encode([.. history.Select(h => h.ToCatalogItem())]);
        var expected = ItemRanker.Rank([model], [source], serving.Tables, 10, RankingMode.Hybrid)[0];
        var table = serving.Table;
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1, NewItemVectorSource = NewItemVectorSource.Projection }, NullLogger.Instance);

        var served = await engine.GenerateAsync(history, 10);

        // The same items and scores as hybrid ranking (to float rounding: the worker runs on its own thread count).
        Assert.Equal(expected.Select(r => string.Join(',', table.Ids[r.Item])), served.Ids.Select(g => string.Join(',', g.Codes)));
        Assert.All(expected.Zip(served.Ids), pair => Assert.Equal(pair.First.Score, pair.Second.Score, tolerance: 1e-4));

        // An item added after training gets a dense vector from its text through the bundle's projection,
        // and is ranked exactly as hybrid ranking ranks it with that vector.
        var codes = UnusedId(table);
        const string text = "Moonlit lavender body butter";
        Assert.True(engine.NeedsItemTexts);
        Assert.Throws<ArgumentException>(() => engine.AddItems([new PrefixEntry(codes, "ADDED-1")]));   // no text to give it a vector
        Assert.Equal(1, engine.AddItems([new PrefixEntry(codes, "ADDED-1")], [text]));
        Assert.Equal(1, engine.ItemsWithTextVectors);
        var everything = await engine.GenerateAsync(history, engine.ItemCount);
        var added = Assert.Single(everything.Ids, g => g.Codes.SequenceEqual(codes));

        var projection = ItemTextProjection.TryLoad(TestServingBundle.DenseDirectory)!;
        using var encoder = new OnnxSentenceEncoder(PretrainedEncoderPackage.Named(projection.Encoder), threads: 1);
        using var vector = torch.tensor(projection.Project(encoder.Embed([text])[0]), [1, projection.ItemDimension]);
        var extended = new SemanticIdTable([.. table.ItemIds, "ADDED-1"], [.. table.Ids, codes]);
        using var extendedTables = new TrieTables(IdTrie.FromTable(extended, serving.Bundle.Tokenizer));
        var defaults = new InferenceOptions();   // the engine's: how new items are scored is a serving default
        var expectedAll = ItemRanker.Rank([model], [source], extendedTables, extended.Count, RankingMode.Hybrid, addedVectors: vector,
            addedSequence: defaults.NewItemSequence, addedBoost: defaults.NewItemBoost)[0];
        Assert.Equal(expectedAll.Single(r => r.Item == table.Count).Score, added.Score, tolerance: 1e-3);

        // The vectors the engine reports are the ones it ranks by: a trained item's row, the added item's projection.
        var trained = engine.VectorOf(table.ItemIds[5]);
        Assert.Equal((serving.Version, ItemVector.Trained), (trained.Version, trained.Source));
        Assert.Equal(model.SourceItems!.weight![5].data<float>().ToArray(), trained.Values);
        var projected = engine.VectorOf("ADDED-1");
        Assert.Equal(ItemVector.Text, projected.Source);
        Assert.Equal(vector.data<float>().ToArray(), projected.Values, (a, b) => Math.Abs(a - b) < 1e-4);
        var unknown = engine.VectorOf("NOT-AN-ITEM");
        Assert.Equal((ItemVector.None, 0), (unknown.Source, unknown.Values.Length));
    }

    [Theory]
    [InlineData("dense", 1.0)]
    [InlineData("hybrid", 0.25)]
    public async Task A_bundle_serves_the_ranking_its_training_chose_on_validation(string mode, double weight)
    {
        // The dense test bundle with a choice written into its manifest, as a validating run writes it.
        var directory = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"ranking-{mode}-{Guid.NewGuid():N}");
        ServingBundle.CopyAsVersion(TestServingBundle.DenseDirectory, directory, "d1-" + mode);
        try
        {
            var manifestFile = Path.Combine(directory, "manifest.json");
            var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifestFile))!;
            manifest["properties"]![RankingChoice.ModeProperty] = mode;
            manifest["properties"]![RankingChoice.DenseWeightProperty] = weight.ToString(System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllText(manifestFile, manifest.ToJsonString());
            using var serving = ServingBundle.Load(directory);
            var choice = new RankingChoice(mode == "dense" ? RankingMode.Dense : RankingMode.Hybrid, weight);
            Assert.Equal(choice, serving.Ranking);
            var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(3)];
            var source = new HistorySource(serving.Bundle.Tokenizer, new Dictionary<string, CatalogItem>(), serving.Table, serving.Source).Encode([.. history.Select(h => h.ToCatalogItem())]);
            var expected = ItemRanker.Rank([serving.Bundle.Model], [source], serving.Tables, 10, choice.Mode, choice.DenseWeight)[0];
            var unweighted = ItemRanker.Rank([serving.Bundle.Model], [source], serving.Tables, 10, RankingMode.Hybrid)[0];
            Assert.NotEqual(unweighted.Select(r => r.Score), expected.Select(r => r.Score));   // the choice changes the answer
            using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1 }, NullLogger.Instance);

            var served = await engine.GenerateAsync(history, 10);

            Assert.Equal(expected.Select(r => serving.Table.ItemIds[r.Item]), served.Ids.Select(g => g.ItemId));
            Assert.All(expected.Zip(served.Ids), pair => Assert.Equal(pair.First.Score, pair.Second.Score, tolerance: 1e-4));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void A_new_item_can_take_its_text_neighbours_trained_vectors_instead_of_the_linear_projection()
    {
        var serving = ServingBundle.Load(TestServingBundle.DenseDirectory);
        var codes = UnusedId(serving.Table);
        const string text = "Moonlit lavender body butter";
        var projection = serving.Projection!;
        var pool = projection.Neighbours!;
        var model = serving.Bundle.Model;
        var trained = Enumerable.Range(0, model.Config.SourceItemCount).Select(r => model.SourceItems!.weight![r].data<float>().ToArray()).ToList();
        using var encoder = new OnnxSentenceEncoder(PretrainedEncoderPackage.Named(projection.Encoder), threads: 1);
        var embedded = encoder.Embed([text])[0];
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1, NewItemVectorSource = NewItemVectorSource.Neighbours }, NullLogger.Instance);

        engine.AddItems([new PrefixEntry(codes, "ADDED-1")], [text]);

        var vector = engine.VectorOf("ADDED-1");
        Assert.Equal(ItemVector.Text, vector.Source);
        Assert.Equal(pool.Compose(embedded, trained), vector.Values, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.NotEqual(projection.Project(embedded), vector.Values, (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void A_new_item_can_take_its_vector_from_the_map_trained_on_the_dense_heads_loss()
    {
        var serving = ServingBundle.Load(TestServingBundle.DenseDirectory);
        var codes = UnusedId(serving.Table);
        const string text = "Moonlit lavender body butter";
        var projection = serving.Projection!;
        Assert.NotNull(projection.Ranking);   // the test bundle's projection was fitted with its training examples
        using var encoder = new OnnxSentenceEncoder(PretrainedEncoderPackage.Named(projection.Encoder), threads: 1);
        var embedded = encoder.Embed([text])[0];
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1, NewItemVectorSource = NewItemVectorSource.Ranking }, NullLogger.Instance);

        engine.AddItems([new PrefixEntry(codes, "ADDED-1")], [text]);

        var vector = engine.VectorOf("ADDED-1");
        Assert.Equal(ItemVector.Text, vector.Source);
        Assert.Equal(projection.ProjectForRanking(embedded)!, vector.Values, (a, b) => Math.Abs(a - b) < 1e-5);
        Assert.NotEqual(projection.Project(embedded), vector.Values, (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Theory]
    [InlineData(NewItemVectorSource.Neighbours, 1)]
    [InlineData(NewItemVectorSource.Ranking, 2)]
    public void A_bundle_written_before_the_vector_source_existed_gives_new_items_the_linear_projection(NewItemVectorSource source, int format)
    {
        var legacy = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"legacy-projection-{Guid.NewGuid():N}");
        ServingBundle.CopyAsVersion(TestServingBundle.DenseDirectory, legacy, "legacy");
        try
        {
            // Format 1 was format 2 without the trailing pool: the same header and map. Format 2 was
            // format 3 without the trailing ranking flag, report and map.
            var path = Path.Combine(legacy, ItemTextProjection.FileName);
            var projection = ItemTextProjection.TryLoad(legacy)!;
            var map = (projection.TextDimension + 1) * projection.ItemDimension * sizeof(float);
            var bytes = File.ReadAllBytes(path);
            bytes = format == 1
                ? bytes[..(sizeof(int) + 1 + projection.Encoder.Length + (2 * sizeof(int)) + (2 * sizeof(double)) + map)]
                : bytes[..^(1 + (2 * sizeof(int)) + (4 * sizeof(double)) + map)];
            BitConverter.GetBytes(format).CopyTo(bytes, 0);
            File.WriteAllBytes(path, bytes);
            var serving = ServingBundle.Load(legacy);
            Assert.Null(source == NewItemVectorSource.Neighbours ? serving.Projection!.Neighbours : serving.Projection!.Ranking);
            const string text = "Moonlit lavender body butter";
            using var encoder = new OnnxSentenceEncoder(PretrainedEncoderPackage.Named(projection.Encoder), threads: 1);
            var expected = projection.Project(encoder.Embed([text])[0]);
            var lines = new LoggedLines<InferenceEngine>();
            using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1, NewItemVectorSource = source }, lines);

            engine.AddItems([new PrefixEntry(UnusedId(serving.Table), "ADDED-1")], [text]);

            Assert.Equal(expected, engine.VectorOf("ADDED-1").Values, (a, b) => Math.Abs(a - b) < 1e-4);
            // The operator is told once, at load, which source the version lacks; a current bundle has both and says nothing.
            var warning = Assert.Single(lines.Logged, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
            Assert.Contains(source == NewItemVectorSource.Neighbours ? "has no neighbour pool" : "has no ranking map", warning.Text, StringComparison.Ordinal);
            var quiet = new LoggedLines<InferenceEngine>();
            using (new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory), new InferenceOptions { Workers = 1, NewItemVectorSource = source }, quiet))
                Assert.DoesNotContain(quiet.Logged, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
        }
        finally
        {
            Directory.Delete(legacy, recursive: true);
        }
    }

    [Fact]
    public void A_new_items_projected_vector_can_be_given_the_trained_vectors_mean_length_keeping_its_direction()
    {
        var table = ServingBundle.Load(TestServingBundle.DenseDirectory).Table;
        var codes = UnusedId(table);
        const string text = "Moonlit lavender body butter";
        using var projected = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory), new InferenceOptions { Workers = 1 }, NullLogger.Instance);
        using var scaled = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory),
            new InferenceOptions { Workers = 1, NewItemVectorScale = NewItemVectorScale.TrainedNorm }, NullLogger.Instance);
        projected.AddItems([new PrefixEntry(codes, "ADDED-1")], [text]);
        scaled.AddItems([new PrefixEntry(codes, "ADDED-1")], [text]);

        static double Length(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));
        var meanTrained = table.ItemIds.Average(id => Length(scaled.VectorOf(id).Values));
        var before = projected.VectorOf("ADDED-1").Values;
        var after = scaled.VectorOf("ADDED-1").Values;
        Assert.Equal(meanTrained, Length(after), 3);
        Assert.NotEqual(Length(before), Length(after), 3);
        var cosine = before.Zip(after).Sum(p => (double)p.First * p.Second) / (Length(before) * Length(after));
        Assert.Equal(1, cosine, 5);
    }

    [Fact]
    public async Task A_dense_head_bundle_above_the_threshold_ranks_through_the_approximate_index_as_exact_ranking_does()
    {
        var exactServing = ServingBundle.Load(TestServingBundle.DenseDirectory);
        var items = exactServing.Bundle.Model.Config.SourceItemCount;
        using var exact = new InferenceEngine(exactServing, new InferenceOptions { Workers = 1, MaxBatchSize = 1 }, NullLogger.Instance);
        // Every item a candidate: the normaliser is exact, so the answers must be too.
        var saved = Directory.CreateTempSubdirectory("lmindexer-engine-hnsw-");
        var approximateOptions = new InferenceOptions { Workers = 1, MaxBatchSize = 1, ApproximateDenseAbove = items, ApproximateDenseCandidates = items, ApproximateIndexDirectory = saved.FullName };
        using var approximate = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory), approximateOptions, NullLogger.Instance);
        Assert.False(exact.RanksApproximately);   // the default threshold is far above this bundle
        Assert.True(approximate.RanksApproximately);
        Assert.False(approximate.ApproximateIndexOrigin!.Loaded);
        // The next load of the same bundle (a restart, another silo) reads the index back and answers alike.
        using var restarted = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory), approximateOptions, NullLogger.Instance);
        Assert.True(restarted.ApproximateIndexOrigin!.Loaded);
        Assert.Equal(approximate.ApproximateIndexOrigin.Path, restarted.ApproximateIndexOrigin.Path);
        var once = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Skip(7).Take(4)];
        Assert.Equal((await approximate.GenerateAsync(once, 10)).Ids.Select(g => (g.ItemId, g.Score)), (await restarted.GenerateAsync(once, 10)).Ids.Select(g => (g.ItemId, g.Score)));
        saved.Delete(recursive: true);

        foreach (var start in new[] { 0, 40, 120 })
        {
            var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Skip(start).Take(4)];
            var expected = await exact.GenerateAsync(history, 10);
            var served = await approximate.GenerateAsync(history, 10);
            Assert.Equal(expected.Ids.Select(g => g.ItemId), served.Ids.Select(g => g.ItemId));
            Assert.All(expected.Ids.Zip(served.Ids), pair => Assert.Equal(pair.First.Score, pair.Second.Score, tolerance: 1e-3));
        }

        // An item added after training gets its text vector above the threshold too, and ranks as in the exact engine.
        var table = exactServing.Table;
        var codes = UnusedId(table);
        Assert.True(approximate.NeedsItemTexts);
        exact.AddItems([new PrefixEntry(codes, "ADDED-1")], ["Moonlit lavender body butter"]);
        approximate.AddItems([new PrefixEntry(codes, "ADDED-1")], ["Moonlit lavender body butter"]);
        Assert.Equal(ItemVector.Text, approximate.VectorOf("ADDED-1").Source);
        var withAdded = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(4)];
        var all = await exact.GenerateAsync(withAdded, exact.ItemCount);
        var approximateAll = await approximate.GenerateAsync(withAdded, approximate.ItemCount);
        Assert.Equal(all.Ids.Single(g => g.ItemId == "ADDED-1").Score, approximateAll.Ids.Single(g => g.ItemId == "ADDED-1").Score, tolerance: 1e-3);
    }

    [Fact]
    public async Task A_full_queue_refuses_with_a_capacity_error_and_still_answers_what_it_took()
    {
        using var engine = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), new InferenceOptions { Workers = 1, MaxBatchSize = 1, MaxQueueLength = 1 }, NullLogger.Instance);
        var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(3)];
        var taken = new List<Task<GenerationResult>>();
        var refused = 0;
        // Enqueueing is synchronous and decoding takes milliseconds: 50 requests at once overflow a queue of one.
        for (var i = 0; i < 50; i++)
        {
            try
            {
                taken.Add(engine.GenerateAsync(history, 5));
            }
            catch (CapacityExceededException e)
            {
                refused++;
                Assert.Contains("is full", e.Message, StringComparison.Ordinal);
            }
        }
        Assert.InRange(refused, 1, 49);
        Assert.All(await Task.WhenAll(taken), result => Assert.NotEmpty(result.Ids));
    }

    [Fact]
    public async Task Stats_count_the_requests_the_batches_and_the_largest_batch_decoded()
    {
        var serving = ServingBundle.Load(TestServingBundle.Directory);
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1, MaxBatchSize = 4, MaxWaitMilliseconds = 100 }, NullLogger.Instance);
        var idle = engine.Stats("silo-1");
        Assert.Equal((0L, 0L, 0.0, 0, 0.0, 0.0), (idle.Requests, idle.Batches, idle.MeanBatchSize, idle.MaxBatchSize, idle.MeanBatchMilliseconds, idle.MeanQueueWaitMilliseconds));
        var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(3)];

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => engine.GenerateAsync(history, 5)));

        var stats = engine.Stats("silo-1");
        Assert.Equal((serving.Version, 0, 8L, "silo-1", engine.ItemCount), (stats.Version, stats.QueueLength, stats.Requests, stats.Silo, stats.Items));
        Assert.InRange(stats.Batches, 2, 8);                                   // at most four requests a batch
        Assert.Equal(8.0 / stats.Batches, stats.MeanBatchSize, 9);
        Assert.InRange(stats.MaxBatchSize, (int)Math.Ceiling(8.0 / stats.Batches), 4);
        Assert.True(stats.MeanBatchMilliseconds > 0, "decoding takes time");
        Assert.True(stats.MeanQueueWaitMilliseconds > 0, "every request waits for its batch to start");
    }

    [Fact]
    public async Task A_version_reading_item_text_refuses_item_ids_an_id_version_takes_them_and_no_request_goes_without_a_beam()
    {
        using var titles = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), new InferenceOptions { Workers = 1 }, NullLogger.Instance);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => titles.GenerateAsync((IReadOnlyList<string>)["item-1"], 5));
        Assert.Contains("send their records", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => titles.GenerateAsync((IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(1)], 0));
        Assert.Equal(0, titles.Stats("s").Requests);   // refused requests are not taken

        using var ids = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory), new InferenceOptions { Workers = 1 }, NullLogger.Instance);
        var generated = await ids.GenerateAsync((IReadOnlyList<string>)[.. TestServingBundle.Catalog.Items.Take(3).Select(i => i.ItemId)], 5);
        Assert.Equal(5, generated.Ids.Count);
        Assert.All(generated.Ids, g => Assert.False(string.IsNullOrEmpty(g.ItemId)));
    }

    private static async Task<GenerationResult[]> GenerateAllAsync(InferenceOptions options, IReadOnlyList<IReadOnlyList<ItemRecord>> histories, int expectedWorkers)
    {
        using var engine = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), options, NullLogger.Instance);
        Assert.Equal(expectedWorkers, engine.WorkerCount);
        return await Task.WhenAll(histories.Select(h => engine.GenerateAsync(h, 10)));
    }
}
