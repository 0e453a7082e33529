namespace LMIndexer.Cli.Tests;

public sealed class CommandLineTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("data stats /nonexistent/catalog", "does not exist")]
    [InlineData("data synth --out {tmp}/c --items 5", "At least 10 items")]
    [InlineData("model info {tmp}", "not a model bundle")]
    [InlineData("index eval {tmp}", "no ids.tsv")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x", "does not exist")]
    [InlineData("model pretrain --catalog {tmp} --out {tmp}/b --steps 0", "--steps must be positive")]
    [InlineData("rec train --data {tmp} --index {tmp} --out {tmp}/r", "needs items.jsonl and sequences.tsv")]
    [InlineData("rec eval --data /nonexistent --bundle {tmp}", "needs items.jsonl and sequences.tsv")]
    [InlineData("index drift {tmp}/a.tsv {tmp}/b.tsv", "does not exist")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --epochs -2", "Stage epochs cannot be negative")]
    [InlineData("demo --rec-steps 0", "--rec-steps must be positive")]
    public void Bad_input_gives_one_line_and_exit_code_2(string commandLine, string expected) =>
        AssertOneLineUsageError(CliProcess.Tool, commandLine, expected);

    [Theory]
    [InlineData("rec bench --systems popularity,bogus", "Unknown system 'bogus'")]
    [InlineData("rec bench --systems sasrec --sasrec-eval-every 0", "--sasrec-eval-every and --sasrec-max-length must be at least 1")]
    [InlineData("index bench --methods kmeans-tree", "Give either --data or --corpus")]
    [InlineData("index bench --data {tmp}/missing", "does not exist")]
    [InlineData("index bench --data {tmp}/missing --later-continuous-epochs -1", "Stage epochs cannot be negative")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems bm25,bogus", "Unknown system 'bogus'")]
    [InlineData("serve --rates 10,fast", "'fast' is not a rate")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --method bogus", "Unknown --method 'bogus'")]
    public void Bad_input_to_the_bench_tool_gives_one_line_and_exit_code_2(string commandLine, string expected) =>
        AssertOneLineUsageError(CliProcess.BenchTool, commandLine, expected);

    [Theory]
    [InlineData("rec bench --systems popularity")]
    [InlineData("index train --items x.jsonl --out y --method kmeans-tree")]
    [InlineData("bench serve")]
    [InlineData("load")]
    public void The_product_cli_has_no_benchmarks_or_baselines(string commandLine)
    {
        using var temp = new TempDirectory();
        var result = CliProcess.Run(temp.Path, Quick, commandLine.Split(' '));
        Assert.Equal(1, result.ExitCode);   // System.CommandLine's exit code for an unknown command or option
    }

    [Theory]
    [InlineData("train")]
    [InlineData("rec train")]
    [InlineData("serve")]
    public void Product_training_commands_show_at_most_15_options_the_rest_live_in_recipes(string command)
    {
        using var temp = new TempDirectory();
        var help = CliProcess.Run(temp.Path, Quick, [.. command.Split(' '), "--help"]);
        Assert.Equal(0, help.ExitCode);
        var options = help.Output.Split("Options:")[1].Split('\n').Count(l => l.TrimStart().StartsWith('-'));
        Assert.InRange(options, 3, 15);
    }

    private static void AssertOneLineUsageError(string tool, string commandLine, string expected)
    {
        using var temp = new TempDirectory();
        var args = commandLine.Replace("{tmp}", temp.Path, StringComparison.Ordinal).Split(' ');
        var result = CliProcess.Run(tool, temp.Path, Quick, args);
        Assert.Equal(2, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith(tool + ": ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Index_drift_reports_kept_and_moved_groups()
    {
        using var temp = new TempDirectory();
        File.WriteAllLines(Path.Combine(temp.Path, "old.tsv"), ["a\t0 0 0", "b\t0 1 0", "c\t1 0 0"]);
        File.WriteAllLines(Path.Combine(temp.Path, "new.tsv"), ["a\t4 0 0", "b\t4 1 0", "c\t1 0 0", "d\t2 0 0"]);
        var drift = CliProcess.Run(temp.Path, Quick, "index", "drift", "old.tsv", "new.tsv");
        Assert.True(drift.ExitCode == 0, drift.Error);
        Assert.Matches(@"3 / 1 / 0", drift.Output);
        Assert.Matches(@"moved c1 0 → 4\s+│\s+2", drift.Output);
    }

    [Fact]
    public void Backfill_commands_report_an_unreachable_cluster_or_a_bad_gateway_in_one_line()
    {
        using var temp = new TempDirectory();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();   // a loopback port with nothing behind it
        var unreachable = CliProcess.Run(temp.Path, Quick, "backfill", "versions", "--gateway", $"127.0.0.1:{port}");
        Assert.Equal(2, unreachable.ExitCode);
        Assert.StartsWith($"lmindexer: cannot reach the cluster at 127.0.0.1:{port}", unreachable.Error, StringComparison.Ordinal);
        Assert.Single(unreachable.Error.Trim().Split('\n'));
        var badGateway = CliProcess.Run(temp.Path, Quick, "backfill", "rollback", "--gateway", "nonsense");
        Assert.Equal((2, "lmindexer: --gateway must be host:port, not 'nonsense'."), (badGateway.ExitCode, badGateway.Error.Trim()));
        var notABundle = CliProcess.Run(temp.Path, Quick, "backfill", "start", temp.Path);
        Assert.Equal(2, notABundle.ExitCode);
        Assert.Contains("manifest.json is missing", notABundle.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Apikey_new_prints_a_key_and_the_hash_the_silos_check_it_against()
    {
        using var temp = new TempDirectory();
        var result = CliProcess.Run(temp.Path, Quick, "apikey", "new", "--name", "feed", "--scopes", "catalog");
        Assert.Equal(0, result.ExitCode);
        var key = System.Text.RegularExpressions.Regex.Match(result.Output, @"key \(give to the client, shown once\): (\S+)").Groups[1].Value;
        var hash = System.Text.RegularExpressions.Regex.Match(result.Output, @"Security__ApiKeys__0__Sha256=([0-9a-f]{64})").Groups[1].Value;
        Assert.StartsWith("lmi_", key, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))), hash);
        Assert.Contains("Security__ApiKeys__0__Scopes__0=catalog", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Scopes__1", result.Output, StringComparison.Ordinal);
        var bad = CliProcess.Run(temp.Path, Quick, "apikey", "new", "--scopes", "root");
        Assert.Equal(2, bad.ExitCode);
    }

    [Fact]
    public void Malformed_command_lines_exit_non_zero_with_a_message()
    {
        using var temp = new TempDirectory();
        var result = CliProcess.Run(temp.Path, Quick, "data", "synth");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--out", result.Error + result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Synth_then_stats_describe_the_written_catalog()
    {
        using var temp = new TempDirectory();
        var synth = CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "120", "--users", "30");
        Assert.Equal(0, synth.ExitCode);
        Assert.True(File.Exists(Path.Combine(temp.Path, "cat", "items.jsonl")));
        var stats = CliProcess.Run(temp.Path, Quick, "data", "stats", "cat");
        Assert.Equal(0, stats.ExitCode);
        Assert.Matches(@"items\s+│\s+120", stats.Output);
        Assert.Matches(@"users\s+│\s+30", stats.Output);
    }

    [Fact]
    public void Miniature_demo_trains_serves_and_reuses_its_artefacts()
    {
        using var temp = new TempDirectory();
        string[] args = ["demo", "--work", "demo", "--items", "120", "--users", "60", "--steps", "20", "--rec-steps", "20", "--threads", "2", "--port", "0", "--exit-after-start"];
        var first = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(5), args);
        Assert.True(first.ExitCode == 0, $"demo failed ({first.ExitCode}): {first.Error}");
        Assert.Contains("Learn semantic IDs", first.Output, StringComparison.Ordinal);
        Assert.Contains("first code c1", first.Output, StringComparison.Ordinal);
        Assert.Contains("Serve from the embedded Orleans cluster", first.Output, StringComparison.Ordinal);
        Assert.Matches(@"http://127\.0\.0\.1:\d+/widget\?user=", first.Output);
        Assert.Contains("(index demo-v1)", first.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "demo", "model", "indexer", "ids.tsv")));
        Assert.Equal(120, File.ReadAllLines(Path.Combine(temp.Path, "demo", "model", "indexer", "ids.tsv")).Length);
        Assert.True(File.Exists(Path.Combine(temp.Path, "demo", "model", "serving", "trie.bin")));
        Assert.Matches(@"validation ndcg@10 \d\.\d{4} at step \d+ \(popularity \d\.\d{4}\)", first.Output);
        // The demo trains the shipped demo recipe, its flags written into it.
        using (var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "demo", "model", "serving", "manifest.json"))))
        {
            using var recipe = System.Text.Json.JsonDocument.Parse(manifest.RootElement.GetProperty("properties").GetProperty("recipe").GetString()!);
            Assert.Equal("demo", recipe.RootElement.GetProperty("name").GetString());
            Assert.Equal(20, recipe.RootElement.GetProperty("recommender").GetProperty("fineTune").GetProperty("steps").GetInt32());
        }

        var second = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), [.. args.Append("--no-serve")]);
        Assert.Equal(0, second.ExitCode);
        Assert.Equal(4, second.Output.Split("reusing").Length - 1);
    }

    [Fact]
    public void Rec_train_then_eval_writes_a_serving_bundle_and_a_json_report()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "80", "--users", "120").ExitCode);
        var index = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), "index", "train", "--items", "cat/items.jsonl", "--out", "bench/lmindexer", "--method", "kmeans-tree",
            "--size", "tiny", "--pretrain-steps", "5", "--codebook-size", "8", "--threads", "2");
        Assert.True(index.ExitCode == 0, index.Error);
        var bad = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "pictures");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("Unknown source 'pictures'", bad.Error, StringComparison.Ordinal);
        var badDropout = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--dropout", "1.5");
        Assert.Equal(2, badDropout.ExitCode);
        Assert.Contains("--dropout must be in [0, 1)", badDropout.Error, StringComparison.Ordinal);
        var badDecay = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--weight-decay", "-0.1");
        Assert.Equal((2, "lmindexer-bench: --weight-decay cannot be negative, got -0.1."), (badDecay.ExitCode, badDecay.Error.Trim()));
        var badSmoothing = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--label-smoothing", "1");
        Assert.Equal((2, "lmindexer-bench: --label-smoothing must be in [0, 1), got 1."), (badSmoothing.ExitCode, badSmoothing.Error.Trim()));
        var badAverage = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--weight-average", "1");
        Assert.Equal((2, "lmindexer-bench: --weight-average must be in [0, 1), got 1."), (badAverage.ExitCode, badAverage.Error.Trim()));
        var badHistoryDropout = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--history-dropout", "1");
        Assert.Equal((2, "lmindexer-bench: --history-dropout must be in [0, 1), got 1."), (badHistoryDropout.ExitCode, badHistoryDropout.Error.Trim()));
        var textHistoryDropout = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--history-dropout", "0.2");
        Assert.Equal((2, "lmindexer-bench: --history-dropout needs --source ids or ids+items (items are found by their ID tokens), not titles."), (textHistoryDropout.ExitCode, textHistoryDropout.Error.Trim()));
        var idsItemDropout = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--item-dropout", "0.3");
        Assert.Equal((2, "lmindexer-bench: --item-dropout needs --source ids+items (it drops item tokens), not ids."), (idsItemDropout.ExitCode, idsItemDropout.Error.Trim()));
        var badItemDropout = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "ids+items", "--fresh-model", "--item-dropout", "1");
        Assert.Equal((2, "lmindexer-bench: --item-dropout must be in [0, 1), got 1."), (badItemDropout.ExitCode, badItemDropout.Error.Trim()));
        var idsItemInit = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "ids", "--item-init", "ids");
        Assert.Equal((2, "lmindexer-bench: --item-init needs --source ids+items (it sets item vectors), not ids."), (idsItemInit.ExitCode, idsItemInit.Error.Trim()));
        var badItemInit = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids+items", "--fresh-model", "--item-init", "mean");
        Assert.Equal((2, "lmindexer-bench: Unknown --item-init 'mean'; expected random, ids, zero."), (badItemInit.ExitCode, badItemInit.Error.Trim()));
        var idsDenseLoss = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--dense-loss", "0.5");
        Assert.Equal((2, "lmindexer-bench: --dense-loss needs --source ids+items (the head scores item vectors), not ids."), (idsDenseLoss.ExitCode, idsDenseLoss.Error.Trim()));
        var badDenseLoss = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "ids+items", "--fresh-model", "--dense-loss", "-1");
        Assert.Equal((2, "lmindexer-bench: --dense-loss must be a number of at least 0, got -1."), (badDenseLoss.ExitCode, badDenseLoss.Error.Trim()));
        var itemsWithoutFresh = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids+items");
        Assert.Equal((2, "lmindexer-bench: --source ids+items needs --fresh-model (the index bundle's network has no item vectors)."), (itemsWithoutFresh.ExitCode, itemsWithoutFresh.Error.Trim()));
        var badSchedule = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--decay", "step");
        Assert.Equal((2, "lmindexer-bench: Unknown --decay 'step'; expected linear or cosine."), (badSchedule.ExitCode, badSchedule.Error.Trim()));
        var sizeWithoutFresh = CliProcess.RunBench(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--model-size", "mini");
        Assert.Equal((2, "lmindexer-bench: --model-size needs --fresh-model: the index bundle's weights have the bundle's shape."), (sizeWithoutFresh.ExitCode, sizeWithoutFresh.Error.Trim()));
        var unknownSize = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--fresh-model", "--model-size", "huge");
        Assert.Equal((2, "lmindexer-bench: Unknown --model-size 'huge'; expected tiny, mini, small, base."), (unknownSize.ExitCode, unknownSize.Error.Trim()));

        // The product's rec train reads the recipe's recommender settings.
        var train = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--recipe", "demo",
            "--set", "recommender.fineTune.steps=30", "--set", "recommender.fineTune.evalEvery=15", "--set", "recommender.fineTune.validationLimit=16",
            "--set", "recommender.fineTune.evaluation.beams=5", "--set", "recommender.source.maxSourceTokens=128", "--set", "recommender.source.maxItemTokens=32", "--threads", "2");
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("recall@10", train.Output, StringComparison.Ordinal);
        Assert.Contains("popularity", train.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("markov", train.Output, StringComparison.Ordinal);   // the lab's baseline, not the product's
        Assert.True(File.Exists(Path.Combine(temp.Path, "rec", "trie.bin")));
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "rec.checkpoint")), "the checkpoint is removed after success");

        // The bench tool's rec eval is the product's with the lab's markov column beside popularity.
        var eval = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(2), "rec", "eval", "--data", "cat", "--bundle", "rec", "--beams", "10", "--report", "report.json", "--threads", "2");
        Assert.True(eval.ExitCode == 0, eval.Error);
        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report.json"))).RootElement;
        Assert.Equal("recommendation", report.GetProperty("task").GetString());
        Assert.Equal(120, report.GetProperty("examples").GetInt32());
        Assert.InRange(report.GetProperty("metrics").GetProperty("recall@10").GetDouble(), 0, 1);
        Assert.True(report.GetProperty("popularity").TryGetProperty("ndcg@5", out _));

        // An ensemble of a model with itself averages identical log-probabilities: the same ranking.
        var twice = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), "rec", "eval", "--data", "cat", "--bundle", "rec", "--ensemble", "rec", "--beams", "10", "--report", "twice.json", "--threads", "2");
        Assert.True(twice.ExitCode == 0, twice.Error);
        var twiceReport = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "twice.json"))).RootElement;
        Assert.Equal(report.GetProperty("metrics").GetProperty("ndcg@10").GetDouble(), twiceReport.GetProperty("metrics").GetProperty("ndcg@10").GetDouble(), tolerance: 1e-6);
        Assert.Equal(Path.Combine(temp.Path, "rec"), Assert.Single(twiceReport.GetProperty("ensemble").EnumerateArray()).GetString());
        var other = Path.Combine(temp.Path, "rec-other");
        Directory.CreateDirectory(other);
        foreach (var file in Directory.GetFiles(Path.Combine(temp.Path, "rec")))
            File.Copy(file, Path.Combine(other, Path.GetFileName(file)));
        var manifest = Path.Combine(other, "manifest.json");
        File.WriteAllText(manifest, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(manifest), "\"maxSourceTokens\": \"\\d+\"", "\"maxSourceTokens\": \"7\""));
        var mismatched = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--ensemble", "rec-other", "--threads", "2");
        Assert.Equal(2, mismatched.ExitCode);
        Assert.Contains("another history source", mismatched.Error, StringComparison.Ordinal);

        Assert.Equal("generative", report.GetProperty("config").GetProperty("ranking").GetString());
        var badRanking = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--ranking", "sparse");
        Assert.Equal((2, "lmindexer: Unknown --ranking 'sparse'; expected generative, dense, hybrid."), (badRanking.ExitCode, badRanking.Error.Trim()));
        var badDenseWeight = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--dense-weight", "-1");
        Assert.Equal((2, "lmindexer: --dense-weight must be a number of at least 0, got -1."), (badDenseWeight.ExitCode, badDenseWeight.Error.Trim()));
        var headless = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--ranking", "dense", "--threads", "2");
        Assert.Equal((2, "lmindexer: --ranking dense needs bundles with a dense item head (trained with --dense-loss)."), (headless.ExitCode, headless.Error.Trim()));

        var wrongKind = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "bench/lmindexer");
        Assert.Equal(2, wrongKind.ExitCode);
        Assert.Contains("not a serving bundle", wrongKind.Error, StringComparison.Ordinal);

        // The count baselines and SASRec need only the ID table's item set.
        var bench = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(2), "rec", "bench", "--data", "cat", "--index-dir", "bench", "--systems", "popularity,markov,sasrec",
            "--sasrec-steps", "40", "--sasrec-eval-every", "20", "--sasrec-max-length", "5", "--validation-limit", "100", "--results", "report", "--name", "rec-docs", "--threads", "2");
        Assert.True(bench.ExitCode == 0, bench.Error);
        var benchMarkdown = File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md"));
        Assert.DoesNotContain("Every seq2seq system", benchMarkdown, StringComparison.Ordinal);   // no seq2seq system ran
        Assert.Contains("Sequential recommendation on `cat`", benchMarkdown, StringComparison.Ordinal);
        Assert.Contains("last 5 items, full-softmax CE", benchMarkdown, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-docs.json")));
        var systems = json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("metric").GetString() == "recall@10")
            .ToDictionary(r => r.GetProperty("system").GetString()!, r => r.GetProperty("value").GetDouble());
        Assert.Equal(["markov", "popularity", "sasrec"], systems.Keys.Order());
        Assert.All(systems.Values, v => Assert.InRange(v, 0, 1));
        // SASRec's validation curve (every --sasrec-eval-every steps) is in the report, as the seq2seq systems' is.
        var sasrecCurve = json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("system").GetString() == "sasrec" && r.GetProperty("metric").GetString()!.StartsWith("validation_ndcg@10_step_", StringComparison.Ordinal))
            .Select(r => r.GetProperty("metric").GetString()).ToList();
        Assert.Equal(["validation_ndcg@10_step_20", "validation_ndcg@10_step_40"], sasrecCurve);
        // rec eval's baseline columns rank the same test users as the benchmark's rows.
        Assert.Equal(systems["markov"], report.GetProperty("markov").GetProperty("recall@10").GetDouble(), tolerance: 1e-4);
        Assert.Equal(systems["popularity"], report.GetProperty("popularity").GetProperty("recall@10").GetDouble(), tolerance: 1e-4);

        // A second seed of the LMIndexer recommender, and the two as an ensemble, in one section.
        string[] EnsembleBench(string sectionName) => ["rec", "bench", "--data", "cat", "--index-dir", "bench", "--out-dir", "seeds", "--systems", "markov,lmindexer", "--steps", "10",
            "--eval-every", "5", "--validation-limit", "16", "--results", "report", "--name", sectionName, "--ensemble-seeds", "7", "--threads", "2"];
        var seeds = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), EnsembleBench("rec-seeds"));
        Assert.True(seeds.ExitCode == 0, seeds.Error);
        Assert.Equal("7", System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "seeds", "lmindexer-seed7", "manifest.json")))
            .RootElement.GetProperty("properties").GetProperty("seed").GetString());
        var section = File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md"));
        Assert.Contains("| lmindexer-seed7 |", section, StringComparison.Ordinal);
        Assert.Contains("| lmindexer×2 |", section, StringComparison.Ordinal);
        Assert.Contains("best of validations on 16 users", section.Split("## rec-seeds")[1], StringComparison.Ordinal);
        Assert.Contains("LMIndexer ÷ markov", section, StringComparison.Ordinal);
        Assert.DoesNotContain("LMIndexer ÷ lmindexer", section, StringComparison.Ordinal);
        var reused = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(2), [.. EnsembleBench("rec-seeds-reused"), "--reuse"]);
        Assert.True(reused.ExitCode == 0, reused.Error);
        var reusedSection = File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")).Split("## rec-seeds-reused")[1];
        Assert.Equal(2, reusedSection.Split("(bundle reused)").Length - 1);   // each seed's row; the ensemble decodes the two bundles
        using var seedsJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-seeds.json")));
        using var reusedJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-seeds-reused.json")));
        double Ensemble(System.Text.Json.JsonDocument doc) => doc.RootElement.GetProperty("rows").EnumerateArray()
            .Single(r => r.GetProperty("system").GetString() == "lmindexer×2" && r.GetProperty("metric").GetString() == "ndcg@10").GetProperty("value").GetDouble();
        Assert.Equal(Ensemble(seedsJson), Ensemble(reusedJson), tolerance: 1e-6);
        foreach (var (value, systemsList, message) in new[] { ("42", "lmindexer", "repeats seed 42"), ("x", "lmindexer", "comma-separated integers, got 'x'"), ("7", "markov", "add it to --systems") })
        {
            var refused = CliProcess.RunBench(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--systems", systemsList, "--ensemble-seeds", value);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains(message, refused.Error, StringComparison.Ordinal);
        }

        // A dense item head: its bundle ranks hybrid by default, and dense or generative when asked.
        var dense = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec-dense",
            "--source", "ids+items", "--fresh-model", "--dense-loss", "1", "--steps", "30", "--eval-every", "15", "--validation-limit", "16", "--beams", "5", "--threads", "2");
        Assert.True(dense.ExitCode == 0, dense.Error);
        foreach (var (ranking, expected) in new[] { (null, "hybrid"), ("dense", "dense"), ("generative", "generative") })
        {
            string[] args = ["rec", "eval", "--data", "cat", "--bundle", "rec-dense", "--beams", "10", "--report", $"dense-{expected}.json", "--threads", "2", "--limit", "40"];
            var ranked = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), ranking is null ? args : [.. args, "--ranking", ranking]);
            Assert.True(ranked.ExitCode == 0, ranked.Error);
            Assert.Contains($"rec eval (test, {expected})", ranked.Output, StringComparison.Ordinal);
            var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, $"dense-{expected}.json"))).RootElement.GetProperty("config");
            Assert.Equal(expected, config.GetProperty("ranking").GetString());
            Assert.Equal("1", config.GetProperty("model").GetProperty("denseLoss").GetString());
        }
    }

    [Fact]
    public void Search_and_retrieval_train_and_eval_on_their_own_data()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "60", "--users", "20").ExitCode);
        Assert.Equal(0, CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), "index", "train", "--items", "cat/items.jsonl", "--out", "index", "--method", "kmeans-tree",
            "--size", "tiny", "--pretrain-steps", "5", "--codebook-size", "8", "--threads", "2").ExitCode);
        var search = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "search", "train", "--items", "cat/items.jsonl", "--index", "index", "--out", "search",
            "--steps", "20", "--eval-every", "10", "--beams", "5", "--item-text-queries", "--threads", "2");
        Assert.True(search.ExitCode == 0, search.Error);
        Assert.Contains("recall@10", search.Output, StringComparison.Ordinal);
        var searchEval = CliProcess.Run(temp.Path, Quick, "search", "eval", "--items", "cat/items.jsonl", "--bundle", "search", "--beams", "5", "--threads", "2");
        Assert.True(searchEval.ExitCode == 0, searchEval.Error);
        var mismatch = CliProcess.Run(temp.Path, Quick, "retrieval", "eval", "--corpus", "corpus", "--bundle", "search");
        Assert.Equal(2, mismatch.ExitCode);

        var corpus = Directory.CreateDirectory(Path.Combine(temp.Path, "corpus")).FullName;
        string[] topics = ["wing lift", "heat transfer", "shock wave", "boundary layer"];
        File.WriteAllLines(Path.Combine(corpus, "docs.jsonl"), Enumerable.Range(1, 24).Select(i => $$"""{"id": "{{i}}", "title": "{{topics[i % 4]}} study {{i}}", "text": "measurements of {{topics[i % 4]}} in case {{i}}"}"""));
        File.WriteAllLines(Path.Combine(corpus, "queries.jsonl"), Enumerable.Range(1, 20).Select(i => $$"""{"id": "{{i}}", "text": "what is known about {{topics[i % 4]}} case {{i}}"}"""));
        File.WriteAllLines(Path.Combine(corpus, "qrels.tsv"), Enumerable.Range(1, 20).Select(i => $"{i}\t{i}\t1"));
        Assert.Equal(0, CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), "index", "train", "--corpus", "corpus", "--out", "docs-index", "--method", "kmeans-tree",
            "--size", "tiny", "--pretrain-steps", "5", "--codebook-size", "4", "--threads", "2").ExitCode);
        var retrieval = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "retrieval", "train", "--corpus", "corpus", "--index", "docs-index", "--out", "retrieval",
            "--steps", "20", "--eval-every", "10", "--beams", "5", "--threads", "2");
        Assert.True(retrieval.ExitCode == 0, retrieval.Error);
        var retrievalEval = CliProcess.Run(temp.Path, Quick, "retrieval", "eval", "--corpus", "corpus", "--bundle", "retrieval", "--report", "r.json", "--threads", "2");
        Assert.True(retrievalEval.ExitCode == 0, retrievalEval.Error);
        Assert.Contains("\"task\": \"retrieval\"", File.ReadAllText(Path.Combine(temp.Path, "r.json")), StringComparison.Ordinal);

        // The benchmark pair: IDs for the corpus from one shared pretrained model, then every system on one query split.
        var indexBench = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), "index", "bench", "--corpus", "corpus", "--methods", "kmeans-tree,rqvae", "--size", "tiny",
            "--pretrain-steps", "5", "--codebook-size", "4", "--work", "bench", "--results", "report", "--name", "index-docs", "--threads", "2");
        Assert.True(indexBench.ExitCode == 0, indexBench.Error);
        Assert.Contains("no AMI", File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")), StringComparison.Ordinal);
        var retrievalBench = CliProcess.RunBench(temp.Path, TimeSpan.FromMinutes(3), "retrieval", "bench", "--corpus", "corpus", "--index-dir", "bench", "--systems", "bm25,rqvae",
            "--steps", "10", "--eval-every", "10", "--results", "report", "--name", "retrieval-docs", "--threads", "2");
        Assert.True(retrievalBench.ExitCode == 0, retrievalBench.Error);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "retrieval-docs.json")));
        var rows = json.RootElement.GetProperty("rows").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("system").GetString(), r.GetProperty("metric").GetString()), r => r.GetProperty("value").GetDouble());
        Assert.True(rows[("bm25", "mrr@10")] >= 0.75, $"BM25 ranks the document with the query's topic and case number first: MRR@10 {rows[("bm25", "mrr@10")]}");
        Assert.InRange(rows[("rqvae", "recall@10")], 0, 1);
        Assert.True(File.Exists(Path.Combine(temp.Path, "bench", "retrieval", "rqvae", "trie.bin")));
        var missingIndex = CliProcess.RunBench(temp.Path, Quick, "retrieval", "bench", "--corpus", "corpus", "--index-dir", "bench", "--systems", "lmindexer");
        Assert.Equal(2, missingIndex.ExitCode);
        Assert.Contains("index bench", missingIndex.Error, StringComparison.Ordinal);

        var both = CliProcess.Run(temp.Path, Quick, "index", "train", "--items", "cat/items.jsonl", "--corpus", "corpus", "--out", "x");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("either --items or --corpus", both.Error, StringComparison.Ordinal);
    }
}
