using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;

namespace LMIndexer.Core.Tests.Generation;

public sealed class RankingChoiceTests
{
    [Theory]
    [InlineData("generative", RankingMode.Generative, 1.0)]
    [InlineData("dense", RankingMode.Dense, 1.0)]
    [InlineData("hybrid@0.25", RankingMode.Hybrid, 0.25)]
    [InlineData("hybrid@4", RankingMode.Hybrid, 4.0)]
    public void A_choice_is_spelled_and_read_back_alike(string name, RankingMode mode, double weight)
    {
        var choice = new RankingChoice(mode, weight);

        Assert.Equal(name, choice.Name);
        Assert.Equal(choice, RankingChoice.Parse(name));
        var properties = new Dictionary<string, string>();
        choice.WriteTo(properties);
        Assert.Equal(choice, RankingChoice.ReadFrom(properties));
    }

    [Theory]
    [InlineData("hybrid")]
    [InlineData("hybrid@-1")]
    [InlineData("hybrid@x")]
    [InlineData("dense@2")]
    [InlineData("beams")]
    public void Other_spellings_are_no_choice(string name) => Assert.Null(RankingChoice.Parse(name));

    [Fact]
    public void A_manifest_without_a_choice_has_none_and_a_recorded_score_list_reads_back()
    {
        Assert.Null(RankingSelectionResult.ReadFrom(new Dictionary<string, string>()));
        var properties = new Dictionary<string, string>
        {
            [RankingChoice.ModeProperty] = "hybrid",
            [RankingChoice.DenseWeightProperty] = "0.5",
            [RankingChoice.ValidationProperty] = "hybrid@1=0.02000;hybrid@0.5=0.02100;dense=0.01900",
        };

        var read = RankingSelectionResult.ReadFrom(properties)!;

        Assert.Equal(new RankingChoice(RankingMode.Hybrid, 0.5), read.Choice);
        Assert.Equal([(new RankingChoice(RankingMode.Hybrid, 1), 0.02), (new RankingChoice(RankingMode.Hybrid, 0.5), 0.021), (new RankingChoice(RankingMode.Dense), 0.019)], read.Scores);
        Assert.Equal(properties[RankingChoice.ValidationProperty], read.Format());
        properties[RankingChoice.ValidationProperty] = "beams=0.1";
        Assert.Throws<InvalidDataException>(() => RankingSelectionResult.ReadFrom(properties));
        properties[RankingChoice.DenseWeightProperty] = "-2";
        Assert.Throws<InvalidDataException>(() => RankingChoice.ReadFrom(properties));
    }
}
