using LMIndexer.Core.Data;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using TorchSharp;
using static TorchSharp.torch;
using LMIndexer.Core.Training;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class SemanticIndexingPipelineTests
{
    private static readonly SemanticIndexerOptions FastOptions = new()
    {
        CodebookSize = 4,
        CounterSize = 2,          // deliberately too small: the pipeline must grow it
        MaxTokens = 32,
        BatchSize = 16,
        WarmupEpochs = 1,
        ContinuousEpochs = 1,
        CodebookEpochs = 1,
        KMeans = new KMeansOptions { Restarts = 2, MaxIterations = 50 },
    };

    [Theory]
    [InlineData("t5-scratch", 0)]
    [InlineData("minilm", 1)]   // the packaged pretrained encoder, its top layer fine-tuned: saved and reloaded with the bundle
    public void Trained_bundle_reassigns_exactly_the_saved_ids_and_ids_are_unique(string encoder, int trainableLayers)
    {
        using var temp = new TempDirectory();
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 96, Users = 5, Seed = 4 });
        var plan = new IndexingPlan { Indexer = FastOptions with { Encoder = encoder, EncoderTrainableLayers = trainableLayers }, ModelSize = "tiny", PretrainSteps = 5 };
        var outcome = SemanticIndexing.Run(catalog, plan);
        Assert.Equal(encoder == "t5-scratch" ? "cl100k_base" : "wordpiece:minilm", outcome.Bundle.Tokenizer.Base.Name);
        Assert.Equal(encoder, outcome.Bundle.Manifest.Properties["encoder"]);
        var directory = Path.Combine(temp.Path, "indexer");
        SemanticIndexing.Save(outcome, directory);
        outcome.Bundle.Dispose();

        var table = SemanticIdTable.Load(Path.Combine(directory, SemanticIdTable.FileName));
        Assert.Equal(catalog.Items.Select(i => i.ItemId), table.ItemIds);
        Assert.Equal(table.Count, table.Ids.Select(id => string.Join(',', id)).Distinct().Count());   // unique after the counter
        Assert.All(table.Ids, id => Assert.Equal(3, id.Length));
        Assert.All(table.Ids, id => Assert.InRange(id[0], 0, 3));
        Assert.True(table.RequiredCounterSize > 2, "96 items in 16 code pairs must overflow a counter of 2");

        using var loaded = IndexerBundle.Load(directory);
        Assert.Equal(2 * table.RequiredCounterSize, loaded.Bundle.Tokenizer.IdPositionSizes[^1]);    // grown, with headroom
        var reassigned = loaded.AssignCodes([.. catalog.Items.Select(ItemTextBuilder.Build)], FastOptions.MaxTokens);
        Assert.Equal(table.Ids.Select(id => string.Join(',', id.Take(2))), reassigned.Select(c => string.Join(',', c)));
        // Encoding each text once for both positions gives the codes of decoding position by position.
        var tokens = catalog.Items.Select(i => loaded.Bundle.Tokenizer.EncodeWithEos(ItemTextBuilder.Build(i), FastOptions.MaxTokens)).ToList();
        var byPosition = tokens.Select(_ => new long[2]).ToArray();
        for (var position = 1; position <= 2; position++)
        {
            var assigned = SemanticIdAssigner.AssignPosition(loaded.Indexer, tokens, byPosition, position);
            for (var i = 0; i < assigned.Length; i++)
                byPosition[i][position - 1] = assigned[i];
        }
        Assert.Equal(byPosition.Select(c => string.Join(',', c)), reassigned.Select(c => string.Join(',', c)));

        var (same, sameReport) = loaded.AssignItems(catalog.Items);
        Assert.Equal(new AssignmentReport(96, 0, 0), sameReport);
        Assert.Equal(table.Ids.Select(id => string.Join(',', id)), same.Ids.Select(id => string.Join(',', id)));

        // Read in chunks (as `index assign` streams a file), the same items get the same IDs; an item
        // seen again in a later chunk is judged against the ID an earlier chunk gave it.
        var reported = new List<int>();
        var (chunked, chunkedReport) = loaded.AssignItems([.. catalog.Items, catalog.Items[3]], new InlineProgress<int>(reported.Add), chunkSize: 10);
        Assert.Equal(new AssignmentReport(97, 0, 0), chunkedReport);
        Assert.Equal(same.Ids.Select(id => string.Join(',', id)), chunked.Ids.Select(id => string.Join(',', id)));
        Assert.Equal([10, 20, 30, 40, 50, 60, 70, 80, 90, 97], reported);

        var twin = catalog.Items[7] with { ItemId = "NEW-1" };
        var (grown, grownReport) = loaded.AssignItems([twin]);
        Assert.Equal(new AssignmentReport(0, 0, 1), grownReport);
        var twinId = grown.Find("NEW-1")!;
        var original = table.Find(catalog.Items[7].ItemId)!;
        Assert.Equal(original.Take(2), twinId.Take(2));
        var groupSize = table.Ids.Count(id => id[0] == original[0] && id[1] == original[1]);
        Assert.Equal(groupSize, twinId[2]);                                                       // the next free counter
        Assert.Equal(97, grown.Count);

        Assert.Equal(encoder != "t5-scratch", File.Exists(Path.Combine(directory, LMIndexer.Core.Encoders.PretrainedSourceEncoder.FileName)));
        var stats = SemanticIndexing.ReadStats(Path.Combine(directory, SemanticIndexing.StatsFile));
        Assert.Equal(96, stats.Items);
        Assert.Contains("full", stats.AmiFirstCode.Keys);
    }

    [Theory]
    [InlineData("minilm")]       // the default recipe's: the packaged encoder's sentence vectors
    [InlineData("t5-scratch")]   // the backbone's pooled states
    public void Rq_vae_bundle_codes_new_items_as_it_coded_the_catalog(string encoder)
    {
        using var temp = new TempDirectory();
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 96, Users = 5, Seed = 4 });
        var options = FastOptions with
        {
            Encoder = encoder,
            Method = IdMethods.RqVae,
            RqVae = new LMIndexer.Core.Indexing.ResidualQuantization.RqVaeOptions { Epochs = 10, HiddenDims = [32], LatentDim = 8, BatchSize = 32 },
        };
        var steps = new List<TrainingProgress>();
        var plan = new IndexingPlan { Indexer = options, ModelSize = "tiny", PretrainSteps = 0 };
        var outcome = SemanticIndexing.Run(catalog, plan, new InlineProgress<TrainingProgress>(steps.Add));
        Assert.Equal(IdMethods.PlannedSteps(plan, 96), steps.Count(s => s.Stage == "rqvae"));
        Assert.Equal(("indexer", "rqvae"), (outcome.Bundle.Manifest.Kind, outcome.Bundle.Manifest.Properties["method"]));
        var directory = Path.Combine(temp.Path, "indexer");
        SemanticIndexing.Save(outcome, directory);
        outcome.Bundle.Dispose();
        var table = outcome.Table;
        Assert.Equal(table.Count, table.Ids.Select(id => string.Join(',', id)).Distinct().Count());
        Assert.All(table.Ids, id => Assert.InRange(id[0], 0, 3));

        using var loaded = IndexerBundle.Load(directory);
        Assert.Equal("rqvae", loaded.Method);
        Assert.Throws<InvalidOperationException>(() => loaded.Indexer);
        var reassigned = loaded.AssignCodes([.. catalog.Items.Select(ItemTextBuilder.Build)], FastOptions.MaxTokens);
        Assert.Equal(table.Ids.Select(id => string.Join(',', id.Take(2))), reassigned.Select(c => string.Join(',', c)));
        var (same, report) = loaded.AssignItems(catalog.Items, chunkSize: 10);
        Assert.Equal(new AssignmentReport(96, 0, 0), report);
        Assert.Equal(table.Ids.Select(id => string.Join(',', id)), same.Ids.Select(id => string.Join(',', id)));

        var twin = catalog.Items[7] with { ItemId = "NEW-1" };
        var (grown, grownReport) = loaded.AssignItems([twin]);
        Assert.Equal(new AssignmentReport(0, 0, 1), grownReport);
        var original = table.Find(catalog.Items[7].ItemId)!;
        Assert.Equal(original.Take(2), grown.Find("NEW-1")!.Take(2));
        Assert.Equal(table.Ids.Count(id => id[0] == original[0] && id[1] == original[1]), grown.Find("NEW-1")![2]);   // the next free counter
    }

    [Fact]
    public void Learned_first_codes_track_categories_far_better_than_random_codes()
    {
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 240, Users = 5, Seed = 12 });
        var options = new SemanticIndexerOptions
        {
            CodebookSize = 8,
            CounterSize = 64,
            MaxTokens = 48,
            WarmupEpochs = 3,
            ContinuousEpochs = 3,
            CodebookEpochs = 3,
            KMeans = new KMeansOptions { Restarts = 3 },
        };
        var outcome = SemanticIndexing.Run(catalog, new IndexingPlan { Indexer = options, ModelSize = "tiny", PretrainSteps = 300 });
        outcome.Bundle.Dispose();
        var departments = catalog.Items.Select(i => i.CategoryLabel(1)).ToList();
        var learned = outcome.Table.Ids.Select(id => id[0]).ToList();
        var random = new Random(1);
        var control = learned.Select(_ => (long)random.Next(8)).ToList();
        var learnedAmi = ClusteringMetrics.AdjustedMutualInformation(departments, learned);
        var controlAmi = ClusteringMetrics.AdjustedMutualInformation(departments, control);
        Assert.True(learnedAmi > controlAmi + 0.15, $"AMI of c1 {learnedAmi:F3} vs random control {controlAmi:F3}");
        Assert.Equal(learnedAmi, outcome.Stats.AmiFirstCode["level-1"], 10);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // bf16 with fp32 masters: frozen weights must come back bit-exact, in fp32
    public void Warmup_changes_only_the_reconstructor(bool bf16)
    {
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 64, Users = 5, Seed = 5 });
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var tokenizer = CatalogTokenizer.Build(texts, FastOptions.IdPositionSizes());
        torch.manual_seed(3);
        var t5 = new T5Model(T5Config.Tiny(tokenizer.VocabSize));
        using var indexer = new SemanticIndexerModel(t5, tokenizer, 2, FastOptions.CodebookSize, 1);
        var before = indexer.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var tokens = texts.Select(t => tokenizer.EncodeWithEos(t, 32)).ToList();
        // Only the warm-up stage: no continuous or codebook epochs, one position.
        ProgressiveIndexerTrainer.RunWarmup(indexer, tokens, FastOptions with { Positions = 1, ContinuousEpochs = 0, CodebookEpochs = 0, WarmupEpochs = 2, BFloat16 = bf16 });
        Assert.All(indexer.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        foreach (var (name, value) in indexer.state_dict().Where(kv => !kv.Key.StartsWith("reconstructor.", StringComparison.Ordinal)))
            Assert.True(value.allclose(before[name], rtol: 0, atol: 0), $"{name} changed during the warm-up");
        Assert.Contains(indexer.state_dict(), kv => kv.Key.StartsWith("reconstructor.", StringComparison.Ordinal) && !kv.Value.allclose(before[kv.Key], rtol: 0, atol: 0));
    }
}
