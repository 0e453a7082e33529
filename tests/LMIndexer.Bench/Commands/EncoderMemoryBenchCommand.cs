using System.CommandLine;
using System.Globalization;
using LMIndexer.Bench.Reporting;
using LMIndexer.Bench.Scale;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Text;
using Spectre.Console;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench encoder memory</c>: the resident memory ONNX Runtime keeps after embedding long
/// item texts (descriptions included, as search shards embed them), and texts/s, for each cap on the
/// tokens of a batch, in one run. Each cap gets a session of its own, smallest cap first, so a later
/// session's peak is not hidden by an earlier one's arena.
/// </summary>
public static class EncoderMemoryBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo>("--data") { Description = "Catalog directory with items.jsonl (e.g. ../shared/data/amazon-beauty).", Required = true };
        var encoder = EncoderBenchCommand.PackagedEncoderOption(PretrainedEncoderPackage.ArcticXs);
        var limit = new Option<int>("--limit") { Description = "Item texts to embed (the longest of the catalog).", DefaultValueFactory = _ => 1000 };
        var caps = new Option<string>("--batch-tokens") { Description = "Comma-separated caps on rows × longest row per batch (a cap above every batch is 64 texts at a time).", DefaultValueFactory = _ => $"{OnnxSentenceEncoder.DefaultBatchTokens},{64 * 512}" };
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "encoder-memory" };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("memory", "Resident memory and texts/s of embedding long item texts through ONNX Runtime, per cap on a batch's tokens, in one run.")
        {
            data, encoder, limit, caps, name, docs,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var package = EncoderBenchCommand.PackagedEncoder(result.GetValue(encoder)!);
            var directory = result.GetValue(data)!;
            if (!directory.Exists)
                throw new CliUsageException($"{directory.FullName} does not exist.");
            if (result.GetValue(limit) < 1)
                throw new CliUsageException("--limit must be at least 1.");
            var capList = result.GetValue(caps)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 1 ? v : throw new CliUsageException($"--batch-tokens takes positive integers, got '{c}'."))
                .Order().ToList();
            common.InitializeRuntime(result);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var texts = CatalogFiles.EnumerateItems(Path.Combine(directory.FullName, CatalogFiles.ItemsFile)).Select(ItemTextBuilder.Build)
                .OrderByDescending(t => t.Length).Take(result.GetValue(limit)).ToList();
            var rows = new List<BenchmarkRow>();
            var table = new System.Text.StringBuilder("| tokens per batch | texts/s | resident memory added (MiB) |\n|---:|---:|---:|\n");
            long tokens = 0;
            foreach (var cap in capList)
            {
                StageMeter.LiveManagedBytes();   // a full collection first, so the last session's memory is gone
                using var meter = StageMeter.Start();
                var start = meter.PeakMiB;
                double seconds;
                using (var onnx = new OnnxSentenceEncoder(package, TorchSharp.torch.get_num_threads()))
                {
                    tokens = texts.Sum(t => (long)onnx.Tokenizer.Encode(t).Length);
                    var embedClock = System.Diagnostics.Stopwatch.StartNew();
                    onnx.Embed(texts, batchTokens: cap, cancellationToken: cancellation);
                    seconds = embedClock.Elapsed.TotalSeconds;
                }
                var added = meter.PeakMiB - start;
                var system = string.Create(CultureInfo.InvariantCulture, $"onnxruntime-{package.Name}-tokens{cap}");
                rows.Add(new(system, "texts-per-s", texts.Count / seconds));
                rows.Add(new(system, "peak-mib-added", added));
                table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {cap:N0} | {texts.Count / seconds:F1} | {added:F0} |"));
            }
            AnsiConsole.Write(new Markup(Markup.Escape(table.ToString())));
            var commandLine = "lmindexer-bench " + string.Join(" ", result.Tokens.Select(t => t.Value));
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"The {texts.Count:N0} longest item texts of `{directory.Name}` (title, description, brand, price, category: what search shards embed; {(double)tokens / texts.Count:F0} WordPiece tokens each on average, at most {package.MaxTokens}) embedded by {package.Name} through ONNX Runtime, sorted by length, at most 64 per batch and at most the cap in rows × longest row; each cap in a session of its own, smallest first. Memory: the process's peak resident set while the session lived, above its level at the start."),
                table.ToString(),
                "ONNX Runtime keeps its arena at the largest batch it ran, so the added memory stays for the session's life.");
            return Task.FromResult(0);
        }));
        return command;
    }
}
