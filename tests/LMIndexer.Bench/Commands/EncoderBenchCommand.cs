using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Data;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Model.Bert;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench encoder bench</c>: batched sentence embeddings of catalog titles through ONNX
/// Runtime and through the imported TorchSharp BERT, each against the fp32 matmul peak measured in
/// the same run (BERT costs about 21 MFLOP per token at d = 384, d_ff = 1,536, six layers).
/// </summary>
public static class EncoderBenchCommand
{
    /// <summary><c>--encoder</c>: one of the packaged sentence encoders.</summary>
    internal static Option<string> PackagedEncoderOption(PretrainedEncoderPackage defaultPackage) =>
        new("--encoder") { Description = $"Packaged encoder: {string.Join(", ", PretrainedEncoderPackage.All.Select(p => p.Name))}.", DefaultValueFactory = _ => defaultPackage.Name };

    /// <summary>The packaged encoder named on the command line (exit 2 with one line for another name).</summary>
    internal static PretrainedEncoderPackage PackagedEncoder(string name) =>
        PretrainedEncoderPackage.All.FirstOrDefault(p => p.Name == name)
            ?? throw new CliUsageException($"Unknown --encoder '{name}'; expected {string.Join(", ", PretrainedEncoderPackage.All.Select(p => p.Name))}.");

    public static Command Create()
    {
        var common = new CommonOptions();
        var data = new Option<DirectoryInfo>("--data") { Description = "Catalog directory with items.jsonl (e.g. ../shared/data/amazon-beauty).", Required = true };
        var encoder = PackagedEncoderOption(PretrainedEncoderPackage.MiniLm);
        var limit = new Option<int>("--limit") { Description = "Titles to embed (the first of the catalog).", DefaultValueFactory = _ => 4096 };
        var batchSize = new Option<int>("--batch-size") { Description = "Titles per batch (sorted by length).", DefaultValueFactory = _ => 64 };
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "encoder-throughput" };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("bench", "Sentence-embedding throughput of a packaged pretrained encoder, as a fraction of the machine's measured fp32 matmul peak.")
        {
            data, encoder, limit, batchSize, name, docs,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var package = PackagedEncoder(result.GetValue(encoder)!);
            if (result.GetValue(limit) < 1 || result.GetValue(batchSize) < 1)
                throw new CliUsageException("--limit and --batch-size must be at least 1.");
            var directory = result.GetValue(data)!;
            if (!directory.Exists)
                throw new CliUsageException($"{directory.FullName} does not exist.");
            common.InitializeRuntime(result);
            var threads = torch.get_num_threads();
            var clock = Stopwatch.StartNew();
            var titles = CatalogFiles.Load(directory.FullName).Items.Take(result.GetValue(limit)).Select(i => Core.Text.ItemTextBuilder.Title(i)).ToList();

            var peak = MatmulPeakGflops();
            using var onnx = new OnnxSentenceEncoder(package, threads);
            var tokens = titles.Sum(t => (long)onnx.Tokenizer.Encode(t).Length);
            onnx.Embed(titles.Take(result.GetValue(batchSize)).ToList());                         // warm-up
            var onnxClock = Stopwatch.StartNew();
            onnx.Embed(titles, result.GetValue(batchSize), cancellationToken: cancellation);
            var onnxSeconds = onnxClock.Elapsed.TotalSeconds;

            using var bert = new BertModel(package.Config);
            BertWeights.Load(bert, BertWeights.FromOnnx(OnnxGraph.Parse(package.ReadModel())));
            bert.eval();
            var torchSeconds = TorchSeconds(bert, onnx.Tokenizer, titles, result.GetValue(batchSize));

            const double flopsPerToken = 21e6;
            var rows = new List<BenchmarkRow>();
            var table = new System.Text.StringBuilder();
            table.AppendLine("| runtime | titles/s | tokens/s | GFLOP/s | fraction of matmul peak |");
            table.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var (runtime, seconds) in new[] { ("onnxruntime", onnxSeconds), ("torchsharp", torchSeconds) })
            {
                var system = $"{runtime}-{package.Name}";
                var gflops = tokens * flopsPerToken / seconds / 1e9;
                rows.Add(new(system, "titles-per-s", titles.Count / seconds));
                rows.Add(new(system, "tokens-per-s", tokens / seconds));
                rows.Add(new(system, "peak-fraction", gflops / peak));
                table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {system} | {titles.Count / seconds:F0} | {tokens / seconds:F0} | {gflops:F1} | {gflops / peak:P0} |"));
            }
            rows.Add(new("fp32-matmul", "gflops", peak));
            AnsiConsole.Write(new Markup(Markup.Escape(table.ToString())));
            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"Sentence embeddings of {titles.Count:N0} titles of `{directory.Name}` ({tokens:N0} WordPiece tokens with [CLS]/[SEP], {(double)tokens / titles.Count:F1} per title) by {package.Name}, batches of {result.GetValue(batchSize)} sorted by length, {threads} thread(s); fp32 matmul peak of this run: {peak:F1} GFLOP/s (2048², best of 5)."),
                table.ToString(),
                "A fraction below 1 is the price of small matrices (short titles, 12 heads of 32) and of the non-matmul work (LayerNorm, softmax, GELU).");
            return Task.FromResult(0);
        }));
        var group = new Command("encoder", "The packaged pretrained text encoders.");
        group.Subcommands.Add(command);
        group.Subcommands.Add(EncoderMemoryBenchCommand.Create());
        return group;
    }

    /// <summary>fp32 GEMM throughput of this machine with the configured threads: the best of five 2048² products.</summary>
    private static double MatmulPeakGflops()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = randn(2048, 2048);
        var b = randn(2048, 2048);
        a.matmul(b);
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            using var product = a.matmul(b);
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
    }

    private static double TorchSeconds(BertModel bert, BertInputTokenizer tokenizer, IReadOnlyList<string> titles, int batchSize)
    {
        var rows = titles.Select(tokenizer.Encode).OrderBy(r => r.Length).ToList();
        using var noGrad = no_grad();
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < rows.Count; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = rows.Skip(start).Take(batchSize).ToList();
            var width = batch.Max(r => r.Length);
            var ids = zeros(batch.Count, width, dtype: ScalarType.Int64);
            var mask = zeros(batch.Count, width, dtype: ScalarType.Int64);
            for (var r = 0; r < batch.Count; r++)
            {
                ids[r, ..batch[r].Length] = tensor(batch[r]);
                mask[r, ..batch[r].Length] = ones(batch[r].Length, dtype: ScalarType.Int64);
            }
            bert.forward(ids, mask);
        }
        return clock.Elapsed.TotalSeconds;
    }
}
