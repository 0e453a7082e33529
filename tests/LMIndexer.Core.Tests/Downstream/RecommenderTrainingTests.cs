using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Training;
using TorchSharp;

namespace LMIndexer.Core.Tests.Downstream;

/// <summary>One small index bundle shared by the recommender tests (LMIndexer on the packaged pretrained encoder at the smallest budgets: quick to build, and IDs that follow the categories).</summary>
public sealed class RecommenderFixture : IDisposable
{
    private readonly TempDirectory temp = new();

    public RecommenderFixture()
    {
        Catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 200, Users = 700, Seed = 3, MinSequenceLength = 6, MaxSequenceLength = 12 });
        var plan = new IndexingPlan
        {
            ModelSize = "tiny",
            PretrainSteps = 20,
            Indexer = new SemanticIndexerOptions
            {
                CodebookSize = 8, CounterSize = 64, MaxTokens = 32,
                WarmupEpochs = 1, ContinuousEpochs = 1, CodebookEpochs = 1,
                Encoder = "minilm",
                KMeans = new KMeansOptions { Restarts = 2, MaxIterations = 50 },
            },
        };
        var outcome = SemanticIndexing.Run(Catalog, plan);
        IndexDirectory = System.IO.Path.Combine(temp.Path, "index");
        SemanticIndexing.Save(outcome, IndexDirectory);
        outcome.Bundle.Dispose();
    }

    public Catalog Catalog { get; }

    public string IndexDirectory { get; }

    public string Path => temp.Path;

    public void Dispose() => temp.Dispose();
}

public sealed class RecommenderTrainingTests(RecommenderFixture fixture) : IClassFixture<RecommenderFixture>
{
    // Titles read by the bundle's T5 encoder: these tests are about fine-tuning's mechanics, and reading
    // every history through MiniLM costs minutes here (PretrainedSourceTrainingTests covers that path).
    private static GenerativePlan Plan(int steps, string? checkpoint = null) => new()
    {
        IndexerEncoder = false,
        Source = new HistorySourceOptions { Mode = SourceMode.Titles, MaxSourceTokens = 48, MaxItemTokens = 12 },
        FineTune = new FineTuneOptions
        {
            Steps = steps,
            BatchSize = 32,
            EvalEvery = 100,
            ValidationLimit = 64,
            Evaluation = new EvaluationOptions { Beams = 10 },
            Optimizer = new OptimizerOptions { LearningRate = 3e-3, WarmupRatio = 0.05 },
            CheckpointDirectory = checkpoint,
        },
    };

    [Fact]
    public void Fine_tuned_recommender_beats_popularity_and_round_trips_as_a_serving_bundle()
    {
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Plan(400));
        var options = new EvaluationOptions { Beams = 20 };
        var test = outcome.Data.Test;
        var popularity = GenerativeEvaluator.EvaluateRanking(test, _ => outcome.Data.Popularity, options);
        var directory = System.IO.Path.Combine(fixture.Path, "serving");
        outcome.Save(directory);

        using var serving = ServingBundle.Load(directory);
        Assert.Equal(SourceMode.Titles, serving.Source.Mode);
        Assert.Equal(48, serving.Source.MaxSourceTokens);
        var model = GenerativeEvaluator.Evaluate(serving.Bundle.Model, test, serving.Tables, options);
        Assert.Equal(test.Count, model.Examples);
        Assert.True(model.Metrics["recall@10"] > popularity.Metrics["recall@10"],
            $"recommender recall@10 {model.Metrics["recall@10"]:F4} should beat popularity {popularity.Metrics["recall@10"]:F4}");
        Assert.True(outcome.Report.Validations.Count >= 4);
        Assert.InRange(outcome.Report.BestStep, 100, 400);
        // The saved bundle keeps the curve its step was chosen on.
        Assert.Equal(outcome.Report.Validations.Select(v => (v.Step, v.Metrics["ndcg@10"])),
            ValidationCurve.Read(serving.Bundle.Manifest.Properties, "ndcg@10").Select(v => (v.Step, v.Metrics["ndcg@10"])));
    }

    // Each case switches on what a resume must restore besides the weights and the optimizer, which
    // every case checks; the cases are few because each trains three times.
    [Theory]
    [InlineData(true, 0, 0, false)]       // bf16 compute: the checkpoint must hold the fp32 masters, not the rounded weights
    [InlineData(false, 0.99, 0, false)]   // the weight average is checkpointed and resumed with its update count
    [InlineData(false, 0, 0.3, true)]     // history dropout draws the same items, and length-grouped batches replay as they were
    public void Interrupted_fine_tuning_resumes_and_ends_where_an_uninterrupted_run_ends(bool bfloat16, double weightAverage, double historyDropout, bool groupByLength)
    {
        var checkpoint = System.IO.Path.Combine(fixture.Path, $"resume-checkpoint-{bfloat16}-{weightAverage}-{historyDropout}-{groupByLength}");
        // bf16 matmuls are about ten times slower on these CPUs, so that case trains on less: what it
        // checks (fp32 masters in the checkpoint) needs validations around the stop, not many batches.
        var steps = bfloat16 ? 8 : 40;
        var plan = Plan(steps, checkpoint) with
        {
            FineTune = Plan(steps, checkpoint).FineTune with
            {
                EvalEvery = steps / 4,
                BatchSize = bfloat16 ? 8 : 32,
                ValidationLimit = bfloat16 ? 8 : 16,
                BFloat16 = bfloat16,
                WeightAverage = weightAverage,
                HistoryDropout = historyDropout,
                GroupByLength = groupByLength,
            },
        };
        if (historyDropout > 0)
            plan = plan with { Source = IdSource };
        using var cancel = new CancellationTokenSource();
        var progress = new InlineProgress<TrainingProgress>(p =>
        {
            if (p.Step == steps * 5 / 8)   // between the second and third checkpoints
                cancel.Cancel();
        });
        Assert.ThrowsAny<OperationCanceledException>(() => RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan, progress, cancel.Token));
        using var resumed = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        Assert.Equal(steps / 2, resumed.Report.ResumedAtStep);
        using var straight = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan with { FineTune = plan.FineTune with { CheckpointDirectory = null } });
        Assert.Equal(0, straight.Report.ResumedAtStep);
        Assert.Equal(straight.Report.BestStep, resumed.Report.BestStep);
        Assert.Equal(straight.Report.Validations.Select(v => v.Metrics["ndcg@10"]), resumed.Report.Validations.Select(v => v.Metrics["ndcg@10"]));
        var a = straight.Bundle.Model.state_dict();
        var b = resumed.Bundle.Model.state_dict();
        foreach (var (name, tensor) in a)
        {
            Assert.Equal(TorchSharp.torch.ScalarType.Float32, b[name].dtype);
            Assert.Equal(0f, (tensor - b[name]).abs().max().item<float>());
        }
    }

    private static readonly HistorySourceOptions IdSource = new() { Mode = SourceMode.Ids, MaxSourceTokens = 16 };

    [Fact]
    public void History_dropout_changes_what_an_id_source_trains_on_is_recorded_and_needs_id_sources() =>
        AssertTrainingAugmentation(
            probability => Plan(60) with
            {
                Source = IdSource,
                FineTune = Plan(60).FineTune with { EvalEvery = 0, ValidationLimit = 0, HistoryDropout = probability },
            },
            "historyDropout", Plan(1).Source, "needs ID or item sources");

    /// <summary>
    /// A source augmentation at p 0.5 trains the same seed to other weights, is recorded in the
    /// manifest under <paramref name="property"/>, leaves the evaluation sources whole, and is
    /// refused on <paramref name="unsupportedSource"/>.
    /// </summary>
    private void AssertTrainingAugmentation(Func<double, GenerativePlan> dropping, string property, HistorySourceOptions unsupportedSource, string refusal)
    {
        using var whole = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, dropping(0));
        using var dropped = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, dropping(0.5));

        Assert.True(MaxDifference(whole, dropped) > 1e-4f, "the same seed trained on other sources ends elsewhere");
        Assert.Equal("0.5", dropped.Bundle.Manifest.Properties[property]);
        Assert.Equal("0", whole.Bundle.Manifest.Properties[property]);
        // Evaluation sources are never augmented.
        Assert.Equal(whole.Data.Test.Select(e => e.Source), dropped.Data.Test.Select(e => e.Source));
        var refused = Assert.Throws<ArgumentException>(() => RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, dropping(0.5) with { Source = unsupportedSource }));
        Assert.Contains(refusal, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Length_grouped_batches_change_the_batches_and_are_recorded()
    {
        GenerativePlan Grouped(bool group) => Plan(60) with { FineTune = Plan(60).FineTune with { EvalEvery = 0, ValidationLimit = 0, GroupByLength = group } };
        using var uniform = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Grouped(false));
        using var grouped = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Grouped(true));

        Assert.True(MaxDifference(uniform, grouped) > 1e-4f, "the same seed batched another way ends elsewhere");
        Assert.Equal("true", grouped.Bundle.Manifest.Properties["groupByLength"]);
        Assert.Equal("false", uniform.Bundle.Manifest.Properties["groupByLength"]);
        Assert.Equal("false", GenerativeTraining.UnrecordedOptimizerProperty("groupByLength"));
    }

    [Fact]
    public void A_weight_averaged_run_validates_keeps_and_returns_the_average()
    {
        FineTuneOptions Averaged(double decay) => Plan(100).FineTune with { EvalEvery = 50, ValidationLimit = 16, WeightAverage = decay };
        using var last = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Plan(100) with { FineTune = Averaged(0) });
        // A vanishing decay makes the average the last weights: the run must match the unaveraged one.
        using var tracking = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Plan(100) with { FineTune = Averaged(1e-9) });
        using var averaged = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Plan(100) with { FineTune = Averaged(0.99) });

        Assert.Equal(last.Report.Validations.Select(v => v.Metrics["ndcg@10"]), tracking.Report.Validations.Select(v => v.Metrics["ndcg@10"]));
        Assert.True(MaxDifference(last, tracking) < 1e-5f);
        Assert.True(MaxDifference(last, averaged) > 1e-3f, "the 0.99 average lags the last weights");
        Assert.Equal("0.99", averaged.Bundle.Manifest.Properties["weightAverage"]);
        Assert.Equal("0", last.Bundle.Manifest.Properties["weightAverage"]);
    }

    private static float MaxDifference(GenerativeOutcome a, GenerativeOutcome b)
    {
        var other = b.Bundle.Model.state_dict();
        return a.Bundle.Model.state_dict().Max(w => (w.Value - other[w.Key]).abs().max().item<float>());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]   // the rebuilt network reads through the indexer's MiniLM as the original did
    public void A_dropout_override_fine_tunes_the_bundle_weights_at_the_new_rate(bool indexerEncoder)
    {
        // lr 0: the step changes nothing, so the outcome's weights are exactly the ones it started from.
        var plan = Plan(1) with { Dropout = 0, IndexerEncoder = indexerEncoder, FineTune = Plan(1).FineTune with { EvalEvery = 0, ValidationLimit = 0, Optimizer = new OptimizerOptions { LearningRate = 0 } } };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        using var original = LMIndexer.Core.Checkpoints.ModelBundle.Load(fixture.IndexDirectory, withSourceEncoder: indexerEncoder);
        Assert.Equal(indexerEncoder, outcome.Bundle.Model.SourceEncoder is not null);
        Assert.NotEqual(0, original.Model.Config.DropoutRate);
        Assert.Equal(0, outcome.Bundle.Model.Config.DropoutRate);
        Assert.Equal("0", outcome.Bundle.Manifest.Properties["dropout"]);
        // rec bench --reuse compares these before reusing a bundle.
        Assert.Equal("0", outcome.Bundle.Manifest.Properties["lr"]);
        Assert.Equal(plan.FineTune.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), outcome.Bundle.Manifest.Properties["batchSize"]);
        Assert.Equal(plan.FineTune.Optimizer.WarmupRatio.ToString(System.Globalization.CultureInfo.InvariantCulture), outcome.Bundle.Manifest.Properties["warmupRatio"]);
        var tuned = outcome.Bundle.Model.state_dict();
        Assert.Equal(original.Model.state_dict().Keys.Order(), tuned.Keys.Order());
        foreach (var (name, tensor) in original.Model.state_dict())
            Assert.Equal(0f, (tensor - tuned[name]).abs().max().item<float>());
    }

    [Fact]
    public void A_fresh_model_trains_on_ids_kept_without_the_indexers_network_exactly_as_on_the_whole_bundle()
    {
        // What a recorded index run keeps of a bundle: its manifest, vocabulary and ID table.
        var idsOnly = System.IO.Path.Combine(fixture.Path, "ids-only");
        Directory.CreateDirectory(idsOnly);
        foreach (var file in new[] { LMIndexer.Core.Checkpoints.ModelBundle.ManifestFile, LMIndexer.Core.Checkpoints.ModelBundle.TokenizerFile, SemanticIdTable.FileName })
            File.Copy(System.IO.Path.Combine(fixture.IndexDirectory, file), System.IO.Path.Combine(idsOnly, file), overwrite: true);
        var plan = Plan(20) with
        {
            FreshModel = true,
            Dropout = 0.1,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
            FineTune = Plan(20).FineTune with { EvalEvery = 0, ValidationLimit = 0, HistoryDropout = 0.2 },
        };

        using var fromBundle = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        using var fromIds = RecommenderTraining.Run(fixture.Catalog, idsOnly, plan);

        var expected = fromBundle.Bundle.Model.state_dict();
        var actual = fromIds.Bundle.Model.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.True((tensor - actual[name]).abs().max().item<float>() == 0f, $"{name} differs");
        Assert.Equal(fromBundle.Bundle.Tokenizer.VocabSize, fromIds.Bundle.Tokenizer.VocabSize);
        Assert.Equal(fromBundle.Bundle.Manifest.Properties["indexVersion"], fromIds.Bundle.Manifest.Properties["indexVersion"]);

        // Fine-tuning the indexer's own network needs that network.
        var error = Assert.Throws<FileNotFoundException>(() => RecommenderTraining.Run(fixture.Catalog, idsOnly, Plan(1)));
        Assert.Contains("without the indexer's network", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fresh_model_of_a_named_size_replaces_the_bundle_network_and_is_recorded_with_its_regularisers_for_reuse()
    {
        var plan = Plan(1) with
        {
            FreshModel = true,
            FreshModelSize = "mini",
            FineTune = Plan(1).FineTune with { EvalEvery = 0, ValidationLimit = 0, LabelSmoothing = 0.1, Optimizer = Plan(1).FineTune.Optimizer with { WeightDecay = 0.05 } },
        };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        using var original = LMIndexer.Core.Checkpoints.ModelBundle.Load(fixture.IndexDirectory);
        var mini = LMIndexer.Core.Model.T5Config.Mini(original.Model.Config.VocabSize);
        Assert.NotEqual(original.Model.Config.DModel, outcome.Bundle.Model.Config.DModel);
        Assert.Equal((mini.DModel, mini.DFf, mini.NumLayers, mini.VocabSize),
            (outcome.Bundle.Model.Config.DModel, outcome.Bundle.Model.Config.DFf, outcome.Bundle.Model.Config.NumLayers, outcome.Bundle.Model.Config.VocabSize));
        Assert.Equal("true", outcome.Bundle.Manifest.Properties["freshModel"]);
        Assert.Equal("mini", outcome.Bundle.Manifest.Properties["modelSize"]);
        Assert.Equal(("0.05", "0.1"), (outcome.Bundle.Manifest.Properties["weightDecay"], outcome.Bundle.Manifest.Properties["labelSmoothing"]));
        Assert.True(double.Parse(outcome.Bundle.Manifest.Properties["trainSeconds"], System.Globalization.CultureInfo.InvariantCulture) >= 0);
        Assert.Equal([mini.VocabSize, mini.DModel], outcome.Bundle.Model.Shared.weight!.shape);
    }

    [Fact]
    public void A_fresh_model_reading_ids_has_an_id_only_vocabulary_and_serves_from_its_bundle()
    {
        var plan = Plan(400) with
        {
            FreshModel = true,
            Dropout = 0,
            Source = new HistorySourceOptions { Mode = SourceMode.Ids, MaxSourceTokens = 16 },
        };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        using var original = LMIndexer.Core.Checkpoints.ModelBundle.Load(fixture.IndexDirectory);
        var tokenizer = outcome.Bundle.Tokenizer;
        Assert.Equal(0, tokenizer.TextTokenCount);
        Assert.Equal(original.Tokenizer.IdPositionSizes, tokenizer.IdPositionSizes);
        Assert.Equal(tokenizer.VocabSize, outcome.Bundle.Model.Config.VocabSize);
        Assert.True(tokenizer.VocabSize < original.Tokenizer.VocabSize);
        Assert.Equal("ids", outcome.Bundle.Manifest.Properties["vocabulary"]);
        Assert.Equal("64", outcome.Bundle.Manifest.Properties["validationLimit"]);
        // Sources are ID tokens and the closing </s>, nothing between items (no text to join with).
        Assert.All(outcome.Data.Test, example =>
        {
            Assert.Equal(LMIndexer.Core.Text.CatalogTokenizer.EosId, example.Source[^1]);
            Assert.All(example.Source[..^1], token => Assert.True(tokenizer.TryParseIdToken(token, out _, out _)));
            Assert.True(tokenizer.TryParseIdToken(example.Source[0], out var position, out _) && position == 0);
        });

        var directory = System.IO.Path.Combine(fixture.Path, "serving-ids");
        outcome.Save(directory);
        using var serving = ServingBundle.Load(directory);
        Assert.Equal(0, serving.Bundle.Tokenizer.TextTokenCount);
        AssertServedRecommenderBeatsPopularity(serving, outcome.Data);
    }

    [Fact]
    public void A_fresh_model_reading_item_tokens_learns_a_vector_per_item_and_serves_them_from_its_bundle()
    {
        var plan = Plan(300) with
        {
            FreshModel = true,
            Dropout = 0,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
            FineTune = Plan(300).FineTune with { HistoryDropout = 0.2 },
        };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        var tokenizer = outcome.Bundle.Tokenizer;
        var config = outcome.Bundle.Model.Config;
        Assert.Equal(outcome.Table.Count, config.SourceItemCount);
        Assert.Equal("ids+items", outcome.Bundle.Manifest.Properties["source"]);
        // Every item of a source is its ID tokens then its own token, above the vocabulary.
        Assert.All(outcome.Data.Test, example =>
        {
            var items = example.Source.Where(t => t >= tokenizer.VocabSize).ToList();
            Assert.NotEmpty(items);
            Assert.All(items, t => Assert.InRange(t, tokenizer.VocabSize, tokenizer.VocabSize + config.SourceItemCount - 1));
            var starts = example.Source.Count(t => tokenizer.TryParseIdToken(t, out var position, out _) && position == 0);
            Assert.Equal(starts, items.Count + (example.Source[^2] < tokenizer.VocabSize ? 1 : 0));
        });

        var directory = System.IO.Path.Combine(fixture.Path, "serving-items");
        outcome.Save(directory);
        using var serving = ServingBundle.Load(directory);
        Assert.Equal(config.SourceItemCount, serving.Bundle.Model.Config.SourceItemCount);
        Assert.Equal(config.SourceItemCount, serving.Source.ItemTokenCount);
        Assert.Equal(0f, (serving.Bundle.Model.SourceItems!.weight! - outcome.Bundle.Model.SourceItems!.weight!).abs().max().item<float>());
        AssertServedRecommenderBeatsPopularity(serving, outcome.Data);

        var text = Assert.Throws<ArgumentException>(() => RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan with { FreshModel = false }));
        Assert.Contains("need a fresh network", text.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refit_trains_on_the_validation_targets_too_keeps_its_last_weights_and_says_so_in_its_bundle()
    {
        var plan = Plan(6) with { FineTune = Plan(6).FineTune with { EvalEvery = 3 }, Windows = TrainingWindows.AllPrefixes, Refit = true };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);

        Assert.Empty(outcome.Data.Validation);
        var plain = LeaveOneOut.Split(fixture.Catalog.Users, plan.Windows, plan.Passes, plan.FineTune.Seed);
        var refit = LeaveOneOut.Split(fixture.Catalog.Users, plan.Windows, plan.Passes, plan.FineTune.Seed, refit: true);
        Assert.Equal(refit.Train.Count, outcome.Data.Train.Count);
        Assert.Equal(plain.Train.Count + plain.Validation.Count, refit.Train.Count);   // every validation target trains
        Assert.Equal(plain.Test.Count, outcome.Data.Test.Count);
        Assert.Equal(6, outcome.Report.BestStep);
        Assert.All(outcome.Report.Validations, v => Assert.Empty(v.Metrics));   // losses only: nothing was validated
        Assert.Equal("true", outcome.Bundle.Manifest.Properties["refit"]);
        Assert.Empty(ValidationCurve.Read(outcome.Bundle.Manifest.Properties, "ndcg@10"));
    }

    [Fact]
    public void A_fresh_model_reading_item_tokens_alone_trains_with_history_dropout_and_a_dense_head_and_serves_from_its_bundle()
    {
        var plan = Plan(300) with
        {
            FreshModel = true,
            Dropout = 0,
            Source = new HistorySourceOptions { Mode = SourceMode.Items, MaxSourceTokens = 6 },
            FineTune = Plan(300).FineTune with { HistoryDropout = 0.2, DenseLoss = 1 },
        };
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan);
        var tokenizer = outcome.Bundle.Tokenizer;
        var config = outcome.Bundle.Model.Config;
        Assert.Equal(0, tokenizer.TextTokenCount);   // the network never reads text
        Assert.Equal(outcome.Table.Count, config.SourceItemCount);
        Assert.Equal("items", outcome.Bundle.Manifest.Properties["source"]);
        // Every source token but </s> is an item token: no ID token is read (the decoder still writes IDs).
        Assert.All(outcome.Data.Test, example =>
        {
            Assert.InRange(example.Source.Length, 2, 6);
            Assert.All(example.Source[..^1], t => Assert.InRange(t, tokenizer.VocabSize, tokenizer.VocabSize + config.SourceItemCount - 1));
        });

        var directory = System.IO.Path.Combine(fixture.Path, "serving-items-only");
        outcome.Save(directory);
        using var serving = ServingBundle.Load(directory);
        Assert.Equal(SourceMode.Items, serving.Source.Mode);
        Assert.Equal(config.SourceItemCount, serving.Source.ItemTokenCount);
        AssertServedRecommenderBeatsPopularity(serving, outcome.Data);

        var itemDropout = Assert.Throws<ArgumentException>(() => RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan with { FineTune = plan.FineTune with { ItemDropout = 0.2 } }));
        Assert.Contains("Item-vector dropout needs item tokens (source ids+items) beside ID tokens, not items", itemDropout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Item_vector_dropout_changes_what_an_item_source_trains_on_is_recorded_and_needs_item_tokens() =>
        AssertTrainingAugmentation(
            probability => Plan(60) with
            {
                FreshModel = true,
                Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
                FineTune = Plan(60).FineTune with { EvalEvery = 0, ValidationLimit = 0, ItemDropout = probability },
            },
            "itemDropout", IdSource, "needs item tokens (source ids+items)");

    [Fact]
    public void Item_vectors_start_from_their_ids_when_asked_which_is_recorded_and_needs_item_tokens()
    {
        GenerativePlan Items(ItemVectorInit init) => Plan(1) with
        {
            FreshModel = true,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
            FineTune = Plan(1).FineTune with { EvalEvery = 0, ValidationLimit = 0 },
            ItemInit = init,
        };
        using var drawn = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Items(ItemVectorInit.Random));
        using var fromIds = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Items(ItemVectorInit.Ids));

        Assert.Equal("ids", fromIds.Bundle.Manifest.Properties["itemInit"]);
        Assert.Equal("random", drawn.Bundle.Manifest.Properties["itemInit"]);
        // One optimizer step moves no weight far: the item vectors are still about their IDs' mean.
        Assert.True(DistanceFromIdMeans(fromIds) < 0.05f, $"{DistanceFromIdMeans(fromIds)}");
        Assert.True(DistanceFromIdMeans(drawn) > 0.5f, $"{DistanceFromIdMeans(drawn)}");
        var refused = Assert.Throws<ArgumentException>(() => RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, Items(ItemVectorInit.Zero) with { Source = IdSource }));
        Assert.Contains("initialisation needs item tokens (source ids+items or items)", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dense_item_head_trains_beside_the_ids_is_recorded_and_serves_hybrid_from_its_bundle()
    {
        var plan = Plan(300) with
        {
            FreshModel = true,
            Dropout = 0,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 21 },
            FineTune = Plan(300).FineTune with { DenseLoss = 1 },
        };
        var ranking = new List<TrainingProgress>();
        using var outcome = RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan,
            new InlineProgress<TrainingProgress>(p => { if (p.Stage == GenerativeTraining.RankingStage) ranking.Add(p); }));
        Assert.True(outcome.Bundle.Model.Config.DenseItemHead);
        Assert.Equal("1", outcome.Bundle.Manifest.Properties["denseLoss"]);

        var directory = System.IO.Path.Combine(fixture.Path, "serving-dense");
        outcome.Save(directory);
        using var serving = ServingBundle.Load(directory);
        Assert.True(serving.Bundle.Model.Config.DenseItemHead);
        Assert.Equal(0f, (serving.Bundle.Model.DenseHead!.weight - outcome.Bundle.Model.DenseHead!.weight).abs().max().item<float>());
        // Validation chose how it ranks, among every mode and hybrid weight, and serving reads that choice.
        var selection = RankingSelectionResult.ReadFrom(outcome.Bundle.Manifest.Properties)!;
        Assert.Equal(RankingSelection.Candidates(outcome.Bundle.Model), selection.Scores.Select(s => s.Candidate));
        Assert.Equal(selection.Scores.Max(s => s.Score), selection.Scores.First(s => s.Candidate == selection.Choice).Score);
        Assert.Equal(selection.Choice, serving.Ranking);
        // Each score is the candidate's figure on the validation users the step was kept on.
        var validation = outcome.Data.Validation.Take(plan.FineTune.ValidationLimit).ToList();
        // The choice reports its progress: users scored, rising to every candidate's pass over them, with no loss.
        var total = RankingSelection.Candidates(outcome.Bundle.Model).Count * validation.Count;
        Assert.NotEmpty(ranking);
        Assert.All(ranking, p => Assert.Equal(total, p.TotalSteps));
        Assert.All(ranking, p => Assert.True(double.IsNaN(p.Loss)));
        Assert.Equal(total, ranking[^1].Step);
        Assert.Equal(ranking.Select(p => p.Step).Order(), ranking.Select(p => p.Step));
        foreach (var (candidate, score) in selection.Scores.Where(s => s.Candidate.Mode != RankingMode.Hybrid || s.Candidate.DenseWeight == 2))
            Assert.Equal(score, GenerativeEvaluator.Evaluate(serving.Bundle.Model, validation, serving.Tables, candidate.Apply(plan.FineTune.Evaluation)).Metrics["ndcg@10"], 4);
        // The default ranking of a network with a head is hybrid; the head alone has learned to rank too.
        AssertServedRecommenderBeatsPopularity(serving, outcome.Data);
        var options = new EvaluationOptions { Beams = 20, Ranking = RankingMode.Dense };
        var dense = GenerativeEvaluator.Evaluate(serving.Bundle.Model, outcome.Data.Test, serving.Tables, options);
        var popularity = GenerativeEvaluator.EvaluateRanking(outcome.Data.Test, _ => outcome.Data.Popularity, options);
        Assert.True(dense.Metrics["recall@10"] > popularity.Metrics["recall@10"], $"dense {dense.Metrics["recall@10"]:F4}, popularity {popularity.Metrics["recall@10"]:F4}");

        // A head without its loss would serve untrained scores; a loss without a head has nothing to train.
        using var tables = new TrieTables(outcome.Trie);
        var untrained = Assert.Throws<ArgumentException>(() => GenerativeFineTuner.Train(outcome.Bundle.Model, [], [], [], tables, plan.FineTune with { DenseLoss = 0 }));
        Assert.Contains("needs a dense loss weight above 0", untrained.Message, StringComparison.Ordinal);
        using var headless = new LMIndexer.Core.Model.T5Model(outcome.Bundle.Model.Config with { DenseItemHead = false });
        Assert.Throws<ArgumentException>(() => GenerativeFineTuner.Train(headless, [], [], [], tables, plan.FineTune));
        var ids = Assert.Throws<ArgumentException>(() => RecommenderTraining.Run(fixture.Catalog, fixture.IndexDirectory, plan with { Source = IdSource }));
        Assert.Contains("dense item head scores item vectors (source ids+items or items)", ids.Message, StringComparison.Ordinal);
    }

    /// <summary>The largest distance of an item vector from the mean of its learned ID-token vectors.</summary>
    private static float DistanceFromIdMeans(GenerativeOutcome outcome)
    {
        var model = outcome.Bundle.Model;
        var learned = outcome.Table.Ids[0].Length - 1;
        var tokens = outcome.Table.Ids.SelectMany(id => IdTrie.IdTokens(id, outcome.Bundle.Tokenizer).Take(learned).Select(t => (long)t)).ToArray();
        using var index = torch.tensor(tokens);
        using var rows = model.Shared.weight!.detach().index_select(0, index);
        using var means = rows.reshape(outcome.Table.Count, learned, -1).mean([1]);
        using var gap = (model.SourceItems!.weight!.detach() - means).abs().max();
        return gap.item<float>();
    }

    /// <summary>The saved bundle, decoded on the test users, ranks above popularity (Recall@10).</summary>
    private static void AssertServedRecommenderBeatsPopularity(ServingBundle serving, TaskData data)
    {
        var options = new EvaluationOptions { Beams = 20 };
        var model = GenerativeEvaluator.Evaluate(serving.Bundle.Model, data.Test, serving.Tables, options);
        var popularity = GenerativeEvaluator.EvaluateRanking(data.Test, _ => data.Popularity, options);
        Assert.True(model.Metrics["recall@10"] > popularity.Metrics["recall@10"],
            $"recommender recall@10 {model.Metrics["recall@10"]:F4} should beat popularity {popularity.Metrics["recall@10"]:F4}");
    }
}
