using System.Text.Json;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Generation;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

/// <summary>A refit has no validation users to choose a ranking on: it ranks, and its bundle serves, the one its plain run chose.</summary>
public sealed class RefitRankingTests
{
    [Fact]
    public void A_refit_bundle_ranks_test_and_serves_with_the_ranking_given_for_it()
    {
        using var temp = new TempDirectory();
        BenchProcess.SynthesizeAndIndex(temp.Path, "bench/lmindexer");

        string[] Refit(string ranking, string name, params string[] more) => ["rec", "bench", "--data", "cat", "--index-dir", "bench", "--out-dir", "rec", "--systems", "lmindexer,markov",
            "--fresh-model", "--source", "ids+items", "--dense-loss", "0.3", "--steps", "6", "--refit", "--ranking", ranking, "--results", "report", "--name", name, "--threads", "1", .. more];
        var trained = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), Refit("hybrid@2", "refit"));
        Assert.True(trained.ExitCode == 0, trained.Error);

        // The bundle serves what the refit was given, as a plain run's bundle serves what its validation chose.
        Assert.Equal(new RankingChoice(RankingMode.Hybrid, 2), RankingChoice.ReadFrom(ModelBundle.ReadManifest(Path.Combine(temp.Path, "rec", "lmindexer")).Properties));
        Assert.Equal("lmindexer@6 ranked hybrid@2", Choice("refit"));

        // The same network decoded again with another given ranking ranks that way: the flag, not the manifest, decides a refit's decode.
        var reused = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), Refit("generative", "refit-generative", "--reuse"));
        Assert.True(reused.ExitCode == 0, reused.Error);
        Assert.Contains("ranked generative (bundle reused)", File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")), StringComparison.Ordinal);
        Assert.Equal("lmindexer@6 ranked generative", Choice("refit-generative"));

        string? Choice(string name)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", name + ".json")));
            return json.RootElement.GetProperty("protocol").GetProperty("choice").GetString();
        }
    }
}
