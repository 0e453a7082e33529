using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Model;
using LMIndexer.Core.Text;
using LMIndexer.Core.Training;
using TorchSharp;

namespace LMIndexer.Core.Tests.Training;

public sealed class DenoisingPretrainerTests
{
    [Fact]
    public void Corruption_replaces_spans_by_single_masks_and_keeps_order()
    {
        var tokens = Enumerable.Range(10, 40).ToArray();
        var options = new DenoisingOptions { MaskRatio = 0.3 };
        var corrupted = DenoisingPretrainer.Corrupt(tokens, options, new Random(1));
        var kept = corrupted.Where(t => t != CatalogTokenizer.MaskId).ToList();
        Assert.Equal(40 - 12, kept.Count);                       // exactly round(0.3 × 40) removed
        Assert.Equal(kept.Order(), kept);                        // survivors stay in order
        Assert.Contains(CatalogTokenizer.MaskId, corrupted);
        Assert.DoesNotContain(corrupted.Zip(corrupted.Skip(1)), p => p.First == CatalogTokenizer.MaskId && p.Second == CatalogTokenizer.MaskId);
    }

    [Fact]
    public void Pretraining_on_the_synthetic_catalog_lowers_the_loss_deterministically()
    {
        var catalog = SyntheticCatalogGenerator.Generate(new SyntheticCatalogOptions { Items = 200, Users = 10 });
        var texts = catalog.Items.Select(ItemTextBuilder.Build).ToList();
        var tokenizer = CatalogTokenizer.Build(texts, [8]);
        var encoded = texts.Select(t => tokenizer.Encode(t, 48)).ToList();
        var options = new DenoisingOptions { Steps = 40, BatchSize = 16, MaxTokens = 48, Optimizer = new() { LearningRate = 3e-3, WarmupRatio = 0.1 } };

        TrainingReport Run()
        {
            torch.manual_seed(1);
            using var model = new T5Model(T5Config.Tiny(tokenizer.VocabSize));
            return DenoisingPretrainer.Train(model, encoded, options);
        }

        var first = Run();
        Assert.True(first.FinalLoss < first.FirstLoss * 0.6, $"loss {first.FirstLoss:F3} → {first.FinalLoss:F3}");
        var second = Run();
        Assert.Equal(first.FinalLoss, second.FinalLoss, 4);
    }

    [Fact]
    public void Schedule_warms_up_then_decays_to_zero()
    {
        var schedule = new LearningRateSchedule(new OptimizerOptions { LearningRate = 1.0, WarmupRatio = 0.1 }, 100);
        Assert.Equal(0.1, schedule.At(0), 10);
        Assert.Equal(1.0, schedule.At(9), 10);
        Assert.Equal(0.5, schedule.At(55), 10);
        Assert.True(schedule.At(99) < 0.02);
        var cosine = new LearningRateSchedule(new OptimizerOptions { LearningRate = 1.0, WarmupRatio = 0, Decay = LearningRateDecay.Cosine }, 100);
        Assert.Equal(0.5, cosine.At(50), 10);
    }
}
