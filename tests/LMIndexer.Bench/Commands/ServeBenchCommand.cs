using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using LMIndexer.Abstractions;
using LMIndexer.Cli.Console;
using LMIndexer.Bench.Load;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Evaluation;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench serve</c>: the embedded cluster under bounded loopback load — recommendation
/// latency at fixed request rates, saturated throughput against bare batched beam search of the
/// same model in the same run, ID resolution through the prefix grains, event ingestion.
/// </summary>
public static class ServeBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = "Serving bundle.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "demo", "model", "serving")) };
        var data = new Option<DirectoryInfo>("--data", "-d") { Description = "Catalog with items.jsonl and sequences.tsv (histories for the load).", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "demo", "catalog")) };
        var rates = new Option<string>("--rates") { Description = "Fixed request rates (requests/s), comma-separated.", DefaultValueFactory = _ => "10,25,50" };
        var seconds = new Option<int>("--seconds") { Description = "Seconds per rate (the load stops by itself).", DefaultValueFactory = _ => 10 };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent requests of the saturation run.", DefaultValueFactory = _ => 64 };
        var beams = new Option<int>("--beams") { Description = "Beams per recommendation request (Inference:Beams).", DefaultValueFactory = _ => 20 };
        var events = new Option<int>("--events") { Description = "Events of the ingestion run (default 0: every user's history but its last item). Requests go only to users whose history was replayed, so every request runs the model.", DefaultValueFactory = _ => 0 };
        var docs = BenchmarkReport.DirectoryOption();
        var name = new Option<string>("--name") { Description = "Benchmark section name.", DefaultValueFactory = _ => "serve" };
        var serve = new Command("serve", "Serving benchmark on the embedded cluster (loopback only, bounded in time and requests); results into the bench results.")
        {
            bundle, data, rates, seconds, concurrency, beams, events, docs, name,
        };
        common.AddTo(serve);
        serve.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            var rateList = result.GetValue(rates)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(r => int.TryParse(r, CultureInfo.InvariantCulture, out var v) && v is > 0 and <= 1000 ? v : throw new CliUsageException($"--rates: '{r}' is not a rate between 1 and 1000.")).ToList();
            if (result.GetValue(events) < 0)
                throw new CliUsageException("--events must be 0 (every history) or more.");
            var duration = result.GetValue(seconds);
            if (duration is < 1 or > 120)
                throw new CliUsageException("--seconds must be between 1 and 120.");
            var catalog = RecCommands.LoadCatalog(result.GetValue(data)!);
            var bundleDir = result.GetValue(bundle)!.FullName;
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            var measured = new BenchmarkTable();
            void Row(string system, string metric, double value, string label, string format) => measured.Add(system, metric, value, label, format);

            // Histories of every user (oldest first, as the user grains hold them after the replay).
            var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
            var users = catalog.Users.Where(u => u.ItemIds.Count >= 2).ToList();

            // 1. Bare batched beam search of the same model, same batch size as the cluster's batcher.
            double bare;
            string modelName;
            RankingChoice ranking;
            using (var serving = ServingBundle.Load(bundleDir, TorchRuntime.Device))
            {
                modelName = $"d_model {serving.Bundle.Model.Config.DModel}, {serving.Bundle.Model.Config.NumLayers}+{serving.Bundle.Model.Config.NumDecoderLayers} layers{(serving.Bundle.Model.Config.DenseItemHead ? ", dense item head" : "")}";
                var source = new HistorySource(serving.Bundle.Tokenizer, byId, serving.Table, serving.Source);
                var sources = users.Take(512).Select(u => source.Encode(u.ItemIds.Take(u.ItemIds.Count - 1).ToList())).ToList();
                // Ranked as the inference silo ranks this bundle: as its training chose on validation.
                ranking = serving.Ranking;
                ItemRanker.Rank([serving.Bundle.Model], sources.Take(8).ToList(), serving.Tables, 20, ranking.Mode, ranking.DenseWeight);   // warm-up
                var bareClock = Stopwatch.StartNew();
                foreach (var batch in sources.Chunk(64))
                    ItemRanker.Rank([serving.Bundle.Model], batch, serving.Tables, result.GetValue(beams), ranking.Mode, ranking.DenseWeight);
                bare = sources.Count / bareClock.Elapsed.TotalSeconds;
            }
            Row("model", "requests_per_second", bare, $"bare batched {ranking.Name} ranking (batch 64, {result.GetValue(beams)} beams), requests/s", "F1");

            var beamCount = result.GetValue(beams);
            if (beamCount is < 10 or > 100)
                throw new CliUsageException("--beams must be between 10 (the requests ask for 10 items) and 100.");
            var (app, address) = await EmbeddedHost.StartAsync(bundleDir, result.GetValue(data)!.FullName, 0, cancellation,
                new Dictionary<string, string?>
                {
                    ["Inference:Beams"] = beamCount.ToString(CultureInfo.InvariantCulture),
                    ["Storage:Provider"] = "Memory",   // this benchmark measures serving, not the store
                    ["Security:PermitsPerSecond"] = "0",   // nor the per-client rate limit (all load comes from one address)
                });
            await using (app)
            {
                var grains = app.Services.GetRequiredService<IGrainFactory>();

                // 2. Event ingestion straight into the user grains (in-memory storage).
                var ingest = users.SelectMany(u => u.ItemIds.Take(u.ItemIds.Count - 1).Select((item, i) => new UserEvent($"{u.UserId}-{i}", u.UserId, item, EventType.View, DateTimeOffset.UtcNow)))
                    .Take(result.GetValue(events) is > 0 and var limit ? limit : int.MaxValue).ToList();
                var ingestClock = Stopwatch.StartNew();
                // As POST /api/events does with a batch: one call per user of each 500-event batch.
                await Parallel.ForEachAsync(ingest.Chunk(500), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellation },
                    async (chunk, _) => await Task.WhenAll(chunk.GroupBy(e => e.UserId, StringComparer.Ordinal).Select(u => grains.GetGrain<IUserGrain>(u.Key).RecordBatchAsync([.. u]))));
                Row("cluster", "events_per_second", ingest.Count / ingestClock.Elapsed.TotalSeconds, $"event ingestion ({ingest.Count:N0} events in batches of 500, one grain call per user and batch), events/s", "F0");

                // 3. ID resolution through the prefix grains, batched per first code as the user grain does.
                var ids = SemanticIdTable.Load(Path.Combine(bundleDir, SemanticIdTable.FileName));
                var version = (await grains.GetGrain<IIndexVersionGrain>(0).GetActiveAsync())!;
                var resolveClock = Stopwatch.StartNew();
                var resolved = 0;
                for (var round = 0; round < 5; round++)
                {
                    foreach (var batch in ids.Ids.Chunk(20))
                    {
                        var parts = await Task.WhenAll(batch.GroupBy(c => c[0]).Select(g => grains.GetGrain<IIdPrefixGrain>($"{version}/{g.Key}").ResolveAsync([.. g])));
                        resolved += parts.Sum(p => p.Count);
                    }
                }
                Row("cluster", "ids_resolved_per_second", resolved / resolveClock.Elapsed.TotalSeconds, "ID resolution through prefix grains (batches of 20 IDs), IDs/s", "F0");

                // 4. Recommendation latency at fixed rates over HTTP (open loop: requests leave on schedule).
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
                var next = 0;
                // Only users with a replayed history: a user without one gets popularity, not the model.
                var replayed = ingest.Select(e => e.UserId).Distinct(StringComparer.Ordinal).ToList();
                string NextUser() => replayed[Interlocked.Increment(ref next) % replayed.Count];
                await MeasureAsync(http, NextUser, 5, 2, cancellation);   // warm-up: activations, connections
                var inference = grains.GetGrain<IIndexerInferenceGrain>($"{version}/0");
                foreach (var rate in rateList)
                {
                    var before = await inference.GetStatsAsync();
                    var run = await MeasureAsync(http, NextUser, rate, duration, cancellation);
                    var after = await inference.GetStatsAsync();
                    // What the model itself took in this phase, so the rest of the latency is the cluster's and HTTP's.
                    var batches = after.Batches - before.Batches;
                    var served = after.MeanBatchSize * after.Batches - before.MeanBatchSize * before.Batches;
                    if (batches > 0 && served > 0)
                    {
                        Row($"rate-{rate}", "decode_ms", (after.MeanBatchMilliseconds * after.Batches - before.MeanBatchMilliseconds * before.Batches) / batches, $"{rate} req/s: beam search per batch, ms", "F1");
                        Row($"rate-{rate}", "queue_wait_ms", (after.MeanQueueWaitMilliseconds * after.MeanBatchSize * after.Batches - before.MeanQueueWaitMilliseconds * before.MeanBatchSize * before.Batches) / served, $"{rate} req/s: wait before the batch starts, ms", "F1");
                        Row($"rate-{rate}", "mean_batch", served / batches, $"{rate} req/s: mean batch size", "F1");
                    }
                    Row($"rate-{rate}", "p50_ms", run.P50, $"{rate} req/s: p50 latency, ms", "F1");
                    Row($"rate-{rate}", "p99_ms", run.P99, $"{rate} req/s: p99 latency, ms", "F1");
                    Row($"rate-{rate}", "throughput", run.Throughput, $"{rate} req/s: completed requests/s", "F1");
                    Row($"rate-{rate}", "errors", run.Errors, $"{rate} req/s: failed requests", "F0");
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{rate} req/s: p50 {run.P50:F1} ms, p99 {run.P99:F1} ms, {run.Throughput:F1} done/s, {run.Errors} errors");
                }

                // 5. Saturation: a fixed number of requests in flight, bounded in time.
                var saturated = await SaturateAsync(http, NextUser, result.GetValue(concurrency), duration, cancellation);
                Row("saturated", "throughput", saturated.Throughput, $"saturated ({result.GetValue(concurrency)} in flight): requests/s", "F1");
                Row("saturated", "p50_ms", saturated.P50, "saturated: p50 latency, ms", "F1");
                Row("saturated", "errors", saturated.Errors, "saturated: failed requests", "F0");
                Row("saturated/model", "throughput_ratio", saturated.Throughput / bare, "cluster throughput ÷ bare model throughput", "F2");
                // 6. Search latency at fixed rates (BM25 + dense over every item, as served); the same-run
                //    baseline is the query embedding alone, the one model call a default search makes.
                var queries = catalog.Items.Where(i => !string.IsNullOrWhiteSpace(i.Title))
                    .Select(i => string.Join(' ', i.Title!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(3))).Where(q => q.Length > 0).ToList();
                var embedder = app.Services.GetRequiredService<LMIndexer.Grains.Search.ItemTextEmbedder>();
                if (embedder.Enabled)
                {
                    embedder.EmbedQuery(queries[0]);
                    var embedClock = Stopwatch.StartNew();
                    foreach (var query in queries.Take(200))
                        embedder.EmbedQuery(query);
                    Row("search-model", "query_embedding_ms", embedClock.Elapsed.TotalMilliseconds / Math.Min(200, queries.Count), $"search: {embedder.Package!.Name} query embedding alone, ms", "F1");
                }
                var searchLoad = new RecommendationLoad();
                await searchLoad.RunAsync(http, i => RecommendationLoad.SearchRequest(queries[i % queries.Count]), 5, 10, TimeSpan.FromSeconds(3), cancellation);   // warm-up
                foreach (var rate in rateList)
                {
                    var load = new RecommendationLoad();
                    var searchClock = Stopwatch.StartNew();
                    var offset = rate * 7919;   // another slice of the queries at each rate
                    await load.RunAsync(http, i => RecommendationLoad.SearchRequest(queries[(offset + i) % queries.Count]), rate, rate * duration, TimeSpan.FromSeconds(duration + 1), cancellation);
                    var samples = load.Samples.ToList();
                    var failed = samples.Count(x => !x.Ok);
                    Row($"search-rate-{rate}", "p50_ms", RecommendationLoad.Percentile(samples, 0.5), $"search at {rate} req/s: p50 latency, ms", "F1");
                    Row($"search-rate-{rate}", "p99_ms", RecommendationLoad.Percentile(samples, 0.99), $"search at {rate} req/s: p99 latency, ms", "F1");
                    Row($"search-rate-{rate}", "throughput", (samples.Count - failed) / searchClock.Elapsed.TotalSeconds, $"search at {rate} req/s: completed requests/s", "F1");
                    Row($"search-rate-{rate}", "errors", failed, $"search at {rate} req/s: failed requests", "F0");
                }

                var stats = await inference.GetStatsAsync();
                Row("batcher", "mean_batch", stats.MeanBatchSize, "inference batcher: mean batch size over the run", "F1");
                Row("batcher", "mean_decode_ms", stats.MeanBatchMilliseconds, "inference batcher: mean beam-search time per batch, ms", "F1");
                Row("batcher", "mean_queue_wait_ms", stats.MeanQueueWaitMilliseconds, "inference batcher: mean wait of a request before its batch starts, ms", "F1");
                await app.StopAsync(CancellationToken.None);
            }

            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, measured.Rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"The embedded cluster (one silo, in-memory grain state) serving `{Path.GetFileName(bundleDir.TrimEnd('/'))}` ({modelName}, {catalog.Items.Count:N0} items) on loopback: recommendations over HTTP at fixed open-loop rates for {duration} s each, then saturated; the bare batched ranking of the same model in the same run (as the silo ranks it: the ranking the bundle's training chose on validation, else hybrid for a dense item head and beam search otherwise; one batch at a time, every core an intra-op thread) is the baseline; the cluster decodes with the default inference workers ({WorkerNote()}). Users' histories are replayed first, so every request runs the model. Search requests (`/api/search`, three title words of a catalog item) run at the same rates with the silo's default search settings; the query embedding alone is their same-run baseline."),
                measured.Markdown,
                "Goals: cluster overhead ≤ 20 % of bare model throughput (ratio ≥ 0.8); p50 ≤ 30 ms at 50 requests/s with the small model on 2 cores; ≥ 20 k events/s ingested; search p50 ≤ 30 ms and p99 ≤ 80 ms at 50 requests/s.");
            AnsiConsole.Write(new Markup(Markup.Escape(measured.Markdown)));
            return 0;
        }));
        return serve;
    }

    private sealed record LoadResult(double P50, double P99, double Throughput, int Errors);

    /// <summary>Open loop at a fixed rate: the same load generator as <c>lmindexer-bench load</c>.</summary>
    private static async Task<LoadResult> MeasureAsync(HttpClient http, Func<string> user, int rate, int seconds, CancellationToken cancellation)
    {
        var load = new RecommendationLoad();
        var clock = Stopwatch.StartNew();
        await load.RunAsync(http, user, rate, rate * seconds, TimeSpan.FromSeconds(seconds + 1), cancellation);
        var samples = load.Samples.ToList();
        var failed = samples.Count(s => !s.Ok);
        return new LoadResult(RecommendationLoad.Percentile(samples, 0.5), RecommendationLoad.Percentile(samples, 0.99), (samples.Count - failed) / clock.Elapsed.TotalSeconds, failed);
    }

    private static async Task<LoadResult> SaturateAsync(HttpClient http, Func<string> user, int concurrency, int seconds, CancellationToken cancellation)
    {
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var failed = 0;
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            while (clock.Elapsed < end)
            {
                var (milliseconds, ok) = await RecommendOnceAsync(http, user(), clock, cancellation);
                latencies.Add(milliseconds);
                if (!ok)
                    Interlocked.Increment(ref failed);
            }
        }, cancellation)));
        return Summarize([.. latencies], clock.Elapsed.TotalSeconds, failed);
    }

    /// <summary>One recommendation request: its latency and whether it succeeded.</summary>
    private static async Task<(double Milliseconds, bool Ok)> RecommendOnceAsync(HttpClient http, string user, Stopwatch clock, CancellationToken cancellation)
    {
        var started = clock.Elapsed;
        var ok = false;
        try
        {
            using var response = await http.GetAsync($"/api/users/{user}/recommendations?count=10", cancellation);
            ok = response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
        }
        return ((clock.Elapsed - started).TotalMilliseconds, ok);
    }

    private static string WorkerNote() => TorchRuntime.Device.type == TorchSharp.DeviceType.CPU
        ? $"{Environment.ProcessorCount} single-threaded workers"
        : "one worker on the GPU";

    private static LoadResult Summarize(double[] latencies, double seconds, int failed) =>
        new(RecommendationLoad.Percentile(latencies, 0.5), RecommendationLoad.Percentile(latencies, 0.99), (latencies.Length - failed) / seconds, failed);
}
