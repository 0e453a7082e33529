using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Runtime;
using LMIndexer.Research.Recommendation;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Lab.Tests.Research;

public sealed class SasRecTests
{
    [Fact]
    public void Attention_is_causal_and_padding_does_not_leak()
    {
        torch.manual_seed(1);
        using var model = new SasRecModel(new SasRecConfig { ItemCount = 20, MaxLength = 6, Dropout = 0 });
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = model.Encode(torch.tensor(new long[] { 0, 0, 3, 4, 5, 6 }).unsqueeze(0));
        var laterChanged = model.Encode(torch.tensor(new long[] { 0, 0, 3, 4, 9, 9 }).unsqueeze(0));
        Assert.True((a[.., 2..4] - laterChanged[.., 2..4]).abs().max().item<float>() < 1e-5f, "a position saw a later item");
        Assert.True((a[.., 4..] - laterChanged[.., 4..]).abs().max().item<float>() > 1e-4f);
        var shorter = model.Encode(torch.tensor(new long[] { 0, 0, 0, 4, 5, 6 }).unsqueeze(0));
        Assert.False(float.IsNaN(shorter.sum().item<float>()));
    }

    [Fact]
    public void Dropout_draws_fresh_masks_in_training_at_its_rate_and_leaves_evaluation_untouched()
    {
        torch.manual_seed(1);
        using var model = new SasRecModel(new SasRecConfig { ItemCount = 20, MaxLength = 6, Dropout = 0.5 });
        using var scope = NewDisposeScope();
        using var noGrad = torch.no_grad();
        var input = torch.tensor(new long[] { 0, 3, 4, 5, 6, 7 }).unsqueeze(0);

        model.train();
        var first = model.Encode(input);
        var second = model.Encode(input);
        model.eval();
        var evaluated = model.Encode(input);

        Assert.False(first.allclose(second), "each training pass draws its own masks");
        Assert.True(evaluated.allclose(model.Encode(input)), "evaluation applies no dropout");
        Assert.False(first.allclose(evaluated));
        // Half of a large input is dropped and the rest scaled by 2, so the mean is kept.
        var ones = torch.ones(200_000);
        var dropped = SasRecModel.Dropout(ones, 0.5, training: true);
        Assert.InRange(dropped.EqualTo(0).to(ScalarType.Float32).mean().item<float>(), 0.49f, 0.51f);
        Assert.InRange(dropped.mean().item<float>(), 0.98f, 1.02f);
        Assert.Same(ones, SasRecModel.Dropout(ones, 0.5, training: false));
    }

    [Fact]
    public void Next_item_loss_over_real_positions_equals_full_cross_entropy_ignoring_padding()
    {
        torch.manual_seed(2);
        using var model = new SasRecModel(new SasRecConfig { ItemCount = 30, MaxLength = 7, Dropout = 0 });
        using var scope = NewDisposeScope();
        var inputs = torch.tensor(new long[] { 0, 0, 0, 4, 5, 6, 7, 0, 0, 0, 0, 0, 2, 9, 1, 3, 8, 11, 12, 13, 14 }, [3, 7]);
        var targets = torch.tensor(new long[] { 0, 0, 0, 5, 6, 7, 8, 0, 0, 0, 0, 0, 9, 30, 3, 8, 11, 12, 13, 14, 15 }, [3, 7]);
        var packed = SasRecTrainer.NextItemLoss(model, inputs, targets);
        var packedGradient = torch.autograd.grad([packed], [.. model.parameters()]);
        var logits = model.Scores(model.Encode(inputs));                                  // [3, 7, 31]
        var full = nn.functional.cross_entropy(logits.view(-1, 31), targets.view(-1), ignore_index: 0);
        var fullGradient = torch.autograd.grad([full], [.. model.parameters()]);
        Assert.Equal(full.item<float>(), packed.item<float>(), 5);
        for (var i = 0; i < fullGradient.Count; i++)
            Assert.True((fullGradient[i] - packedGradient[i]).abs().max().item<float>() < 1e-5f, $"gradient {i} differs");
    }

    [Theory]
    [InlineData(0, 100)]
    [InlineData(300, 0)]
    public void Settings_that_cannot_train_are_refused(int steps, int evalEvery)
    {
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 20, Users = 30, Seed = 3 });
        var itemIds = catalog.Items.Select(i => i.ItemId).ToList();
        Assert.Throws<ArgumentException>(() => SasRecTrainer.Train(catalog, itemIds, new SasRecOptions { Steps = steps, EvalEvery = evalEvery }));
    }

    [Fact]
    public void Trained_sasrec_beats_popularity_on_the_same_split()
    {
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 200, Users = 700, Seed = 3, MinSequenceLength = 6, MaxSequenceLength = 12 });
        var itemIds = catalog.Items.Select(i => i.ItemId).ToList();
        using var outcome = SasRecTrainer.Train(catalog, itemIds, new SasRecOptions { Steps = 300, BatchSize = 64, EvalEvery = 100, LearningRate = 3e-3 });
        var test = SasRecTrainer.TestExamples(catalog, itemIds);
        var sasrec = SasRecTrainer.Evaluate(outcome.Model, test, [5, 10]);
        var index = itemIds.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i);
        var popular = RecommendationTask.Popularity(catalog.Users, index).Select(i => (long)i + 1).ToList();
        var popularity = GenerativeEvaluator.EvaluateRanking([.. test.Select(t => new GenerativeExample([], [t.Target]))], _ => [.. popular.Select(p => (int)p)], new EvaluationOptions());
        Assert.Equal(test.Count, sasrec.Examples);
        Assert.True(sasrec.Metrics["recall@10"] > popularity.Metrics["recall@10"],
            $"SASRec recall@10 {sasrec.Metrics["recall@10"]:F4} should beat popularity {popularity.Metrics["recall@10"]:F4}");
        Assert.Equal(3, outcome.Validations.Count);
    }

    [Fact]
    public void A_refit_trains_on_the_validation_targets_validates_nothing_and_keeps_the_last_step()
    {
        // Three items per user: the plain split has no training sequence, a refit has each user's first two.
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 20, Users = 30, Seed = 3, MinSequenceLength = 3, MaxSequenceLength = 3 });
        var itemIds = catalog.Items.Select(i => i.ItemId).ToList();
        var options = new SasRecOptions { Steps = 4, BatchSize = 8, EvalEvery = 2, Model = new SasRecConfig { ItemCount = itemIds.Count, Hidden = 16, MaxLength = 5 } };

        var plain = Assert.Throws<ArgumentException>(() => SasRecTrainer.Train(catalog, itemIds, options));
        Assert.Contains("4 interactions", plain.Message, StringComparison.Ordinal);
        using var refit = SasRecTrainer.Train(catalog, itemIds, options with { Refit = true });
        Assert.Empty(refit.Validations);
        Assert.Equal(4, refit.BestStep);
    }
}
