using LMIndexer.Testing;

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
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --encoder bert-huge", "unknown encoder 'bert-huge'; expected t5-scratch, minilm, arctic-xs")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --encoder minilm --encoder-trainable-layers 7", "minilm has 6 layers, got 7 to train")]
    [InlineData("model pretrain --catalog {tmp} --out {tmp}/b --encoder bert-huge", "Unknown --encoder 'bert-huge'")]
    [InlineData("search tune-encoder --items {tmp}/missing.jsonl --out {tmp}/m.onnx --encoder bert-huge", "Unknown --encoder 'bert-huge'")]
    [InlineData("search tune-encoder --items {tmp}/missing.jsonl --out {tmp}/m.onnx --batch-size 1", "BatchSize")]
    [InlineData("retrieval tune-encoder --corpus {tmp}/missing --out {tmp}/m.onnx", "does not exist")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --method kmeans-tree", "Unknown --method 'kmeans-tree'; expected lmindexer or rqvae.")]   // the baselines live in the lab
    public void Bad_input_gives_one_line_and_exit_code_2(string commandLine, string expected) =>
        AssertOneLineUsageError(CliProcess.Tool, commandLine, expected);
    [Theory]
    [InlineData("rec bench --systems popularity")]
    [InlineData("bench serve")]
    [InlineData("load")]
    public void The_product_cli_has_no_benchmarks_or_baselines(string commandLine)
    {
        using var temp = new TempDirectory();
        var result = CliProcess.Run(temp.Path, Quick, commandLine.Split(' '));
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Unrecognized command or argument '", line, StringComparison.Ordinal);
        Assert.Equal("", result.Output);   // one line, not the help page
    }

    [Theory]
    [InlineData("train --catalog {tmp} --nope", "Unrecognized command or argument '--nope'. Option '--out' is required. (see 'lmindexer train --help')")]
    [InlineData("serve --bundle {tmp} --port abc", "Cannot parse argument 'abc' for option '--port'")]
    public void A_command_line_that_does_not_parse_is_one_line_and_exit_code_2(string commandLine, string expected) =>
        AssertOneLineUsageError(CliProcess.Tool, commandLine, expected);

    [Fact]
    public void Help_still_prints_and_a_bare_tool_name_prints_it_as_a_usage_error()
    {
        using var temp = new TempDirectory();
        var help = CliProcess.Run(temp.Path, Quick, "train", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--catalog", help.Output, StringComparison.Ordinal);
        var bare = CliProcess.Run(temp.Path, Quick);
        Assert.Equal(2, bare.ExitCode);
        Assert.Contains("serve", bare.Output, StringComparison.Ordinal);
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
        // A path only the silos see is theirs to read: the CLI goes to the cluster with it.
        var silosOnly = CliProcess.Run(temp.Path, Quick, "backfill", "start", "/bundles/not-on-this-machine", "--gateway", $"127.0.0.1:{port}");
        Assert.Equal(2, silosOnly.ExitCode);
        Assert.StartsWith($"lmindexer: cannot reach the cluster at 127.0.0.1:{port}", silosOnly.Error, StringComparison.Ordinal);
        var relative = CliProcess.Run(temp.Path, Quick, "backfill", "start", "bundles/v2");
        Assert.Equal((2, "lmindexer: 'bundles/v2' is not a directory here; give the bundle's absolute path on the silos' disk."), (relative.ExitCode, relative.Error.Trim()));
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
        string[] args = ["demo", "--work", "demo", "--items", "120", "--users", "60", "--steps", "20", "--rec-steps", "20", "--threads", "1", "--port", "0", "--exit-after-start"];
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
        var index = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), TinyIndexTrain("--items", "cat/items.jsonl", "index", codebookSize: 8));
        Assert.True(index.ExitCode == 0, index.Error);

        // The product's rec train reads the recipe's recommender settings.
        var train = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "rec", "train", "--data", "cat", "--index", "index", "--out", "rec", "--recipe", "demo",
            "--set", "recommender.fineTune.steps=30", "--set", "recommender.fineTune.evalEvery=15", "--set", "recommender.fineTune.validationLimit=16",
            "--set", "recommender.fineTune.evaluation.beams=5", "--set", "recommender.source.maxSourceTokens=128", "--set", "recommender.source.maxItemTokens=32", "--threads", "1");
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("recall@10", train.Output, StringComparison.Ordinal);
        Assert.Contains("popularity", train.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("markov", train.Output, StringComparison.Ordinal);   // the lab's baseline, not the product's
        Assert.True(File.Exists(Path.Combine(temp.Path, "rec", "trie.bin")));
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "rec.checkpoint")), "the checkpoint is removed after success");

        var eval = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), "rec", "eval", "--data", "cat", "--bundle", "rec", "--beams", "10", "--report", "report.json", "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.Error);
        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report.json"))).RootElement;
        Assert.Equal("recommendation", report.GetProperty("task").GetString());
        Assert.Equal(120, report.GetProperty("examples").GetInt32());
        Assert.InRange(report.GetProperty("metrics").GetProperty("recall@10").GetDouble(), 0, 1);
        Assert.True(report.GetProperty("popularity").TryGetProperty("ndcg@5", out _));
        Assert.False(report.TryGetProperty("markov", out _));   // the lab's baseline column

        // An ensemble of a model with itself averages identical log-probabilities: the same ranking.
        var twice = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), "rec", "eval", "--data", "cat", "--bundle", "rec", "--ensemble", "rec", "--beams", "10", "--report", "twice.json", "--threads", "1");
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
        var mismatched = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--ensemble", "rec-other", "--threads", "1");
        Assert.Equal(2, mismatched.ExitCode);
        Assert.Contains("another history source", mismatched.Error, StringComparison.Ordinal);

        Assert.Equal("generative", report.GetProperty("config").GetProperty("ranking").GetString());
        var badRanking = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--ranking", "sparse");
        Assert.Equal((2, "lmindexer: Unknown --ranking 'sparse'; expected generative, dense, hybrid."), (badRanking.ExitCode, badRanking.Error.Trim()));
        var badDenseWeight = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--dense-weight", "-1");
        Assert.Equal((2, "lmindexer: --dense-weight must be a number of at least 0, got -1."), (badDenseWeight.ExitCode, badDenseWeight.Error.Trim()));
        var headless = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "rec", "--ranking", "dense", "--threads", "1");
        Assert.Equal((2, "lmindexer: --ranking dense needs bundles with a dense item head (trained with --dense-loss)."), (headless.ExitCode, headless.Error.Trim()));

        var wrongKind = CliProcess.Run(temp.Path, Quick, "rec", "eval", "--data", "cat", "--bundle", "index");
        Assert.Equal(2, wrongKind.ExitCode);
        Assert.Contains("not a serving bundle", wrongKind.Error, StringComparison.Ordinal);

        // A dense item head (the default recipe has one): its bundle ranks hybrid by default, and dense or generative when asked.
        var dense = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "rec", "train", "--data", "cat", "--index", "index", "--out", "rec-dense", "--recipe", "default",
            "--set", "recommender.fineTune.steps=30", "--set", "recommender.fineTune.evalEvery=15", "--set", "recommender.fineTune.validationLimit=16",
            "--set", "recommender.fineTune.batchSize=32", "--set", "recommender.fineTune.evaluation.beams=5", "--threads", "1");
        Assert.True(dense.ExitCode == 0, dense.Error);
        foreach (var (ranking, expected) in new[] { (null, "hybrid"), ("dense", "dense"), ("generative", "generative") })
        {
            string[] args = ["rec", "eval", "--data", "cat", "--bundle", "rec-dense", "--beams", "10", "--report", $"dense-{expected}.json", "--threads", "1", "--limit", "40"];
            var ranked = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(2), ranking is null ? args : [.. args, "--ranking", ranking]);
            Assert.True(ranked.ExitCode == 0, ranked.Error);
            Assert.Contains($"rec eval (test, {expected})", ranked.Output, StringComparison.Ordinal);
            var config = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, $"dense-{expected}.json"))).RootElement.GetProperty("config");
            Assert.Equal(expected, config.GetProperty("ranking").GetString());
            Assert.Equal("0.3", config.GetProperty("model").GetProperty("denseLoss").GetString());
        }
    }

    [Fact]
    public void Search_and_retrieval_train_and_eval_on_their_own_data()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "60", "--users", "20").ExitCode);
        Assert.Equal(0, CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), TinyIndexTrain("--items", "cat/items.jsonl", "index", codebookSize: 8)).ExitCode);
        var search = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "search", "train", "--items", "cat/items.jsonl", "--index", "index", "--out", "search",
            "--steps", "20", "--eval-every", "10", "--beams", "5", "--item-text-queries", "--threads", "1");
        Assert.True(search.ExitCode == 0, search.Error);
        Assert.Contains("recall@10", search.Output, StringComparison.Ordinal);
        var searchEval = CliProcess.Run(temp.Path, Quick, "search", "eval", "--items", "cat/items.jsonl", "--bundle", "search", "--beams", "5", "--threads", "1");
        Assert.True(searchEval.ExitCode == 0, searchEval.Error);
        var mismatch = CliProcess.Run(temp.Path, Quick, "retrieval", "eval", "--corpus", "corpus", "--bundle", "search");
        Assert.Equal(2, mismatch.ExitCode);

        var corpus = Directory.CreateDirectory(Path.Combine(temp.Path, "corpus")).FullName;
        string[] topics = ["wing lift", "heat transfer", "shock wave", "boundary layer"];
        File.WriteAllLines(Path.Combine(corpus, "docs.jsonl"), Enumerable.Range(1, 24).Select(i => $$"""{"id": "{{i}}", "title": "{{topics[i % 4]}} study {{i}}", "text": "measurements of {{topics[i % 4]}} in case {{i}}"}"""));
        File.WriteAllLines(Path.Combine(corpus, "queries.jsonl"), Enumerable.Range(1, 20).Select(i => $$"""{"id": "{{i}}", "text": "what is known about {{topics[i % 4]}} case {{i}}"}"""));
        File.WriteAllLines(Path.Combine(corpus, "qrels.tsv"), Enumerable.Range(1, 20).Select(i => $"{i}\t{i}\t1"));
        Assert.Equal(0, CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), TinyIndexTrain("--corpus", "corpus", "docs-index", codebookSize: 4)).ExitCode);
        var retrieval = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "retrieval", "train", "--corpus", "corpus", "--index", "docs-index", "--out", "retrieval",
            "--steps", "20", "--eval-every", "10", "--beams", "5", "--threads", "1");
        Assert.True(retrieval.ExitCode == 0, retrieval.Error);
        var retrievalEval = CliProcess.Run(temp.Path, Quick, "retrieval", "eval", "--corpus", "corpus", "--bundle", "retrieval", "--report", "r.json", "--threads", "1");
        Assert.True(retrievalEval.ExitCode == 0, retrievalEval.Error);
        Assert.Contains("\"task\": \"retrieval\"", File.ReadAllText(Path.Combine(temp.Path, "r.json")), StringComparison.Ordinal);

        // The dense encoder fine-tuned on the same training queries, its step chosen on validation, written for Search:EncoderModel.
        var tuned = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "retrieval", "tune-encoder", "--corpus", "corpus", "--encoder", "minilm", "--out", "tuned/minilm.onnx",
            "--steps", "4", "--eval-every", "2", "--batch-size", "8", "--max-tokens", "32", "--threads", "1");
        Assert.True(tuned.ExitCode == 0, tuned.Error);
        Assert.Equal(3, tuned.Output.Split('\n').Count(line => line.StartsWith("validation ndcg@10", StringComparison.Ordinal)));   // steps 0, 2 and 4
        Assert.Matches(@"kept step [024] \(validation ndcg@10 [01]\.\d{4}", tuned.Output);
        // The served fusion's dense weight, chosen for the model on the same validation queries.
        var grid = tuned.Output.Split('\n').Select(line => System.Text.RegularExpressions.Regex.Match(line, @"^hybrid, dense weight ([\d.]+) \(BM25 1\): validation ndcg@10 ([01]\.\d{4})"))
            .Where(m => m.Success).ToDictionary(m => m.Groups[1].Value, m => double.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(["0", "0.1", "0.25", "0.5", "1", "2", "4"], grid.Keys);
        var served = System.Text.RegularExpressions.Regex.Match(tuned.Output, @"Search__DenseWeight=([\d.]+) \(best hybrid on validation\)");
        Assert.True(served.Success, tuned.Output);
        Assert.Equal(grid.Values.Max(), grid[served.Groups[1].Value]);
        Assert.Equal(new FileInfo(Path.Combine(temp.Path, "tuned", "minilm.onnx")).Length, Core.Encoders.PretrainedEncoderPackage.MiniLm.ReadModel().Length);

        var both = CliProcess.Run(temp.Path, Quick, "index", "train", "--items", "cat/items.jsonl", "--corpus", "corpus", "--out", "x");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("either --items or --corpus", both.Error, StringComparison.Ordinal);
    }
    /// <summary>LMIndexer at the smallest budgets: IDs good enough to train and serve on, in seconds.</summary>
    private static string[] TinyIndexTrain(string sourceOption, string source, string output, int codebookSize) =>
        ["index", "train", sourceOption, source, "--out", output, "--size", "tiny", "--pretrain-steps", "5", "--codebook-size", codebookSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
         "--epochs", "1", "--threads", "1"];
}
