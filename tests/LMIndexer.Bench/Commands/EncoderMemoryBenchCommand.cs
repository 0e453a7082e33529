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
/// <c>lmindexer-bench encoder memory</c>: the resident memory ONNX Runtime takes to embed long item
/// texts (descriptions included, as search shards embed them), and texts/s, under one cap on the
/// tokens of a batch. One cap per process: memory a session frees stays in the process's heap, so a
/// second session in the same process would hide its own growth. Compare caps by runs back to back.
/// </summary>
public static class EncoderMemoryBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo>("--data") { Description = "Catalog directory with items.jsonl (e.g. ../shared/data/amazon-beauty).", Required = true };
        var encoder = EncoderBenchCommand.PackagedEncoderOption(PretrainedEncoderPackage.ArcticXs);
        var limit = new Option<int>("--limit") { Description = "Item texts to embed (the longest of the catalog).", DefaultValueFactory = _ => 1000 };
        var cap = new Option<int>("--batch-tokens") { Description = "Cap on rows × longest row per batch (32768 lets every batch hold 64 texts, as before the cap).", DefaultValueFactory = _ => OnnxSentenceEncoder.DefaultBatchTokens };
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "encoder-memory" };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("memory", "Resident memory and texts/s of embedding long item texts through ONNX Runtime under a cap on a batch's tokens (one cap per run).")
        {
            data, encoder, limit, cap, name, docs,
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
            var batchTokens = result.GetValue(cap);
            if (batchTokens < 1)
                throw new CliUsageException($"--batch-tokens must be at least 1, got {batchTokens}.");
            common.InitializeRuntime(result);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var texts = CatalogFiles.EnumerateItems(Path.Combine(directory.FullName, CatalogFiles.ItemsFile)).Select(ItemTextBuilder.Build)
                .OrderByDescending(t => t.Length).Take(result.GetValue(limit)).ToList();
            var rows = new List<BenchmarkRow>();
            var table = new System.Text.StringBuilder("| tokens per batch | texts/s | resident memory added (MiB) |\n|---:|---:|---:|\n");
            using var meter = StageMeter.Start();
            var start = meter.PeakMiB;
            long tokens;
            double seconds;
            using (var onnx = new OnnxSentenceEncoder(package, TorchSharp.torch.get_num_threads()))
            {
                tokens = texts.Sum(t => (long)onnx.Tokenizer.Encode(t).Length);
                var embedClock = System.Diagnostics.Stopwatch.StartNew();
                onnx.Embed(texts, batchTokens: batchTokens, cancellationToken: cancellation);
                seconds = embedClock.Elapsed.TotalSeconds;
            }
            var added = meter.PeakMiB - start;
            var system = string.Create(CultureInfo.InvariantCulture, $"onnxruntime-{package.Name}-tokens{batchTokens}");
            rows.Add(new(system, "texts-per-s", texts.Count / seconds));
            rows.Add(new(system, "peak-mib-added", added));
            table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {batchTokens:N0} | {texts.Count / seconds:F1} | {added:F0} |"));
            AnsiConsole.Write(new Markup(Markup.Escape(table.ToString())));
            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"The {texts.Count:N0} longest item texts of `{directory.Name}` (title, description, brand, price, category: what search shards embed; {(double)tokens / texts.Count:F0} WordPiece tokens each on average, at most {package.MaxTokens}) embedded by {package.Name} through ONNX Runtime, sorted by length, at most 64 per batch and at most {batchTokens:N0} tokens in rows × longest row. Memory: the process's peak resident set while the session embedded, above its level before the session was made."),
                table.ToString(),
                "ONNX Runtime keeps its arena at the largest batch it ran, so the added memory stays for the session's life.");
            return Task.FromResult(0);
        }));
        return command;
    }
}
