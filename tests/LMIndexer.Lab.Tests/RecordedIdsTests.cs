using System.Text.Json;
using LMIndexer.Bench.Reporting;
using LMIndexer.Testing;

namespace LMIndexer.Lab.Tests;

/// <summary>The IDs of a recorded index run, kept beside its result and restored for the rec bench.</summary>
public sealed class RecordedIdsTests
{
    [Fact]
    public void Kept_ids_restore_to_the_same_files_without_the_network_and_never_over_a_trained_bundle()
    {
        using var temp = new TempDirectory();
        var bundle = Path.Combine(temp.Path, "work", "lmindexer-minilm-seed1");
        Directory.CreateDirectory(bundle);
        File.WriteAllText(Path.Combine(bundle, "manifest.json"), "{\"version\":\"v1\"}");
        File.WriteAllText(Path.Combine(bundle, "tokenizer.json"), "{\"format\":\"t\"}");
        File.WriteAllText(Path.Combine(bundle, "ids.tsv"), string.Concat(Enumerable.Range(0, 500).Select(i => $"item{i}\t{i % 7} {i % 11} 0\n")));
        File.WriteAllText(Path.Combine(bundle, "model.safetensors"), "weights");
        var record = Path.Combine(temp.Path, "results", "ids", "index-run");

        RecordedIds.Keep(bundle, "lmindexer", record);
        var restored = Path.Combine(temp.Path, "restored");
        var methods = RecordedIds.Restore(record, restored);

        Assert.Equal(["ids.tsv.gz", "manifest.json", "tokenizer.json"], Directory.GetFiles(Path.Combine(record, "lmindexer")).Select(Path.GetFileName).Order());
        Assert.Equal(["lmindexer"], methods);
        Assert.Equal(["ids.tsv", "manifest.json", "tokenizer.json"], Directory.GetFiles(Path.Combine(restored, "lmindexer")).Select(Path.GetFileName).Order());
        foreach (var file in new[] { "ids.tsv", "manifest.json", "tokenizer.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(bundle, file)), File.ReadAllBytes(Path.Combine(restored, "lmindexer", file)));
        Assert.True(new FileInfo(Path.Combine(record, "lmindexer", "ids.tsv.gz")).Length < new FileInfo(Path.Combine(bundle, "ids.tsv")).Length / 2);

        // A folder holding a trained network keeps it (its IDs may not be the record's).
        var trained = Path.Combine(temp.Path, "trained", "lmindexer");
        Directory.CreateDirectory(trained);
        File.WriteAllText(Path.Combine(trained, "model.safetensors"), "weights");
        File.WriteAllText(Path.Combine(trained, "ids.tsv"), "other");
        var refused = Assert.Throws<IOException>(() => RecordedIds.Restore(record, Path.Combine(temp.Path, "trained")));
        Assert.Contains("holds a trained index bundle", refused.Message, StringComparison.Ordinal);
        Assert.Equal("other", File.ReadAllText(Path.Combine(trained, "ids.tsv")));

        var notBundle = Path.Combine(temp.Path, "empty");
        Directory.CreateDirectory(notBundle);
        var missing = Assert.Throws<FileNotFoundException>(() => RecordedIds.Keep(notBundle, "x", record));
        Assert.Contains("manifest.json is missing", missing.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(record, "x")));
    }

    [Fact]
    public void The_rec_bench_on_restored_ids_gives_what_it_gives_on_the_whole_index_bundle()
    {
        using var temp = new TempDirectory();
        var quick = TimeSpan.FromMinutes(1);
        BenchProcess.SynthesizeAndIndex(temp.Path, "work/kmeans-seed1");
        var keep = BenchProcess.Run(temp.Path, quick, "index", "keep-ids", "--index-dir", "work", "--methods", "lmindexer=kmeans-seed1", "--name", "index-run", "--results", "report");
        Assert.True(keep.ExitCode == 0, keep.Error);
        var restore = BenchProcess.Run(temp.Path, quick, "index", "restore-ids", "--name", "index-run", "--index-dir", "restored", "--results", "report");
        Assert.True(restore.ExitCode == 0, restore.Error);
        Assert.False(File.Exists(Path.Combine(temp.Path, "restored", "lmindexer", "model.safetensors")));
        Directory.CreateSymbolicLink(Path.Combine(temp.Path, "work", "lmindexer"), "kmeans-seed1");

        string[] Bench(string indexDir, string name) => ["rec", "bench", "--data", "cat", "--index-dir", indexDir, "--out-dir", $"rec-{name}", "--systems", "lmindexer",
            "--fresh-model", "--source", "ids+items", "--steps", "10", "--eval-every", "5", "--validation-limit", "16", "--results", "report", "--name", name, "--threads", "1"];
        var whole = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), Bench("work", "on-bundle"));
        Assert.True(whole.ExitCode == 0, whole.Error);
        var recorded = BenchProcess.Run(temp.Path, TimeSpan.FromMinutes(2), Bench("restored", "on-record"));
        Assert.True(recorded.ExitCode == 0, recorded.Error);

        static List<(string, string, double)> Rows(string path)
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            return [.. json.RootElement.GetProperty("rows").EnumerateArray()
                .Where(r => r.GetProperty("system").GetString() == "lmindexer" && !r.GetProperty("metric").GetString()!.Contains("second", StringComparison.Ordinal))   // timings differ
                .Select(r => (r.GetProperty("system").GetString()!, r.GetProperty("metric").GetString()!, r.GetProperty("value").GetDouble()))];
        }
        var onBundle = Rows(Path.Combine(temp.Path, "report", "results", "on-bundle.json"));
        Assert.Contains(onBundle, r => r.Item2 == "ndcg@10");
        Assert.Equal(onBundle, Rows(Path.Combine(temp.Path, "report", "results", "on-record.json")));

        // The index network itself is not in the record: fine-tuning it is refused in one line.
        var notFresh = BenchProcess.Run(temp.Path, quick, "rec", "bench", "--data", "cat", "--index-dir", "restored", "--systems", "lmindexer", "--steps", "2", "--threads", "1");
        Assert.Equal(2, notFresh.ExitCode);
        Assert.Contains("without the indexer's network", notFresh.Error, StringComparison.Ordinal);
    }
}
