using LMIndexer.Research.Protocol;

namespace LMIndexer.Lab.Tests.Research;

public sealed class ProtocolTests
{
    private static ValidationProtocol<string, int[]> Run() => new([7, 8, 9], [3, 1, 4], "ndcg@10", c => c);

    [Fact]
    public void Test_is_decoded_once_for_the_validation_choice_and_never_before_it()
    {
        var protocol = Run();
        Assert.Throws<InvalidOperationException>(() => protocol.DecodeTest((c, t) => t.Length));
        var validation = new Dictionary<string, double> { ["steps-1000"] = 0.031, ["steps-5000"] = 0.044, ["steps-9000"] = 0.040 };
        Assert.Equal("steps-5000", protocol.Choose(validation.Keys, c => validation[c]));

        var decoded = new List<string>();
        var sum = protocol.DecodeTest((candidate, test) => { decoded.Add(candidate); return test.Sum(); });
        Assert.Equal(["steps-5000"], decoded);   // the chosen candidate only
        Assert.Equal(24, sum);                   // with the sealed split

        // No second look at test, and no choice after it: a selection loop over test cannot be written.
        Assert.Throws<InvalidOperationException>(() => protocol.DecodeTest((c, t) => 0));
        Assert.Throws<InvalidOperationException>(() => protocol.Choose(["steps-9000"], _ => 1));

        var record = protocol.Record();
        Assert.Equal(("validation", 1, "steps-5000", "ndcg@10"), (record.SelectedOn, record.TestDecodes, record.Choice, record.Metric));
        Assert.Equal([3, 1, 4], record.Seeds);
        Assert.Equal(validation.Select(kv => new CandidateScore(kv.Key, kv.Value)), record.Candidates);
    }

    [Fact]
    public void A_choice_is_one_pass_over_candidates_fixed_in_advance_ties_to_the_earlier()
    {
        var protocol = Run();
        Assert.Equal("a", protocol.Choose(["a", "b"], _ => 0.5));
        Assert.Throws<InvalidOperationException>(() => protocol.Choose(["c"], _ => 0.9));
        Assert.Throws<ArgumentException>(() => Run().Choose([], _ => 0));
        Assert.Throws<ArgumentException>(() => Run().Choose(["a"], _ => double.NaN));
    }

    [Theory]
    [InlineData(new[] { 1, 2 })]
    [InlineData(new[] { 1, 1, 2 })]
    public void Fewer_than_three_distinct_seeds_are_refused(int[] seeds) =>
        Assert.Throws<ArgumentException>(() => new ValidationProtocol<string, int>(0, seeds, "ndcg@10", c => c));

    [Fact]
    public void Seed_summary_is_the_mean_and_sample_standard_deviation()
    {
        var summary = SeedSummary.Of([0.040, 0.044, 0.048]);
        Assert.Equal(0.044, summary.Mean, 1e-12);
        Assert.Equal(0.004, summary.Sd, 1e-12);
        Assert.Equal(3, summary.N);
    }

    [Fact]
    public void Paired_bootstrap_recovers_a_shift_and_excludes_zero_only_when_it_is_real()
    {
        var random = new Random(5);
        var baseline = Enumerable.Range(0, 4000).Select(_ => random.NextDouble() < 0.05 ? 1.0 : 0.0).ToArray();
        // Same users, one in fifty gains a hit: a real paired difference of about .02 hidden in per-user noise.
        var better = baseline.Select((v, i) => i % 50 == 0 ? 1.0 : v).ToArray();
        var gain = PairedBootstrap.Difference(better, baseline);
        Assert.Equal(better.Average() - baseline.Average(), gain.Difference, 1e-12);
        Assert.True(gain.ExcludesZero && gain.Low > 0.01 && gain.High < 0.03, $"{gain}");

        // A system equal on average but noisy per user: the interval straddles 0.
        var shuffled = baseline.OrderBy(_ => random.Next()).ToArray();
        var same = PairedBootstrap.Difference(shuffled, baseline);
        Assert.False(same.ExcludesZero, $"{same}");
        Assert.True(same.Low < 0 && same.High > 0);

        // Reproducible at a fixed seed; vectors of other users are refused.
        Assert.Equal(gain, PairedBootstrap.Difference(better, baseline));
        Assert.Throws<ArgumentException>(() => PairedBootstrap.Difference(better, baseline[1..]));
    }
}
