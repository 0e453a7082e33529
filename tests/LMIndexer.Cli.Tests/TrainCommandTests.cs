using System.Text.Json;
using LMIndexer.Core.Runtime;
using LMIndexer.Testing;

namespace LMIndexer.Cli.Tests;

public sealed class TrainCommandTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMinutes(1);

    /// <summary>The demo recipe shrunk to seconds: the same stages, tiny budgets.</summary>
    // IDs learned on the packaged pretrained encoder: the resumed and the straight run must agree
    // through it too, and serve reads its WordPiece tokenizer.
    private static readonly string[] Small =
    [
        "--recipe", "demo", "--set", "indexer.encoder=minilm", "--set", "pretrain.denoising.steps=4", "--set", "indexer.codebookSize=8", "--set", "indexer.counterSize=32",
        "--set", "indexer.maxTokens=16", "--set", "indexer.warmupEpochs=1", "--set", "indexer.continuousEpochs=1", "--set", "indexer.codebookEpochs=1",
        "--set", "recommender.fineTune.steps=8", "--set", "recommender.fineTune.evalEvery=4", "--set", "recommender.fineTune.validationLimit=16",
        "--threads", "1",
    ];

    [Fact]
    public void Bad_recipe_values_and_paths_name_the_field_in_one_line_and_write_nothing()
    {
        // The recipe is checked before the catalog is read: no catalog needs to exist.
        using var temp = new TempDirectory();
        foreach (var (set, expected) in new[]
        {
            ("recommender.fineTune.stepz=3", "lmindexer: recommender.fineTune.stepz: unknown field"),
            ("indexer.codebookSize=1", "lmindexer: indexer.codebookSize: codebook size must be at least 2, got 1"),
            ("recommender.fineTune.steps=many", "lmindexer: recommender.fineTune.steps: not a valid value for this field"),
            ("pretrain.modelSize=huge", "lmindexer: pretrain.modelSize: unknown preset 'huge'"),
            ("indexer.method=pq", "lmindexer: indexer.method: unknown ID method 'pq'; expected lmindexer or rqvae"),
            ("indexer.rqVae.epochs=0", "lmindexer: indexer.rqVae.epochs: at least one epoch is needed, got 0"),
        })
        {
            var result = CliProcess.Run(temp.Path, Quick, "train", "--catalog", "cat", "--out", "out", "--set", set);
            Assert.Equal(2, result.ExitCode);
            Assert.StartsWith(expected, Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(temp.Path, "out")), "nothing is written for a bad recipe");
        }
        // Every bad field at once, in one line.
        var both = CliProcess.Run(temp.Path, Quick, "train", "--catalog", "cat", "--out", "out", "--set", "indexer.codebookSize=1", "--set", "recommender.fineTune.historyDropout=2");
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("indexer.codebookSize", both.Error, StringComparison.Ordinal);
        Assert.Contains("recommender.fineTune.historyDropout", both.Error, StringComparison.Ordinal);
        var missing = CliProcess.Run(temp.Path, Quick, "train", "--catalog", "cat", "--out", "out", "--recipe", "nope.json");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.json does not exist", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_interrupted_train_resumes_to_the_bundle_of_an_uninterrupted_run_which_serve_starts_on()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "40", "--users", "80").ExitCode);

        var interrupted = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), ["train", "--catalog", "cat", "--out", "resumed", "--stop-after", "index", .. Small]);
        Assert.True(interrupted.ExitCode == 0, interrupted.Error);
        Assert.True(File.Exists(Path.Combine(temp.Path, "resumed", "indexer", "ids.tsv")));
        Assert.False(Directory.Exists(Path.Combine(temp.Path, "resumed", "serving")));
        AssignStreamsAndWritesNothingOnABadLine(temp.Path, Path.Combine("resumed", "indexer"));
        var resumed = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), ["train", "--catalog", "cat", "--out", "resumed", .. Small]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("pretrain: reusing", resumed.Output, StringComparison.Ordinal);
        Assert.Contains("index: reusing", resumed.Output, StringComparison.Ordinal);

        var straight = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), ["train", "--catalog", "cat", "--out", "straight", .. Small]);
        Assert.True(straight.ExitCode == 0, straight.Error);
        foreach (var file in new[] { "model.safetensors", "ids.tsv", "trie.bin", "tokenizer.json" })
        {
            Assert.Equal(File.ReadAllBytes(Path.Combine(temp.Path, "straight", "serving", file)), File.ReadAllBytes(Path.Combine(temp.Path, "resumed", "serving", file)));
        }
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "resumed", "serving", "manifest.json")));
        using var recipe = JsonDocument.Parse(manifest.RootElement.GetProperty("properties").GetProperty("recipe").GetString()!);
        Assert.Equal("demo", recipe.RootElement.GetProperty("name").GetString());
        Assert.Equal(8, recipe.RootElement.GetProperty("recommender").GetProperty("fineTune").GetProperty("steps").GetInt32());
        Assert.Equal(42, recipe.RootElement.GetProperty("indexer").GetProperty("seed").GetInt32());   // the recipe's seed, written into every stage
        Assert.Equal("minilm", recipe.RootElement.GetProperty("indexer").GetProperty("encoder").GetString());
        Assert.True(File.Exists(Path.Combine(temp.Path, "resumed", "indexer", "source-encoder.safetensors")));
        Assert.Contains("wordpiece:minilm", File.ReadAllText(Path.Combine(temp.Path, "resumed", "serving", "tokenizer.json")), StringComparison.Ordinal);

        // A changed recipe retrains from the first stage it touches, and reuses the ones before.
        // It also adds product search, a stage of its own on the same IDs.
        var changed = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), ["train", "--catalog", "cat", "--out", "resumed", .. Small, "--set", "recommender.fineTune.steps=6",
            "--set", """search={"source": {"maxSourceTokens": 24}, "fineTune": {"steps": 4, "evalEvery": 4, "validationLimit": 16}}"""]);
        Assert.True(changed.ExitCode == 0, changed.Error);
        Assert.Contains("pretrain: reusing", changed.Output, StringComparison.Ordinal);
        Assert.Contains("index: reusing", changed.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("recommender: reusing", changed.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(temp.Path, "resumed", "search", "trie.bin")), changed.Output);
        Assert.Matches(@"validation ndcg@10 \d\.\d{4} at step \d+ \(popularity \d\.\d{4}\)", changed.Output);
        using (var retrained = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "resumed", "serving", "manifest.json"))))
        {
            using var retrainedRecipe = JsonDocument.Parse(retrained.RootElement.GetProperty("properties").GetProperty("recipe").GetString()!);
            Assert.Equal(6, retrainedRecipe.RootElement.GetProperty("recommender").GetProperty("fineTune").GetProperty("steps").GetInt32());
        }
        Assert.Empty(Directory.GetDirectories(Path.Combine(temp.Path, "resumed", "checkpoints")));   // removed after success
        using (OutputFolderLock.Acquire(Path.Combine(temp.Path, "resumed")))
        {
            // A second process training into a folder another run holds stops before writing anything.
            var busy = CliProcess.Run(temp.Path, Quick, ["train", "--catalog", "cat", "--out", "resumed", .. Small]);
            Assert.Equal(2, busy.ExitCode);
            Assert.Contains("is in use by another run", busy.Error, StringComparison.Ordinal);
        }
        var notARun = CliProcess.Run(temp.Path, Quick, ["train", "--catalog", "cat", "--out", "cat", .. Small]);
        Assert.Equal(2, notARun.ExitCode);
        Assert.Contains("is not empty and holds no training run", notARun.Error, StringComparison.Ordinal);

        var serve = CliProcess.Run(temp.Path, Quick, "serve", "--bundle", "resumed", "--port", "0", "--exit-after-start");
        Assert.True(serve.ExitCode == 0, serve.Error);
        Assert.Matches(@"http://127\.0\.0\.1:\d+/widget\?user=", serve.Output);
        var noBundle = CliProcess.Run(temp.Path, Quick, "serve", "--bundle", "cat");
        Assert.Equal(2, noBundle.ExitCode);
        Assert.Contains("holds no serving bundle", noBundle.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_recipe_codes_items_with_rq_vae_on_minilm_and_index_assign_codes_them_again()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, CliProcess.Run(temp.Path, Quick, "data", "synth", "--out", "cat", "--items", "40", "--users", "80").ExitCode);
        var index = CliProcess.Run(temp.Path, TimeSpan.FromMinutes(3), "train", "--catalog", "cat", "--out", "run", "--stop-after", "index", "--threads", "1",
            "--set", "pretrain.denoising.steps=4", "--set", "indexer.codebookSize=8", "--set", "indexer.counterSize=32", "--set", "indexer.rqVae.epochs=5");
        Assert.True(index.ExitCode == 0, index.Error);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.Path, "run", "indexer", "manifest.json")));
        var properties = manifest.RootElement.GetProperty("properties");
        Assert.Equal(("rqvae", "minilm"), (properties.GetProperty("method").GetString(), properties.GetProperty("encoder").GetString()));
        Assert.True(File.Exists(Path.Combine(temp.Path, "run", "indexer", "rqvae.safetensors")));
        Assert.False(File.Exists(Path.Combine(temp.Path, "run", "indexer", "source-encoder.safetensors")));
        AssignStreamsAndWritesNothingOnABadLine(temp.Path, Path.Combine("run", "indexer"));
    }

    /// <summary><c>index assign</c> on the catalog it was trained on keeps every ID; a bad line fails with its number and writes no table.</summary>
    private static void AssignStreamsAndWritesNothingOnABadLine(string root, string indexer)
    {
        var same = CliProcess.Run(root, Quick, "index", "assign", "--bundle", indexer, "--items", Path.Combine("cat", "items.jsonl"), "--out", "same.tsv");
        Assert.True(same.ExitCode == 0, same.Error);
        Assert.Contains("40 unchanged, 0 changed, 0 new", same.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Path.Combine(root, indexer, "ids.tsv")), File.ReadAllBytes(Path.Combine(root, "same.tsv")));

        var lines = File.ReadAllLines(Path.Combine(root, "cat", "items.jsonl"));
        lines[34] = "{\"item_id\": \"X\", \"title\": ";
        File.WriteAllLines(Path.Combine(root, "bad.jsonl"), lines);
        var bad = CliProcess.Run(root, Quick, "index", "assign", "--bundle", indexer, "--items", "bad.jsonl", "--out", "bad.tsv");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("bad.jsonl:35: invalid JSON", bad.Error, StringComparison.Ordinal);
        Assert.Single(bad.Error.Trim().Split('\n'));
        Assert.Empty(Directory.GetFiles(root, "bad.tsv*"));
    }
}
