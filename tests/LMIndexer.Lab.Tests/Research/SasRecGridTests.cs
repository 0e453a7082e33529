using LMIndexer.Research.Recommendation;

namespace LMIndexer.Lab.Tests.Research;

public sealed class SasRecGridTests
{
    private static readonly SasRecOptions Single = new() { Steps = 100, Seed = 5, Model = new SasRecConfig { ItemCount = 1, MaxLength = 50 } };

    [Fact]
    public void An_empty_grid_is_the_single_settings()
    {
        var candidate = Assert.Single(SasRecGrid.Candidates("  ", Single));
        Assert.Equal("default", candidate.Name);
        Assert.Equal(Single, candidate.Options);
    }

    [Fact]
    public void Every_combination_is_a_candidate_named_by_the_settings_that_vary()
    {
        var candidates = SasRecGrid.Candidates("hidden=32,64; layers=1 dropout=0.2,0.5 lr=0.003", Single);

        Assert.Equal(["hidden=32,dropout=0.2", "hidden=32,dropout=0.5", "hidden=64,dropout=0.2", "hidden=64,dropout=0.5"], candidates.Select(c => c.Name));
        var last = candidates[^1].Options;
        Assert.Equal((64, 1, 0.5, 0.003), (last.Model!.Hidden, last.Model.Layers, last.Model.Dropout, last.LearningRate));
        // What the grid does not name keeps the single settings.
        Assert.All(candidates, c => Assert.Equal((100, 5, 50, 2), (c.Options.Steps, c.Options.Seed, c.Options.Model!.MaxLength, c.Options.Model.Heads)));
    }

    [Theory]
    [InlineData("depth=3", "Unknown SASRec grid setting 'depth=3'")]
    [InlineData("hidden", "Unknown SASRec grid setting 'hidden'")]
    [InlineData("hidden=32 hidden=64", "names 'hidden' twice")]
    [InlineData("dropout=0.2,0.2", "needs distinct values")]
    [InlineData("dropout=1", "'dropout' takes numbers in [0, 1), got '1'")]
    [InlineData("lr=0", "'lr' takes numbers")]
    [InlineData("max-length=0", "'max-length' takes whole numbers of at least 1, got '0'")]
    [InlineData("hidden=64,66", "candidate 'hidden=66': hidden size 66 does not divide into 4 heads")]
    public void A_bad_grid_is_refused_naming_the_part(string spec, string message)
    {
        var withFourHeads = Single with { Model = Single.Model! with { Heads = 4 } };
        var error = Assert.Throws<ArgumentException>(() => SasRecGrid.Candidates(spec, withFourHeads));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
