using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

/// <summary><c>lmindexer-bench</c> as a researcher runs it: its flags, baselines, seeds and reports.</summary>
public sealed class BenchCommandLineTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("rec bench --systems popularity,bogus", "Unknown system 'bogus'")]
    [InlineData("rec bench --systems sasrec --sasrec-eval-every 0", "--sasrec-eval-every and --sasrec-max-length must be at least 1")]
    [InlineData("index bench --methods kmeans-tree", "Give either --data or --corpus")]
    [InlineData("index bench --data {tmp}/missing", "does not exist")]
    [InlineData("index bench --data {tmp}/missing --later-continuous-epochs -1", "Stage epochs cannot be negative")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems bm25,bogus", "Unknown system 'bogus'")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems hybrid --hybrid bert:1", "--hybrid: expected ENCODER:WEIGHT")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems hybrid --hybrid ft-minilm:1", "or ft-NAME with dense-ft-NAME among --systems")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems hybrid --hybrid minilm:1:0.5", "a generative weight needs lmindexer among --systems")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems hybrid,lmindexer --hybrid minilm:1:x", "GENERATIVE a finite weight")]
    [InlineData("retrieval bench --corpus {tmp} --index-dir {tmp} --systems dense-ft-minilm --dense-batch-size 1", "--dense-*:")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems sasrec --sasrec-grid depth=3", "--sasrec-grid: Unknown SASRec grid setting 'depth=3'")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems markov --sasrec-ensemble-seeds 3", "--sasrec-ensemble-seeds ensembles the sasrec system")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems sasrec --sasrec-ensemble-seeds 42", "--sasrec-ensemble-seeds repeats seed 42")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems sasrec --validate-only --refit", "--validate-only and --refit exclude each other")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems sasrec --validate-only --sasrec-ensemble-seeds 3", "--validate-only trains the grid at --seed alone")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems lmindexer --ranking hybrid@2", "--ranking fixes for a refit what its plain run chose on validation")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems lmindexer --refit --ranking beams", "--ranking 'beams' is not generative, dense or hybrid@W")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems lmindexer --refit --ranking hybrid@-1", "--ranking 'hybrid@-1' is not generative, dense or hybrid@W")]
    [InlineData("rec bench --data {tmp} --index-dir {tmp} --systems lmindexer --refit --ranking dense", "--ranking dense reads the dense item head")]
    [InlineData("serve --rates 10,fast", "'fast' is not a rate")]
    [InlineData("serve --events -1", "--events must be 0 (every history) or more")]
    [InlineData("index train --items {tmp}/missing.jsonl --out {tmp}/x --method bogus", "Unknown --method 'bogus'")]
    [InlineData("index bench --data {tmp} --seeds 1,2,1", "--seeds repeats seed 1")]
    [InlineData("index bench --data {tmp} --seeds 1,x", "--seeds takes comma-separated integers, got 'x'")]
    [InlineData("encoder bench --data {tmp}/missing", "does not exist")]
    [InlineData("encoder bench --data {tmp} --encoder t5-scratch", "Unknown --encoder 't5-scratch'")]
    [InlineData("scale --codebook 1 --work {tmp}", "--codebook must be between 2 and 65536")]
    [InlineData("scale --items 5 --work {tmp}", "At least 10 items are needed")]
    [InlineData("scale --assign-items 0 --work {tmp}", "--assign-items must be at least 1")]
    [InlineData("results combine {tmp}/missing.json --name x", "missing.json does not exist")]
    [InlineData("index restore-ids --name nothing --index-dir {tmp}/x --results {tmp}", "No IDs were kept for 'nothing'")]
    [InlineData("index keep-ids --index-dir {tmp} --methods a/b --name x --results {tmp}", "--methods: 'a/b' is not NAME=FOLDER or FOLDER")]
    [InlineData("index keep-ids --index-dir {tmp} --methods lmindexer=a,lmindexer=b --name x --results {tmp}", "--methods keeps two bundles as 'lmindexer'")]
    [InlineData("index keep-ids --index-dir {tmp} --methods lmindexer --name x --results {tmp}", "is not an index bundle: manifest.json is missing")]
    public void Bad_input_to_the_bench_tool_gives_one_line_and_exit_code_2(string commandLine, string expected) =>
        AssertOneLineUsageError(commandLine, expected);

    [Fact]
    public void Bench_rec_commands_take_the_labs_flags_baselines_and_seeds()
    {
        using var temp = new TempDirectory();
        BenchProcess.SynthesizeAndIndex(temp.Path, "bench/lmindexer");
        var bad = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "pictures");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("Unknown source 'pictures'", bad.Error, StringComparison.Ordinal);
        var badDropout = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--dropout", "1.5");
        Assert.Equal(2, badDropout.ExitCode);
        Assert.Contains("--dropout must be in [0, 1)", badDropout.Error, StringComparison.Ordinal);
        var badDecay = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--weight-decay", "-0.1");
        Assert.Equal((2, "lmindexer-bench: --weight-decay cannot be negative, got -0.1."), (badDecay.ExitCode, badDecay.Error.Trim()));
        var badSmoothing = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--label-smoothing", "1");
        Assert.Equal((2, "lmindexer-bench: --label-smoothing must be in [0, 1), got 1."), (badSmoothing.ExitCode, badSmoothing.Error.Trim()));
        var badAverage = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--weight-average", "1");
        Assert.Equal((2, "lmindexer-bench: --weight-average must be in [0, 1), got 1."), (badAverage.ExitCode, badAverage.Error.Trim()));
        var badHistoryDropout = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--history-dropout", "1");
        Assert.Equal((2, "lmindexer-bench: --history-dropout must be in [0, 1), got 1."), (badHistoryDropout.ExitCode, badHistoryDropout.Error.Trim()));
        var textHistoryDropout = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--history-dropout", "0.2");
        Assert.Equal((2, "lmindexer-bench: --history-dropout needs --source ids, ids+items or items (items are found by their ID or item tokens), not titles."), (textHistoryDropout.ExitCode, textHistoryDropout.Error.Trim()));
        var idsItemDropout = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--item-dropout", "0.3");
        Assert.Equal((2, "lmindexer-bench: --item-dropout needs --source ids+items (it drops item tokens and keeps ID tokens), not ids."), (idsItemDropout.ExitCode, idsItemDropout.Error.Trim()));
        var badItemDropout = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "ids+items", "--fresh-model", "--item-dropout", "1");
        Assert.Equal((2, "lmindexer-bench: --item-dropout must be in [0, 1), got 1."), (badItemDropout.ExitCode, badItemDropout.Error.Trim()));
        var idsItemInit = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "ids", "--item-init", "ids");
        Assert.Equal((2, "lmindexer-bench: --item-init needs --source ids+items or items (it sets item vectors), not ids."), (idsItemInit.ExitCode, idsItemInit.Error.Trim()));
        var badItemInit = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids+items", "--fresh-model", "--item-init", "mean");
        Assert.Equal((2, "lmindexer-bench: Unknown --item-init 'mean'; expected random, ids, zero."), (badItemInit.ExitCode, badItemInit.Error.Trim()));
        var idsDenseLoss = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--dense-loss", "0.5");
        Assert.Equal((2, "lmindexer-bench: --dense-loss needs --source ids+items or items (the head scores item vectors), not ids."), (idsDenseLoss.ExitCode, idsDenseLoss.Error.Trim()));
        var badDenseLoss = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "ids+items", "--fresh-model", "--dense-loss", "-1");
        Assert.Equal((2, "lmindexer-bench: --dense-loss must be a number of at least 0, got -1."), (badDenseLoss.ExitCode, badDenseLoss.Error.Trim()));
        var itemsWithoutFresh = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids+items");
        Assert.Equal((2, "lmindexer-bench: --source ids+items needs --fresh-model (the index bundle's network has no item vectors)."), (itemsWithoutFresh.ExitCode, itemsWithoutFresh.Error.Trim()));
        var itemTokensWithoutFresh = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--source", "items");
        Assert.Equal((2, "lmindexer-bench: --source items needs --fresh-model (the index bundle's network has no item vectors)."), (itemTokensWithoutFresh.ExitCode, itemTokensWithoutFresh.Error.Trim()));
        var itemsOnlyItemDropout = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "items", "--fresh-model", "--item-dropout", "0.3");
        Assert.Equal((2, "lmindexer-bench: --item-dropout needs --source ids+items (it drops item tokens and keeps ID tokens), not items."), (itemsOnlyItemDropout.ExitCode, itemsOnlyItemDropout.Error.Trim()));
        var noIdsOnIds = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--source", "ids", "--systems", "no-ids");
        Assert.Equal((2, "lmindexer-bench: The no-ids system reads the recipe's ids+items sources without their ID tokens; run it with --source ids+items."), (noIdsOnIds.ExitCode, noIdsOnIds.Error.Trim()));
        var refitGrid = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--systems", "sasrec", "--refit", "--sasrec-grid", "hidden=8,16");
        Assert.Equal((2, "lmindexer-bench: --refit trains settings chosen before; a --sasrec-grid of several settings would be chosen on test. Give the kept settings alone."), (refitGrid.ExitCode, refitGrid.Error.Trim()));
        var badSchedule = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--decay", "step");
        Assert.Equal((2, "lmindexer-bench: Unknown --decay 'step'; expected linear or cosine."), (badSchedule.ExitCode, badSchedule.Error.Trim()));
        var sizeWithoutFresh = BenchProcess.Run(temp.Path, Quick, "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec", "--model-size", "mini");
        Assert.Equal((2, "lmindexer-bench: --model-size needs --fresh-model: the index bundle's weights have the bundle's shape."), (sizeWithoutFresh.ExitCode, sizeWithoutFresh.Error.Trim()));
        var unknownSize = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--fresh-model", "--model-size", "huge");
        Assert.Equal((2, "lmindexer-bench: Unknown --model-size 'huge'; expected tiny, mini, small, base."), (unknownSize.ExitCode, unknownSize.Error.Trim()));

        // The lab's rec train takes each fine-tuning setting as a flag; its rec eval adds the markov column beside popularity.
        var train = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "rec", "train", "--data", "cat", "--index", "bench/lmindexer", "--out", "rec",
            "--source", "titles", "--steps", "30", "--eval-every", "15", "--validation-limit", "16", "--beams", "5", "--threads", "1");
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("markov", train.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "rec", "trie.bin")));

        var eval = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), "rec", "eval", "--data", "cat", "--bundle", "rec", "--beams", "10", "--report", "report.json", "--threads", "1");
        Assert.True(eval.ExitCode == 0, eval.Error);
        var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report.json"))).RootElement;
        Assert.Equal("recommendation", report.GetProperty("task").GetString());
        Assert.Equal(120, report.GetProperty("examples").GetInt32());
        Assert.InRange(report.GetProperty("metrics").GetProperty("recall@10").GetDouble(), 0, 1);
        Assert.True(report.GetProperty("popularity").TryGetProperty("ndcg@5", out _));

        // The count baselines and SASRec need only the ID table's item set.
        var bench = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), "rec", "bench", "--data", "cat", "--index-dir", "bench", "--systems", "popularity,markov,sasrec",
            "--sasrec-steps", "40", "--sasrec-eval-every", "20", "--sasrec-max-length", "5", "--sasrec-grid", "dropout=0.2,0.5", "--sasrec-ensemble-seeds", "3", "--validation-limit", "100",
            "--results", "report", "--name", "rec-docs", "--threads", "1");
        Assert.True(bench.ExitCode == 0, bench.Error);
        var benchMarkdown = File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md"));
        Assert.DoesNotContain("Every seq2seq system", benchMarkdown, StringComparison.Ordinal);   // no seq2seq system ran
        Assert.Contains("Sequential recommendation on `cat`", benchMarkdown, StringComparison.Ordinal);
        Assert.Contains("last 5 items, full-softmax CE", benchMarkdown, StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-docs.json")));
        var systems = json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("metric").GetString() == "recall@10")
            .ToDictionary(r => r.GetProperty("system").GetString()!, r => r.GetProperty("value").GetDouble());
        Assert.Equal(["markov", "popularity", "sasrec", "sasrec-ensemble"], systems.Keys.Order());
        Assert.All(systems.Values, v => Assert.InRange(v, 0, 1));
        // SASRec's validation curve (every --sasrec-eval-every steps) is in the report, as the seq2seq systems' is.
        var sasrecCurve = json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("system").GetString() == "sasrec" && r.GetProperty("metric").GetString()!.StartsWith("validation_ndcg@10_step_", StringComparison.Ordinal))
            .Select(r => r.GetProperty("metric").GetString()).ToList();
        Assert.Equal(["validation_ndcg@10_step_20", "validation_ndcg@10_step_40"], sasrecCurve);
        // Both grid settings were validated; the protocol names the one kept, the only one that met test.
        var sasrecProtocol = json.RootElement.GetProperty("protocol");
        Assert.Equal(["sasrec[dropout=0.2]", "sasrec[dropout=0.5]"],
            sasrecProtocol.GetProperty("validation").EnumerateObject().Select(p => p.Name).Where(n => n.StartsWith("sasrec[", StringComparison.Ordinal)));
        Assert.Matches(@"^sasrec\[dropout=0\.[25]\]@(20|40)$", sasrecProtocol.GetProperty("choice").GetString());
        Assert.Contains("chosen on validation among 2 settings (dropout=0.2,0.5)", benchMarkdown, StringComparison.Ordinal);
        // The kept settings again at seed 3, ranked with the first as one ensemble.
        Assert.Equal([42, 3], sasrecProtocol.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Contains("sasrec×2: the kept settings at seeds 42, 3", benchMarkdown, StringComparison.Ordinal);
        // rec eval's baseline columns rank the same test users as the benchmark's rows.
        Assert.Equal(systems["markov"], report.GetProperty("markov").GetProperty("recall@10").GetDouble(), tolerance: 1e-4);
        Assert.Equal(systems["popularity"], report.GetProperty("popularity").GetProperty("recall@10").GetDouble(), tolerance: 1e-4);

        // A grid split over processes: each trains its candidates without meeting test; the run with the
        // whole grid loads every candidate, chooses on validation and decodes test once.
        string[] SplitGrid(string grid) => ["rec", "bench", "--data", "cat", "--index-dir", "bench", "--out-dir", "split", "--systems", "sasrec", "--sasrec-steps", "40",
            "--sasrec-eval-every", "20", "--sasrec-max-length", "5", "--sasrec-grid", grid, "--validation-limit", "100", "--threads", "1"];
        foreach (var part in new[] { "dropout=0.2", "dropout=0.5" })
        {
            var validated = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), [.. SplitGrid(part), "--validate-only", "--results", "split-report", "--name", "never"]);
            Assert.True(validated.ExitCode == 0, validated.Error);
            Assert.Contains("no test decoded", validated.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("sasrec test", validated.Output, StringComparison.Ordinal);
        }
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "split-report")));   // nothing recorded
        Assert.Equal(2, Directory.GetDirectories(Path.Combine(temp.Path, "split", "sasrec")).Length);
        var chosen = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), [.. SplitGrid("dropout=0.2,0.5"), "--sasrec-ensemble-seeds", "3", "--reuse", "--results", "report", "--name", "rec-split-grid"]);
        Assert.True(chosen.ExitCode == 0, chosen.Error);
        Assert.Equal(2, chosen.Output.Split("loaded from").Length - 1);   // the candidates; the ensemble member at seed 3 trains now
        using var splitJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-split-grid.json")));
        var splitProtocol = splitJson.RootElement.GetProperty("protocol");
        Assert.Equal(["sasrec[dropout=0.2]", "sasrec[dropout=0.5]"],
            splitProtocol.GetProperty("validation").EnumerateObject().Select(p => p.Name).Where(n => n.StartsWith("sasrec[", StringComparison.Ordinal)));
        Assert.Equal(["sasrec", "sasrec-ensemble"], splitJson.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("metric").GetString() == "recall@10").Select(r => r.GetProperty("system").GetString()).Order());
        var validateMarkov = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--systems", "markov,sasrec", "--validate-only");
        Assert.Equal((2, "lmindexer-bench: --validate-only trains networks and markov has nothing to choose on validation; leave it out of --systems."), (validateMarkov.ExitCode, validateMarkov.Error.Trim()));

        // A second seed of the LMIndexer recommender, and the two as an ensemble, in one section.
        string[] EnsembleBench(string sectionName) => ["rec", "bench", "--data", "cat", "--index-dir", "bench", "--out-dir", "seeds", "--systems", "markov,lmindexer", "--steps", "10",
            "--eval-every", "5", "--validation-limit", "16", "--results", "report", "--name", sectionName, "--ensemble-seeds", "7", "--threads", "1"];
        var seeds = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), EnsembleBench("rec-seeds"));
        Assert.True(seeds.ExitCode == 0, seeds.Error);
        Assert.Equal("7", System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "seeds", "lmindexer-seed7", "manifest.json")))
            .RootElement.GetProperty("properties").GetProperty("seed").GetString());
        var section = File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md"));
        Assert.Contains("| lmindexer-seed7 |", section, StringComparison.Ordinal);
        Assert.Contains("| lmindexer×2 |", section, StringComparison.Ordinal);
        Assert.Contains("best of validations on 16 users", section.Split("## rec-seeds")[1], StringComparison.Ordinal);
        Assert.Contains("LMIndexer ÷ markov", section, StringComparison.Ordinal);
        Assert.DoesNotContain("LMIndexer ÷ lmindexer", section, StringComparison.Ordinal);
        AssertRecProtocol(Path.Combine(temp.Path, "report", "results", "rec-seeds.json"));
        var reused = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), [.. EnsembleBench("rec-seeds-reused"), "--reuse"]);
        Assert.True(reused.ExitCode == 0, reused.Error);
        var reusedSection = File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")).Split("## rec-seeds-reused")[1];
        Assert.Equal(2, reusedSection.Split("(bundle reused)").Length - 1);   // each seed's row; the ensemble decodes the two bundles
        using var seedsJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-seeds.json")));
        using var reusedJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-seeds-reused.json")));
        double Ensemble(System.Text.Json.JsonDocument doc) => doc.RootElement.GetProperty("rows").EnumerateArray()
            .Single(r => r.GetProperty("system").GetString() == "lmindexer×2" && r.GetProperty("metric").GetString() == "ndcg@10").GetProperty("value").GetDouble();
        Assert.Equal(Ensemble(seedsJson), Ensemble(reusedJson), tolerance: 1e-6);
        // A reused bundle brings the validation curve its step was chosen on into the new record.
        static IEnumerable<(string, double)> Curve(System.Text.Json.JsonDocument doc) => doc.RootElement.GetProperty("protocol").GetProperty("validation").EnumerateObject()
            .Select(p => (p.Name, p.Value.GetDouble()));
        Assert.NotEmpty(Curve(seedsJson));
        Assert.Equal(Curve(seedsJson), Curve(reusedJson));
        // A recipe trained for a choice on validation decodes no test; the run that follows the choice decodes the saved bundle once.
        string[] Candidate(string sectionName) => ["rec", "bench", "--data", "cat", "--index-dir", "bench", "--out-dir", "candidate", "--systems", "lmindexer", "--steps", "10",
            "--eval-every", "5", "--validation-limit", "16", "--results", "report", "--name", sectionName, "--threads", "1"];
        var candidate = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), [.. Candidate("never"), "--validate-only"]);
        Assert.True(candidate.ExitCode == 0, candidate.Error);
        Assert.Contains("no test decoded", candidate.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("lmindexer test", candidate.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("## never", File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")), StringComparison.Ordinal);
        var decoded = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), [.. Candidate("rec-candidate"), "--reuse"]);
        Assert.True(decoded.ExitCode == 0, decoded.Error);
        using var candidateJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "rec-candidate.json")));
        Assert.Equal(["lmindexer@10", "lmindexer@5"], Curve(candidateJson).Select(p => p.Item1).Order());

        foreach (var (value, systemsList, message) in new[] { ("42", "lmindexer", "repeats seed 42"), ("x", "lmindexer", "comma-separated integers, got 'x'"), ("7", "markov", "add it to --systems") })
        {
            var refused = BenchProcess.Run(temp.Path, Quick, "rec", "bench", "--data", "cat", "--index-dir", "bench", "--systems", systemsList, "--ensemble-seeds", value);
            Assert.Equal(2, refused.ExitCode);
            Assert.Contains(message, refused.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Index_and_retrieval_benchmarks_record_every_system_on_one_split()
    {
        using var temp = new TempDirectory();
        var corpus = Directory.CreateDirectory(Path.Combine(temp.Path, "corpus")).FullName;
        string[] topics = ["wing lift", "heat transfer", "shock wave", "boundary layer"];
        File.WriteAllLines(Path.Combine(corpus, "docs.jsonl"), Enumerable.Range(1, 24).Select(i => $$"""{"id": "{{i}}", "title": "{{topics[i % 4]}} study {{i}}", "text": "measurements of {{topics[i % 4]}} in case {{i}}"}"""));
        File.WriteAllLines(Path.Combine(corpus, "queries.jsonl"), Enumerable.Range(1, 20).Select(i => $$"""{"id": "{{i}}", "text": "what is known about {{topics[i % 4]}} case {{i}}"}"""));
        File.WriteAllLines(Path.Combine(corpus, "qrels.tsv"), Enumerable.Range(1, 20).Select(i => $"{i}\t{i}\t1"));

        // The benchmark pair: IDs for the corpus from one shared pretrained model, then every system on one query split.
        var indexBench = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "index", "bench", "--corpus", "corpus", "--methods", "kmeans-tree,rqvae", "--size", "tiny",
            "--pretrain-steps", "5", "--codebook-size", "4", "--work", "bench", "--results", "report", "--name", "index-docs", "--threads", "1");
        Assert.True(indexBench.ExitCode == 0, indexBench.Error);
        Assert.Contains("no AMI", File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")), StringComparison.Ordinal);
        var retrievalBench = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "retrieval", "bench", "--corpus", "corpus", "--index-dir", "bench", "--systems", "bm25,rqvae,dense-minilm,dense-ft-minilm,hybrid",
            "--steps", "10", "--eval-every", "10", "--dense-steps", "4", "--dense-eval-every", "2", "--dense-batch-size", "8",
            "--results", "report", "--name", "retrieval-docs", "--threads", "1");
        Assert.True(retrievalBench.ExitCode == 0, retrievalBench.Error);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "retrieval-docs.json")));
        var rows = json.RootElement.GetProperty("rows").EnumerateArray()
            .ToDictionary(r => (r.GetProperty("system").GetString(), r.GetProperty("metric").GetString()), r => r.GetProperty("value").GetDouble());
        Assert.True(rows[("bm25", "mrr@10")] >= 0.75, $"BM25 ranks the document with the query's topic and case number first: MRR@10 {rows[("bm25", "mrr@10")]}");
        Assert.InRange(rows[("rqvae", "recall@10")], 0, 1);
        Assert.True(rows.ContainsKey(("dense-minilm-minus-bm25", "ndcg@10")), "a paired difference against BM25 is recorded");
        Assert.True(rows[("dense-minilm", "recall@10")] >= 0.5, $"the pretrained encoder finds the query's topic among 24 documents: recall@10 {rows[("dense-minilm", "recall@10")]}");
        // The fine-tuned encoder kept the weights of its best validation (step 0: as packaged); every validation is recorded.
        Assert.Equal(["validation_ndcg@10_step0", "validation_ndcg@10_step2", "validation_ndcg@10_step4"],
            rows.Keys.Where(k => k.Item1 == "dense-ft-minilm" && k.Item2!.StartsWith("validation_", StringComparison.Ordinal)).Select(k => k.Item2!).Order(StringComparer.Ordinal));
        Assert.InRange(rows[("dense-ft-minilm", "recall@10")], 0, 1);
        Assert.True(File.Exists(Path.Combine(temp.Path, "bench", "retrieval", "ft-minilm.onnx")), "the kept weights are written for /api/search to serve");
        // The hybrid's encoder and weight come from validation queries: every point of its grid is recorded,
        // the encoder fine-tuned earlier in the run included.
        Assert.Equal(24, rows.Keys.Count(k => k.Item1 == "hybrid" && k.Item2!.StartsWith("validation_ndcg@10_", StringComparison.Ordinal)));
        Assert.True(rows.ContainsKey(("hybrid", "validation_ndcg@10_ft-minilm_w0.5")));
        Assert.True(rows[("hybrid", "validation_ndcg@10_minilm_w0")] >= 0, "weight 0 is BM25 alone");
        Assert.True(rows[("hybrid", "mrr@10")] >= 0.5, $"the fusion keeps BM25's first places: MRR@10 {rows[("hybrid", "mrr@10")]}");
        // The protocol block: the run's one seed, and the hybrid's choice with the grid behind it.
        var protocol = json.RootElement.GetProperty("protocol");
        Assert.Equal([42], protocol.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
        Assert.Equal(24, protocol.GetProperty("validation").EnumerateObject().Count());
        var choice = protocol.GetProperty("choice").GetString()!;
        Assert.Equal(protocol.GetProperty("validation").EnumerateObject().Max(p => p.Value.GetDouble()), protocol.GetProperty("validation").GetProperty(choice).GetDouble());
        Assert.True(File.Exists(Path.Combine(temp.Path, "bench", "retrieval", "rqvae", "trie.bin")));

        // With a seq2seq model of LMIndexer IDs in the run (here the rq-VAE bundle in its place), the hybrid
        // may fuse its generated items too: every generative weight is tried on validation, and the
        // hybrid runs after the model even when named first.
        CopyDirectory(Path.Combine(temp.Path, "bench", "rqvae"), Path.Combine(temp.Path, "generative", "lmindexer"));
        var withGenerative = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "retrieval", "bench", "--corpus", "corpus", "--index-dir", "generative", "--systems", "hybrid,bm25,lmindexer",
            "--steps", "10", "--eval-every", "10", "--results", "report", "--name", "retrieval-generative", "--threads", "1");
        Assert.True(withGenerative.ExitCode == 0, withGenerative.Error);
        using var generativeJson = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "retrieval-generative.json")));
        var grid = generativeJson.RootElement.GetProperty("protocol").GetProperty("validation").EnumerateObject().Select(p => p.Name).ToList();
        // Two packaged encoders × (7 finite dense weights × 5 generative weights + dense alone).
        Assert.Equal(72, grid.Count);
        Assert.Contains("minilm_w0.25_g0.5", grid);
        Assert.Contains("arctic-xs_w0_g1", grid);
        Assert.DoesNotContain(grid, g => g.Contains("Infinity_g", StringComparison.Ordinal));
        Assert.Contains("lmindexer model's generated items", File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")), StringComparison.Ordinal);

        var missingIndex = BenchProcess.Run(temp.Path, Quick, "retrieval", "bench", "--corpus", "corpus", "--index-dir", "bench", "--systems", "lmindexer");
        Assert.Equal(2, missingIndex.ExitCode);
        Assert.Contains("index bench", missingIndex.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_bench_on_a_pretrained_encoder_names_rows_by_encoder_and_summarises_seeds()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, BenchProcess.RunProduct(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "120", "--users", "20").ExitCode);
        var bench = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "index", "bench", "--data", "cat", "--encoder", "minilm", "--methods", "kmeans-tree,rqvae",
            "--seeds", "1,2", "--size", "tiny", "--pretrain-steps", "5", "--codebook-size", "4", "--work", "bench", "--results", "report", "--name", "index-minilm", "--threads", "1");
        Assert.True(bench.ExitCode == 0, bench.Error);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "report", "results", "index-minilm.json")));
        var ami = json.RootElement.GetProperty("rows").EnumerateArray()
            .Where(r => r.GetProperty("metric").GetString() == "ami")
            .ToDictionary(r => r.GetProperty("system").GetString()!, r => r);
        Assert.Equal(["kmeans-tree-minilm", "rqvae-minilm"], ami.Keys.Order());
        Assert.All(ami.Values, r => Assert.Equal(2, r.GetProperty("n").GetInt32()));
        Assert.All(ami.Values, r => Assert.True(r.GetProperty("sd").GetDouble() >= 0));
        Assert.True(Directory.Exists(Path.Combine(temp.Path, "bench", "rqvae-minilm-seed2")));
        Assert.Contains("learned on the `minilm` encoder", File.ReadAllText(Path.Combine(temp.Path, "report", "experiments.md")), StringComparison.Ordinal);
    }

    private static void AssertOneLineUsageError(string commandLine, string expected)
    {
        using var temp = new TempDirectory();
        var args = commandLine.Replace("{tmp}", temp.Path, StringComparison.Ordinal).Split(' ');
        var result = BenchProcess.Run(temp.Path, Quick, args);
        Assert.Equal(2, result.ExitCode);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith(BenchProcess.Tool + ": ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    /// <summary>
    /// A rec bench run of markov and lmindexer at seeds 42 and 7 records its protocol (the seeds, each
    /// trained network's step kept on validation, the validation curve behind it) and lmindexer minus
    /// markov over the same test users with paired intervals, not against its own other seeds.
    /// </summary>
    private static void AssertRecProtocol(string resultFile)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(resultFile));
        var protocol = json.RootElement.GetProperty("protocol");
        Assert.Equal("validation", protocol.GetProperty("selected_on").GetString());
        Assert.Equal(1, protocol.GetProperty("test_decodes").GetInt32());
        Assert.Equal([42, 7], protocol.GetProperty("seeds").EnumerateArray().Select(s => s.GetInt32()));
        var validation = protocol.GetProperty("validation").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble());
        Assert.Equal(["lmindexer-seed7@10", "lmindexer-seed7@5", "lmindexer@10", "lmindexer@5"], validation.Keys.Order(StringComparer.Ordinal));
        var choice = protocol.GetProperty("choice").GetString()!.Split(", ");
        Assert.Equal(["lmindexer", "lmindexer-seed7"], choice.Select(c => c.Split('@')[0]));
        Assert.All(choice, c => Assert.Contains(c, validation.Keys));

        var rows = json.RootElement.GetProperty("rows").EnumerateArray().ToList();
        var differences = rows.Where(r => r.GetProperty("system").GetString()!.Contains("-minus-", StringComparison.Ordinal)).ToList();
        Assert.Equal([("lmindexer-minus-markov", "recall@10"), ("lmindexer-minus-markov", "ndcg@10")],
            differences.Select(r => (r.GetProperty("system").GetString(), r.GetProperty("metric").GetString())));
        double Value(string system, string metric) => rows.Single(r => r.GetProperty("system").GetString() == system && r.GetProperty("metric").GetString() == metric).GetProperty("value").GetDouble();
        foreach (var difference in differences)
        {
            var metric = difference.GetProperty("metric").GetString()!;
            var value = difference.GetProperty("value").GetDouble();
            Assert.Equal(Value("lmindexer", metric) - Value("markov", metric), value, tolerance: 2e-4);   // each row rounded to four places
            Assert.InRange(value, difference.GetProperty("ci_low").GetDouble(), difference.GetProperty("ci_high").GetDouble());
        }
    }
}
