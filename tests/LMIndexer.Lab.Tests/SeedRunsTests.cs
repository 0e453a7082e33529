using System.Text.Json.Nodes;
using LMIndexer.Bench.Reporting;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

/// <summary>Runs of one seed each, combined into the mean ± sd the results format asks for.</summary>
public sealed class SeedRunsTests
{
    private static string WriteRun(string folder, string name, string command, int? protocolSeed, params (string System, string Metric, double Value, double? Low, double? High)[] rows)
    {
        var json = new JsonObject
        {
            ["benchmark"] = name,
            ["command"] = command,
            ["git"] = "abc1234",
            ["wall_seconds"] = 100,
            ["rows"] = new JsonArray([.. rows.Select(r =>
            {
                var row = new JsonObject { ["system"] = r.System, ["metric"] = r.Metric, ["value"] = r.Value };
                if (r.Low is { } low)
                    (row["ci_low"], row["ci_high"]) = (low, r.High);
                return (JsonNode)row;
            })]),
        };
        if (protocolSeed is { } seed)
            json["protocol"] = new JsonObject { ["selected_on"] = "validation", ["test_decodes"] = 1, ["seeds"] = new JsonArray(seed) };
        var path = Path.Combine(folder, name + ".json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    [Fact]
    public void Shared_rows_become_mean_and_sd_differences_keep_each_seeds_interval_and_the_rest_is_named()
    {
        using var temp = new TempDirectory();
        var runs = new[]
        {
            // Recorded before the protocol block: the seed is the command's, or the default.
            WriteRun(temp.Path, "r42", "lmindexer-bench retrieval bench --threads 1", null,
                ("bm25", "ndcg@10", 0.60, null, null), ("hybrid", "ndcg@10", 0.64, null, null), ("hybrid-minus-bm25", "ndcg@10", 0.04, -0.01, 0.09), ("dense-ft-minilm", "ndcg@10", 0.5, null, null)),
            WriteRun(temp.Path, "r1", "lmindexer-bench retrieval bench --seed 1", null,
                ("bm25", "ndcg@10", 0.62, null, null), ("hybrid", "ndcg@10", 0.70, null, null), ("hybrid-minus-bm25", "ndcg@10", 0.08, 0.02, 0.14)),
            WriteRun(temp.Path, "r2", "lmindexer-bench retrieval bench", 2,
                ("bm25", "ndcg@10", 0.58, null, null), ("hybrid", "ndcg@10", 0.67, null, null), ("hybrid-minus-bm25", "ndcg@10", 0.09, 0.03, 0.15)),
        };
        var recorded = runs.Select(RecordedRun.Read).ToList();
        Assert.Equal([42, 1, 2], recorded.Select(r => r.Seed));

        var (rows, skipped) = SeedRuns.Combine(recorded);

        var bm25 = Assert.Single(rows, r => r.System == "bm25");
        Assert.Equal((0.60, 0.02, 3), (Math.Round(bm25.Value, 10), Math.Round(bm25.Sd!.Value, 10), bm25.N));
        var hybrid = Assert.Single(rows, r => r.System == "hybrid");
        Assert.Equal(0.67, hybrid.Value, 10);
        Assert.Equal(0.03, hybrid.Sd!.Value, 10);
        var difference = Assert.Single(rows, r => r.System == "hybrid-minus-bm25" && r.Metric == "ndcg@10");
        Assert.Equal(0.07, difference.Value, 10);
        Assert.Null(difference.CiLow);   // intervals over other test queries do not pool into one
        var seed1 = Assert.Single(rows, r => r.Metric == "ndcg@10_seed1");
        Assert.Equal((0.08, 0.02, 0.14), (seed1.Value, seed1.CiLow!.Value, seed1.CiHigh!.Value));
        Assert.Equal(["dense-ft-minilm ndcg@10"], skipped);

        var table = SeedRuns.Table(rows, ["ndcg@10"], recorded);
        Assert.Contains("| hybrid | 0.6700 ± 0.0300 |", table, StringComparison.Ordinal);
        Assert.Contains("seed 42: +0.0400 (-0.0100 … +0.0900)", table, StringComparison.Ordinal);
    }

    [Fact]
    public void Runs_of_one_seed_twice_or_already_over_seeds_are_refused()
    {
        using var temp = new TempDirectory();
        var a = RecordedRun.Read(WriteRun(temp.Path, "a", "lmindexer-bench retrieval bench --seed 3", null, ("bm25", "ndcg@10", 0.6, null, null)));
        var b = RecordedRun.Read(WriteRun(temp.Path, "b", "lmindexer-bench retrieval bench", 3, ("bm25", "ndcg@10", 0.6, null, null)));
        Assert.Contains("Seed 3 is in 2 of the runs", Assert.Throws<ArgumentException>(() => SeedRuns.Combine([a, b])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => SeedRuns.Combine([a]));

        var over = Path.Combine(temp.Path, "over.json");
        File.WriteAllText(over, """{"benchmark": "x", "command": "c", "protocol": {"seeds": [1, 2, 3]}, "rows": []}""");
        Assert.Contains("already over 3 seeds", Assert.Throws<InvalidDataException>(() => RecordedRun.Read(over)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_writes_the_combined_result_with_its_protocol()
    {
        using var temp = new TempDirectory();
        var one = WriteRun(temp.Path, "s1", "lmindexer-bench retrieval bench --seed 1", null, ("bm25", "ndcg@10", 0.6, null, null));
        var two = WriteRun(temp.Path, "s2", "lmindexer-bench retrieval bench --seed 2", null, ("bm25", "ndcg@10", 0.7, null, null));

        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), "results", "combine", one, two, "--name", "both", "--results", "out");

        Assert.True(run.ExitCode == 0, run.Error);
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(temp.Path, "out", "results", "both.json")))!;
        Assert.Equal([1, 2], written["protocol"]!["seeds"]!.AsArray().Select(s => s!.GetValue<int>()));
        var row = written["rows"]!.AsArray().Single()!;
        Assert.Equal((0.65, 2), (row["value"]!.GetValue<double>(), row["n"]!.GetValue<int>()));
        Assert.Contains("## both", File.ReadAllText(Path.Combine(temp.Path, "out", "experiments.md")), StringComparison.Ordinal);

        var missing = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), "results", "combine", one, "nope.json", "--name", "x", "--results", "out");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.json does not exist", missing.Error, StringComparison.Ordinal);
        // A refusal from the library reads as one line, without .NET's parameter name.
        var single = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), "results", "combine", one, "--name", "x", "--results", "out");
        Assert.Equal((2, "lmindexer-bench: Combining needs runs of at least 2 seeds, got 1."), (single.ExitCode, single.Error.Trim()));
    }

    [Fact]
    public void Systems_are_renamed_in_their_rows_and_on_either_side_of_a_difference()
    {
        BenchmarkRow[] rows =
        [
            new("lmindexer", "recall@10", 0.07) { Sd = 0.001, N = 3 },
            new("no-ids", "recall@10", 0.06) { Sd = 0.003, N = 3 },
            new("lmindexer-minus-no-ids", "recall@10", 0.01) { Sd = 0.004, N = 3, CiLow = 0.008, CiHigh = 0.012 },
        ];

        var renamed = SeedRuns.Rename(rows, new Dictionary<string, string> { ["no-ids"] = "lmindexer-no-ids" });

        Assert.Equal(["lmindexer", "lmindexer-no-ids", "lmindexer-minus-lmindexer-no-ids"], renamed.Select(r => r.System));
        Assert.Equal(rows.Select(r => (r.Metric, r.Value, r.Sd, r.CiLow)), renamed.Select(r => (r.Metric, r.Value, r.Sd, r.CiLow)));
        Assert.Contains("'no-id'", Assert.Throws<ArgumentException>(() => SeedRuns.Rename(rows, new Dictionary<string, string> { ["no-id"] = "x" })).Message, StringComparison.Ordinal);
        Assert.Contains("two rows of lmindexer recall@10", Assert.Throws<ArgumentException>(() => SeedRuns.Rename(rows, new Dictionary<string, string> { ["no-ids"] = "lmindexer" })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_command_renames_systems_and_refuses_a_name_no_run_holds()
    {
        using var temp = new TempDirectory();
        var one = WriteRun(temp.Path, "s1", "lmindexer-bench rec bench --seed 1", null, ("no-ids", "ndcg@10", 0.6, null, null));
        var two = WriteRun(temp.Path, "s2", "lmindexer-bench rec bench --seed 2", null, ("no-ids", "ndcg@10", 0.7, null, null));

        var run = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), "results", "combine", one, two, "--name", "both", "--rename", "no-ids=lmindexer-no-ids", "--results", "out");

        Assert.True(run.ExitCode == 0, run.Error);
        var written = JsonNode.Parse(File.ReadAllText(Path.Combine(temp.Path, "out", "results", "both.json")))!;
        Assert.Equal("lmindexer-no-ids", written["rows"]!.AsArray().Single()!["system"]!.GetValue<string>());

        var unknown = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), "results", "combine", one, two, "--name", "x", "--rename", "sasrec=lmindexer-sasrec", "--results", "out");
        Assert.Equal((2, "lmindexer-bench: --rename: No row is of system 'sasrec' (systems: no-ids)."), (unknown.ExitCode, unknown.Error.Trim()));
        var malformed = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(1), "results", "combine", one, two, "--name", "x", "--rename", "no-ids", "--results", "out");
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("--rename takes distinct OLD=NEW pairs", malformed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Per_user_metrics_read_back_as_written_and_refuse_vectors_over_other_users()
    {
        using var temp = new TempDirectory();
        var path = PerUserMetrics.PathFor(Path.Combine(temp.Path, "results", "rec-seed1.json"));
        Assert.Equal(Path.Combine(temp.Path, "results", "rec-seed1.users.tsv.gz"), path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var ndcg = new[] { 1.0, 0.0, 1 / Math.Log2(3), 0.3868528072345416 };

        PerUserMetrics.Write(path, new Dictionary<string, IReadOnlyDictionary<string, double[]>>
        {
            ["lmindexer"] = new Dictionary<string, double[]> { ["recall@10"] = [1, 0, 1, 1], ["ndcg@10"] = ndcg },
            ["sasrec"] = new Dictionary<string, double[]> { ["recall@10"] = [0, 0, 1, 0] },
        });
        var read = PerUserMetrics.Read(path);

        Assert.Equal([1.0, 0, 1, 1], read["lmindexer"]["recall@10"]);
        Assert.Equal([0.0, 0, 1, 0], read["sasrec"]["recall@10"]);
        Assert.All(ndcg.Zip(read["lmindexer"]["ndcg@10"]), p => Assert.Equal(p.First, p.Second, 1e-8));
        Assert.Throws<ArgumentException>(() => PerUserMetrics.Write(path, new Dictionary<string, IReadOnlyDictionary<string, double[]>>
        {
            ["a"] = new Dictionary<string, double[]> { ["recall@10"] = [1, 0] },
            ["b"] = new Dictionary<string, double[]> { ["recall@10"] = [1, 0, 1] },
        }));
    }

    [Fact]
    public void Differences_pair_over_the_users_when_every_seed_saved_them_and_keep_only_seed_intervals_otherwise()
    {
        // Two seeds over the same 200 users: A beats B on every user at seed 1 and on half of them at seed 2.
        Dictionary<string, Dictionary<string, double[]>> Users(Func<int, double> a, Func<int, double> b) => new()
        {
            ["lmindexer"] = new() { ["recall@10"] = [.. Enumerable.Range(0, 200).Select(a)] },
            ["sasrec"] = new() { ["recall@10"] = [.. Enumerable.Range(0, 200).Select(b)] },
        };
        var seed1 = Users(_ => 1, _ => 0);
        var seed2 = Users(u => u % 2, _ => 0);
        var combined = new BenchmarkRow("lmindexer-minus-sasrec", "recall@10", 0.75) { Sd = 0.35, N = 2 };
        var mean = new BenchmarkRow("lmindexer", "recall@10", 0.75) { Sd = 0.35, N = 2 };

        var pooled = SeedRuns.PooledDifferences([combined, mean], [seed1, seed2]);

        var difference = pooled[0];
        Assert.Equal(0.75, difference.Value);
        Assert.InRange(difference.CiLow!.Value, 0.70, 0.75);   // users' mean differences are .5 or 1, half each: sd of the mean .018
        Assert.InRange(difference.CiHigh!.Value, 0.75, 0.80);
        Assert.Same(mean, pooled[1]);
        // A seed without the file, or over other users, leaves the row as it was.
        Assert.Same(combined, SeedRuns.PooledDifferences([combined], [seed1, null])[0]);
        Assert.Same(combined, SeedRuns.PooledDifferences([combined], [seed1, Users(_ => 1, _ => 0).ToDictionary(kv => kv.Key, kv => kv.Value.ToDictionary(m => m.Key, m => m.Value[..100]))])[0]);
    }

    [Fact]
    public void Runs_of_one_seed_in_several_files_merge_and_pair_their_systems_over_the_users()
    {
        static RecordedRun Run(string name, int seed, params BenchmarkRow[] rows) => new(name, "lmindexer-bench rec bench", "abc1234", 10, seed, "validation", rows);
        static Dictionary<string, Dictionary<string, double[]>> Users(string system, double[] recall) => new() { [system] = new() { ["recall@10"] = recall } };
        double[] ours = [.. Enumerable.Range(0, 100).Select(u => u % 2 == 0 ? 1.0 : 0)];
        double[] theirs = [.. Enumerable.Range(0, 100).Select(u => u % 4 == 0 ? 1.0 : 0)];
        var markov = new BenchmarkRow("markov", "recall@10", 0.3);
        RecordedRun[] runs =
        [
            Run("rec-seed1", 1, new BenchmarkRow("lmindexer", "recall@10", 0.5), markov),
            Run("rec-sasrec-seed1", 1, new BenchmarkRow("sasrec", "recall@10", 0.25), markov),
            Run("rec-seed2", 2, new BenchmarkRow("lmindexer", "recall@10", 0.5)),
        ];

        var (merged, users) = SeedRuns.MergeBySeed(runs, [Users("lmindexer", ours), Users("sasrec", theirs), null]);

        Assert.Equal([1, 2], merged.Select(r => r.Seed));
        Assert.Equal("rec-seed1 + rec-sasrec-seed1", merged[0].Benchmark);
        Assert.Equal(20, merged[0].WallSeconds);
        Assert.Single(merged[0].Rows, r => r.System == "markov");   // the same figure in both files is one row
        var difference = Assert.Single(merged[0].Rows, r => r.System == "lmindexer-minus-sasrec");
        Assert.Equal(0.25, difference.Value, 12);
        Assert.True(difference.CiLow > 0.1 && difference.CiHigh < 0.4, $"{difference.CiLow} … {difference.CiHigh}");
        Assert.Equal(["lmindexer", "sasrec"], users[0]!.Keys.Order());
        Assert.Null(users[1]);
        Assert.Same(runs[2], merged[1]);
        // Differences can be taken from another system: the product's default since its IDs are rq-VAE's.
        var (fromSasrec, _) = SeedRuns.MergeBySeed(runs, [Users("lmindexer", ours), Users("sasrec", theirs), null], ours: "sasrec");
        Assert.Equal(-0.25, Assert.Single(fromSasrec[0].Rows, r => r.System == "sasrec-minus-lmindexer").Value, 12);
        Assert.DoesNotContain(fromSasrec[0].Rows, r => r.System == "lmindexer-minus-sasrec");
        // A system with other figures in two files of one seed is refused.
        var conflict = Assert.Throws<ArgumentException>(() => SeedRuns.MergeBySeed([runs[0], Run("again", 1, new BenchmarkRow("markov", "recall@10", 0.31))], [null, null]));
        Assert.Contains("Seed 1: markov recall@10", conflict.Message, StringComparison.Ordinal);
    }
}
