using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Indexing.ResidualQuantization;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class ResidualQuantizerVaeTests
{
    private static readonly RqVaeOptions Small = new() { Epochs = 30, HiddenDims = [64, 32], LatentDim = 8, BatchSize = 64 };

    // 4 planted groups of 60 points, far apart and offset from the origin (the model must standardise them).
    private static (Tensor Points, int[] Groups) Planted()
    {
        torch.manual_seed(21);
        var centers = torch.randn(4, 12).Times(12);
        var groups = Enumerable.Range(0, 240).Select(i => i % 4).ToArray();
        var points = torch.stack(groups.Select(g => centers[g]).ToArray()).Plus(torch.randn(240, 12).Times(0.3)).Plus(50);
        return (points, groups);
    }

    [Fact]
    public void Codes_are_in_range_deterministic_and_track_planted_groups()
    {
        var (points, groups) = Planted();
        var steps = new List<TrainingProgress>();
        using var a = RqVaeTraining.Train(points, levels: 2, codebookSize: 4, Small, new KMeansOptions { Restarts = 2 }, seed: 3, new InlineProgress<TrainingProgress>(steps.Add));
        using var b = RqVaeTraining.Train(points, levels: 2, codebookSize: 4, Small, new KMeansOptions { Restarts = 2 }, seed: 3);
        var codes = a.Codes(points);
        Assert.All(codes, c => Assert.All(c, code => Assert.InRange(code, 0, 3)));
        Assert.Equal(codes.Select(c => string.Join(',', c)), b.Codes(points).Select(c => string.Join(',', c)));
        var ami = ClusteringMetrics.AdjustedMutualInformation(groups, codes.Select(c => c[0]).ToList());
        Assert.True(ami > 0.6, $"AMI of the first level against planted groups: {ami:F3}");

        var planned = RqVaeTraining.PlannedSteps(Small, 240);
        Assert.Equal(30 * 4, planned);
        Assert.Equal(Enumerable.Range(1, planned), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(planned, s.TotalSteps));
        Assert.Equal(30, steps[^1].Epoch);
    }

    [Fact]
    public void A_saved_model_codes_new_points_as_the_trained_one_does()
    {
        var (points, _) = Planted();
        using var temp = new TempDirectory();
        var assigned = new RqVaeCodeAssigner(Small).Assign(points, new SemanticIndexerOptions { CodebookSize = 4, Seed = 5, KMeans = new KMeansOptions { Restarts = 2 } }, null, default);
        Assert.Equal(RqVaeCodeAssigner.StateFile, assigned.StateFile);
        Assert.Contains("mean", assigned.State.Keys);
        SafeTensors.Save(Path.Combine(temp.Path, RqVaeCodeAssigner.StateFile), assigned.State);

        using var loaded = RqVaeCodeAssigner.Load(temp.Path, assigned.Properties, inputDim: 12, levels: 2, codebookSize: 4);
        Assert.Equal(assigned.Codes.Select(c => string.Join(',', c)), loaded.Codes(points).Select(c => string.Join(',', c)));
        // Coded a few at a time (as new items arrive), each point gets the code it got with the whole set.
        using var firstTen = points.narrow(0, 0, 10);
        Assert.Equal(assigned.Codes.Take(10).Select(c => string.Join(',', c)), loaded.Codes(firstTen).Select(c => string.Join(',', c)));
    }

    [Fact]
    public void Options_report_every_bad_field()
    {
        var errors = new RqVaeOptions { LatentDim = 0, HiddenDims = [64, 0], Beta = -1, Epochs = 0, BatchSize = 1, LearningRate = 0 }.Errors().Select(e => e.Field).ToList();
        Assert.Equal(["latentDim", "hiddenDims", "beta", "epochs", "batchSize", "learningRate"], errors);
        Assert.Empty(new RqVaeOptions().Errors());
        var indexer = new SemanticIndexerOptions { Method = "pq", RqVae = new RqVaeOptions { Epochs = 0 } }.Errors().Select(e => e.ToString()).ToList();
        Assert.Contains(indexer, e => e.StartsWith("method: unknown ID method 'pq'", StringComparison.Ordinal));
        Assert.Contains("rqVae.epochs: at least one epoch is needed, got 0", indexer);
    }
}
