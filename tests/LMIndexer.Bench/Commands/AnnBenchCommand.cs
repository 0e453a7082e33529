using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Encoders;
using LMIndexer.Core.Retrieval;
using Spectre.Console;
using TorchSharp;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench ann</c>: how much of the exact dense top-k the approximate (HNSW) index finds
/// on real sentence vectors, and what each costs per query. Items are a real catalog's texts
/// embedded by a packaged encoder; queries are the search benchmark's validation proxy queries
/// (nothing is chosen from them here, and the test queries are not read).
/// </summary>
public static class AnnBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var items = new Option<FileInfo>("--items") { Description = "items.jsonl of a catalog (e.g. ../shared/data/amazon-beauty/items.jsonl).", Required = true };
        var encoder = EncoderBenchCommand.PackagedEncoderOption(PretrainedEncoderPackage.ArcticXs);
        var name = new Option<string>("--name") { Description = "Benchmark name (file and section).", DefaultValueFactory = _ => "ann" };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("ann", "Recall and per-query time of the approximate (HNSW) vector index against exact top-k, on a real catalog's sentence vectors.")
        {
            items, encoder, name, docs,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(() =>
        {
            var package = EncoderBenchCommand.PackagedEncoder(result.GetValue(encoder)!);
            var file = result.GetValue(items)!;
            if (!file.Exists)
                throw new CliUsageException($"{file.FullName} does not exist.");
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            var corpus = QueryBenchCommand.LoadSearchBench(file, result.GetValue(common.Seed));
            var ids = corpus.Texts.Keys.Order(StringComparer.Ordinal).ToList();
            var queries = corpus.Split.Validation.Select(q => package.QueryPrefix + q.Query).Distinct(StringComparer.Ordinal).ToList();
            using var onnx = new OnnxSentenceEncoder(package, torch.get_num_threads());
            var vectors = ProgressBar.Run($"{package.Name} items", ids.Count,
                progress => onnx.Embed([.. ids.Select(id => corpus.Texts[id])], progress: progress, cancellationToken: cancellation));
            var queryVectors = onnx.Embed(queries, cancellationToken: cancellation);

            using var exact = new ExactVectorIndex(vectors);
            var exactClock = Stopwatch.StartNew();
            var exactTop = queryVectors.Select(q => exact.Search([q], 100)[0]).ToList();   // one query at a time, as a search request runs
            var exactMs = exactClock.Elapsed.TotalMilliseconds / queries.Count;

            var building = Stopwatch.StartNew();
            using var approximate = ApproximateVectorIndex.FromRows(vectors.SelectMany(v => v).ToArray(), vectors[0].Length);
            var buildSeconds = building.Elapsed.TotalSeconds;
            var approximateClock = Stopwatch.StartNew();
            var approximateTop = queryVectors.Select(q => approximate.Search(q, 100).Select(h => h.Item).ToArray()).ToList();
            var approximateMs = approximateClock.Elapsed.TotalMilliseconds / queries.Count;

            double Recall(int k) => exactTop.Zip(approximateTop, (e, a) => e.Take(k).Intersect(a.Take(k)).Count() / (double)Math.Min(k, e.Length)).Average();

            var settings = approximate.Settings;
            var measured = new BenchmarkTable();
            measured.Add("approximate", "recall@10", Recall(10), "share of the exact top 10 in the approximate top 10", "F4");
            measured.Add("approximate", "recall@100", Recall(100), "share of the exact top 100 in the approximate top 100", "F4");
            measured.Add("approximate", "ms_per_query", approximateMs, "approximate top 100, one query at a time, ms", "F3");
            measured.Add("approximate", "build_seconds", buildSeconds, $"index built ({ids.Count:N0} vectors, one thread), s", "F1");
            measured.Add("exact", "ms_per_query", exactMs, "exact top 100 (one matrix product with every item vector), ms", "F3");
            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, measured.Rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"{corpus.Dataset}: {ids.Count:N0} item texts embedded by {package.Name} ({vectors[0].Length} dimensions, unit length) and {queries.Count:N0} distinct validation proxy queries (the test queries are not read). Exact: `ExactVectorIndex`. Approximate: `ApproximateVectorIndex` (USearch HNSW, inner product, connectivity {settings.Connectivity}, expansion {settings.ExpansionAdd} on insertion and {settings.ExpansionSearch} on search, the product's defaults)."),
                measured.Markdown,
                "Issue 34 asks for the approximate index's recall@100 against exact top-k; no target is set.");
            AnsiConsole.Write(new Markup(Markup.Escape(measured.Markdown)));
            return Task.FromResult(0);
        }));
        return command;
    }
}
