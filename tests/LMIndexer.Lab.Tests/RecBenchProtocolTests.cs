using LMIndexer.Bench.Commands;
using LMIndexer.Bench.Reporting;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Generation;
using LMIndexer.Research.Protocol;

namespace LMIndexer.Lab.Tests;

/// <summary>What the rec bench writes for the protocol: paired rows against baselines, and the choices behind the record.</summary>
public sealed class RecBenchProtocolTests
{
    private static RankingBenchResult Result(double[] recall, double[] ndcg, params ValidationPoint[] validations) =>
        new(new EvaluationResult(new Dictionary<string, double> { ["recall@10"] = recall.Average(), ["ndcg@10"] = ndcg.Average() }, recall.Length, 1)
        {
            PerExample = new Dictionary<string, double[]> { ["recall@10"] = recall, ["ndcg@10"] = ndcg },
        }, 0, "", validations);

    private static ValidationPoint At(int step, double ndcg) => new(step, 1, new Dictionary<string, double> { ["ndcg@10"] = ndcg });

    private static readonly Dictionary<string, RankingBenchResult> Results = new()
    {
        ["lmindexer"] = Result([1, 1, 0, 1], [1, 0.5, 0, 0.5], At(5, 0.1), At(10, 0.3)),
        ["lmindexer-seed7"] = Result([0, 0, 0, 0], [0, 0, 0, 0], At(5, 0.2)),
        ["markov"] = Result([1, 0, 0, 0], [0.5, 0, 0, 0]),
        ["sasrec"] = Result([0, 1, 1, 0], [0, 1, 0.5, 0], At(20, 0.4)),
    };

    [Fact]
    public void Lmindexer_is_paired_with_each_baseline_that_ranked_every_test_user_and_named_where_one_did_not()
    {
        var rows = new List<BenchmarkRow>();

        var text = RecBenchCommand.PairedAgainstBaselines(["lmindexer", "lmindexer-seed7", "markov", "sasrec"], Results,
            new HashSet<string> { "lmindexer", "lmindexer-seed7", "markov" }, rows);

        Assert.Equal([("lmindexer-minus-markov", "recall@10"), ("lmindexer-minus-markov", "ndcg@10")], rows.Select(r => (r.System, r.Metric)));
        Assert.Equal(0.5, rows[0].Value, 12);        // (0 + 1 + 0 + 1) / 4
        Assert.Equal(0.375, rows[1].Value, 12);      // (0.5 + 0.5 + 0 + 0.5) / 4
        Assert.All(rows, r => Assert.InRange(r.Value, r.CiLow!.Value, r.CiHigh!.Value));
        Assert.Contains("lmindexer − sasrec: not paired", text, StringComparison.Ordinal);
        Assert.DoesNotContain("seed7", text, StringComparison.Ordinal);   // its own other seeds are not baselines
    }

    [Fact]
    public void Without_lmindexer_nothing_is_paired()
    {
        var rows = new List<BenchmarkRow>();
        Assert.Equal("", RecBenchCommand.PairedAgainstBaselines(["markov", "sasrec"], Results, new HashSet<string> { "markov", "sasrec" }, rows));
        Assert.Empty(rows);
    }

    [Fact]
    public void The_protocol_lists_every_validation_point_and_the_step_each_system_kept()
    {
        var protocol = RecBenchCommand.Protocol([42, 7], ["lmindexer", "lmindexer-seed7", "markov", "sasrec"], Results,
            new Dictionary<string, int> { ["lmindexer"] = 10, ["lmindexer-seed7"] = 5, ["sasrec"] = 20 },
            [new CandidateScore("sasrec[dropout=0.2]", 0.4), new CandidateScore("sasrec[dropout=0.5]", 0.35)], "sasrec[dropout=0.2]@20");

        Assert.Equal(("validation", 1, "ndcg@10"), (protocol.SelectedOn, protocol.TestDecodes, protocol.Metric));
        Assert.Equal([42, 7], protocol.Seeds);
        Assert.Equal("lmindexer@10, lmindexer-seed7@5, sasrec[dropout=0.2]@20", protocol.Choice);
        Assert.Equal(["lmindexer@5", "lmindexer@10", "lmindexer-seed7@5", "sasrec@20", "sasrec[dropout=0.2]", "sasrec[dropout=0.5]"], protocol.Candidates.Select(c => c.Candidate));
        Assert.Equal(0.3, protocol.Candidates[1].Validation);
    }

    [Fact]
    public void The_ranking_each_network_chose_on_validation_is_in_its_choice_with_every_candidate_scored()
    {
        var selection = new RankingSelectionResult(new RankingChoice(RankingMode.Dense),
            [(new RankingChoice(RankingMode.Hybrid, 1), 0.21), (new RankingChoice(RankingMode.Dense), 0.25), (new RankingChoice(RankingMode.Generative), 0.2)]);

        var protocol = RecBenchCommand.Protocol([42, 7], ["lmindexer", "lmindexer-seed7", "markov"], Results,
            new Dictionary<string, int> { ["lmindexer"] = 10, ["lmindexer-seed7"] = 5 }, [], null, rankings: new Dictionary<string, RankingSelectionResult> { ["lmindexer"] = selection });

        Assert.Equal("lmindexer@10 ranked dense, lmindexer-seed7@5", protocol.Choice);
        Assert.Equal(["lmindexer@5", "lmindexer@10", "lmindexer ranked hybrid@1", "lmindexer ranked dense", "lmindexer ranked generative", "lmindexer-seed7@5"],
            protocol.Candidates.Select(c => c.Candidate));
        Assert.Equal(0.25, protocol.Candidates[3].Validation);
    }

    [Fact]
    public void A_refit_run_says_its_settings_were_fixed_before_it_and_records_the_steps_it_trained()
    {
        var refit = new Dictionary<string, RankingBenchResult> { ["lmindexer"] = Result([1, 0], [1, 0]), ["markov"] = Result([0, 1], [0, 1]) };

        var protocol = RecBenchCommand.Protocol([1, 2, 3], ["lmindexer", "markov"], refit, new Dictionary<string, int> { ["lmindexer"] = 40000 }, [], null, refit: true);

        Assert.Equal(RecBenchCommand.RefitSelection, protocol.SelectedOn);
        Assert.Equal("lmindexer@40000", protocol.Choice);
        Assert.Empty(protocol.Candidates);   // no validation curve: nothing was chosen in the run
        Assert.Equal("validation", RecBenchCommand.Protocol([1, 2, 3], ["lmindexer"], Results, new Dictionary<string, int> { ["lmindexer"] = 10 }, [], null).SelectedOn);
    }

    [Fact]
    public void A_refit_names_the_ranking_its_plain_run_chose_for_each_network_and_for_no_baseline()
    {
        var refit = new Dictionary<string, RankingBenchResult> { ["lmindexer"] = Result([1, 0], [1, 0]), ["markov"] = Result([0, 1], [0, 1]), ["sasrec"] = Result([0, 1], [0, 1]) };

        var protocol = RecBenchCommand.Protocol([2], ["lmindexer", "markov", "sasrec"], refit, new Dictionary<string, int> { ["lmindexer"] = 50000, ["sasrec"] = 4500 }, [], null,
            refit: true, fixedRanking: new RankingChoice(RankingMode.Hybrid, 2));

        Assert.Equal("lmindexer@50000 ranked hybrid@2, sasrec@4500", protocol.Choice);
    }

    [Fact]
    public void A_fixed_ranking_is_taken_only_for_a_refit_and_only_what_the_network_can_rank()
    {
        Assert.Null(RecBenchCommand.CheckedRanking(null, refitting: false, denseLoss: 0));
        Assert.Equal(new RankingChoice(RankingMode.Hybrid, 0.5), RecBenchCommand.CheckedRanking("hybrid@0.5", refitting: true, denseLoss: 0.3));
        Assert.Equal(new RankingChoice(RankingMode.Generative), RecBenchCommand.CheckedRanking("generative", refitting: true, denseLoss: 0));
        Assert.Contains("Give it with --refit", Assert.Throws<LMIndexer.Cli.Console.CliUsageException>(() => RecBenchCommand.CheckedRanking("generative", refitting: false, denseLoss: 0.3)).Message, StringComparison.Ordinal);
        Assert.Contains("--ranking hybrid@1 reads the dense item head", Assert.Throws<LMIndexer.Cli.Console.CliUsageException>(() => RecBenchCommand.CheckedRanking("hybrid@1", refitting: true, denseLoss: 0)).Message, StringComparison.Ordinal);
        Assert.Contains("is not generative, dense or hybrid@W", Assert.Throws<LMIndexer.Cli.Console.CliUsageException>(() => RecBenchCommand.CheckedRanking("hybrid@x", refitting: true, denseLoss: 0.3)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Per_user_metrics_are_saved_for_the_systems_that_ranked_every_test_user()
    {
        var saved = RecBenchCommand.PerUser(["lmindexer", "markov", "sasrec"], Results, new HashSet<string> { "lmindexer", "markov" });

        Assert.Equal(["lmindexer", "markov"], saved.Keys.Order());
        Assert.Equal([1.0, 1, 0, 1], saved["lmindexer"]["recall@10"]);
        Assert.Equal([0.5, 0, 0, 0], saved["markov"]["ndcg@10"]);
    }

    [Fact]
    public void The_no_ids_ablation_reads_as_many_items_by_their_item_tokens_alone_and_keeps_the_rest_of_the_recipe()
    {
        var recipe = new GenerativePlan
        {
            FreshModel = true,
            Source = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 25 },
            FineTune = new FineTuneOptions { Steps = 100, HistoryDropout = 0.2, ItemDropout = 0.25, DenseLoss = 0.3 },
        };

        var ablation = RecBenchCommand.WithoutIdTokens(recipe, idLength: 3);

        // Six items of three ID tokens and an item token (24 + </s>) become six item tokens (6 + </s>).
        Assert.Equal(new HistorySourceOptions { Mode = SourceMode.Items, MaxSourceTokens = 7 }, ablation.Source);
        Assert.Equal(recipe.FineTune with { ItemDropout = 0 }, ablation.FineTune);
        Assert.Equal(recipe with { Source = ablation.Source, FineTune = ablation.FineTune }, ablation);
        Assert.Empty(ablation.Errors());
        Assert.Throws<LMIndexer.Cli.Console.CliUsageException>(() => RecBenchCommand.WithoutIdTokens(recipe with { Source = new HistorySourceOptions { Mode = SourceMode.Ids } }, 3));
    }
}
