using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using LMIndexer.Abstractions;
using LMIndexer.Bench.Load;
using LMIndexer.Bench.Reporting;
using LMIndexer.Bench.Scale;
using LMIndexer.Cli.Console;
using LMIndexer.Cli.Commands;
using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Text;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench scale</c>: what grows with items and users on one machine — a streamed
/// synthetic catalog, ID assignment by a trained indexer, the serving structures of a large ID
/// table, the prefix grains and what a backfill writes into them, and event ingestion from many
/// distinct users — each stage with its time, throughput and peak memory.
/// </summary>
public static class ScaleBenchCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var items = new Option<int>("--items") { Description = "Items of the synthetic catalog.", DefaultValueFactory = _ => 1_000_000 };
        var users = new Option<int>("--users") { Description = "Users of the synthetic catalog.", DefaultValueFactory = _ => 1_000_000 };
        var work = new Option<DirectoryInfo>("--work") { Description = "Where the catalog is written (kept for later stages and runs).", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "bench", "scale")) };
        var indexer = new Option<DirectoryInfo[]>("--indexer") { Description = "A trained indexer bundle (repeatable): times ID assignment of the first --assign-items items.", AllowMultipleArgumentsPerToken = false };
        var assignItems = new Option<int>("--assign-items") { Description = "Items the indexer assigns IDs to, as 'lmindexer index assign' does (items/s is extrapolated to the catalog when fewer).", DefaultValueFactory = _ => 10_000 };
        var idSource = new Option<string>("--ids")
        {
            Description = "IDs of the serving, prefix-grain, backfill and recommendation stages: 'uniform' (codes drawn uniformly, a well-balanced table) or 'assigned' (the table the one --indexer assigned to the whole catalog; --assign-items must cover it).",
            DefaultValueFactory = _ => "uniform",
        };
        idSource.AcceptOnlyFromAmong("uniform", "assigned");
        var codebook = new Option<int>("--codebook") { Description = "Codes per position of the serving ID table (two positions and the collision counter).", DefaultValueFactory = _ => 512 };
        var batch = new Option<int>("--backfill-batch") { Description = "Backfill batch size, for the prefix-grain write volume and the backfill run (Backfill:BatchSize).", DefaultValueFactory = _ => new LMIndexer.Grains.Backfill.BackfillOptions().BatchSize };
        var backfill = new Option<bool>("--backfill") { Description = "Also backfill the whole catalog's IDs into the embedded cluster (LiteDB) while it serves --backfill-rate recommendations/s (minutes per million items)." };
        var backfillParallelism = new Option<int>("--backfill-parallelism") { Description = "Grain calls in flight within a backfill batch (Backfill:Parallelism).", DefaultValueFactory = _ => new LMIndexer.Grains.Backfill.BackfillOptions().Parallelism };
        var backfillRate = new Option<int>("--backfill-rate") { Description = "Recommendation requests/s during the backfill.", DefaultValueFactory = _ => 20 };
        var recommendRate = new Option<int>("--recommend-rate") { Description = "Recommendation requests/s against the whole catalog's trie, by beam search and by hybrid ranking with a dense head over every item (0 skips the stage).", DefaultValueFactory = _ => 25 };
        var recommendSeconds = new Option<int>("--recommend-seconds") { Description = "Seconds of load per ranking mode.", DefaultValueFactory = _ => 30 };
        var sustainMinutes = new Option<double>("--sustain-minutes") { Description = "Minutes of events at --sustain-rate from the catalog's users in turn, after a warm-up, with memory sampled (0 skips the stage).", DefaultValueFactory = _ => 0 };
        var sustainWarmUp = new Option<double>("--sustain-warmup") { Description = "Warm-up minutes before the sustained run's memory is judged.", DefaultValueFactory = _ => 2 };
        var sustainRate = new Option<int>("--sustain-rate") { Description = "Events/s of the sustained run.", DefaultValueFactory = _ => 2000 };
        var collectionAge = new Option<int>("--collection-age") { Description = "Seconds an idle grain stays active in the sustained run (Orleans:GrainCollection:CollectionAge).", DefaultValueFactory = _ => 120 };
        var eventUsers = new Option<int>("--event-users") { Description = "Distinct users sending one event each into the embedded cluster (0 skips the stage).", DefaultValueFactory = _ => 200_000 };
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = "Serving bundle of the event stage's cluster.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "demo", "model", "serving")) };
        var data = new Option<DirectoryInfo>("--data", "-d") { Description = "Its catalog (events name its items).", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("data", "demo", "catalog")) };
        var docs = BenchmarkReport.DirectoryOption();
        var name = new Option<string>("--name") { Description = "Benchmark section name.", DefaultValueFactory = _ => "scale" };
        var command = new Command("scale", "What grows with items and users on one machine: catalog, ID assignment, serving structures, prefix grains, event ingestion (loopback only, bounded).")
        {
            items, users, work, indexer, assignItems, idSource, codebook, batch, backfill, backfillParallelism, backfillRate, recommendRate, recommendSeconds, sustainMinutes, sustainWarmUp, sustainRate, collectionAge, eventUsers, bundle, data, docs, name,
        };
        common.AddTo(command);
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            var options = new SyntheticCatalogOptions { Items = result.GetValue(items), Users = result.GetValue(users), Seed = result.GetValue(common.Seed) };
            options.Validate();
            var codes = result.GetValue(codebook);
            if (codes is < 2 or > 65_536)
                throw new CliUsageException("--codebook must be between 2 and 65536.");
            if (result.GetValue(assignItems) < 1)
                throw new CliUsageException("--assign-items must be at least 1.");
            var useAssigned = result.GetValue(idSource) == "assigned";
            if (useAssigned && ((result.GetValue(indexer)?.Length ?? 0) != 1 || result.GetValue(assignItems) < options.Items))
                throw new CliUsageException("--ids assigned needs exactly one --indexer and --assign-items of at least --items.");
            var batchSize = result.GetValue(batch);
            if (batchSize < 1)
                throw new CliUsageException("--backfill-batch must be at least 1.");
            var parallelism = result.GetValue(backfillParallelism);
            if (parallelism is < 1 or > 4096)
                throw new CliUsageException("--backfill-parallelism must be between 1 and 4096.");
            var recommendationRate = result.GetValue(recommendRate);
            if (recommendationRate is < 0 or > 1000)
                throw new CliUsageException("--recommend-rate must be between 0 and 1000.");
            var recommendationSeconds = result.GetValue(recommendSeconds);
            if (recommendationSeconds is < 1 or > 600)
                throw new CliUsageException("--recommend-seconds must be between 1 and 600.");
            var sustained = (Minutes: result.GetValue(sustainMinutes), WarmUp: result.GetValue(sustainWarmUp), Rate: result.GetValue(sustainRate), Age: result.GetValue(collectionAge));
            if (sustained.Minutes is < 0 or > 120 || sustained.WarmUp is < 0 or > 60)
                throw new CliUsageException("--sustain-minutes must be between 0 and 120 and --sustain-warmup between 0 and 60.");
            if (sustained.Rate is < 1 or > 100_000 || sustained.Age is < 10 or > 86_400)
                throw new CliUsageException("--sustain-rate must be between 1 and 100000 and --collection-age between 10 and 86400 seconds.");
            common.InitializeRuntime(result);
            var clock = Stopwatch.StartNew();
            var measured = new BenchmarkTable(stageColumn: true);
            void Row(string stage, string metric, double value, string label, string format) =>
                AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{stage}: {label} [green]{measured.Add(stage, metric, value, label, format)}[/]");

            // 1. The catalog, streamed to disk.
            var catalogDir = Path.Combine(result.GetValue(work)!.FullName, "catalog");
            using (var meter = StageMeter.Start())
            {
                using var writer = new CatalogWriter(catalogDir);
                SyntheticCatalogGenerator.Write(options, writer.Add, writer.Add);
                writer.Complete();
                Row("synth", "seconds", meter.Seconds, $"{options.Items:N0} items and {options.Users:N0} users ({writer.EventCount:N0} events) written, s", "F1");
                Row("synth", "peak_mib", meter.PeakMiB, "peak resident memory, MiB", "F0");
            }
            var itemsPath = Path.Combine(catalogDir, CatalogFiles.ItemsFile);

            // 2. ID assignment by a trained indexer: the `index assign` path (the file streamed in chunks,
            //    full IDs with their collision counters) over the first --assign-items items.
            SemanticIdTable? assigned = null;
            var assignedCodebook = 0;
            foreach (var indexerDir in result.GetValue(indexer) ?? [])
            {
                using var trained = IndexerBundle.Load(indexerDir.FullName, TorchRuntime.Device);
                var sampleSize = Math.Min(result.GetValue(assignItems), options.Items);
                var maxTokens = int.Parse(trained.Bundle.Manifest.Properties.GetValueOrDefault("maxTokens", "64"), CultureInfo.InvariantCulture);
                trained.AssignCodes(CatalogFiles.EnumerateItems(itemsPath).Take(64).Select(ItemTextBuilder.Build).ToList(), maxTokens);   // warm-up
                var encoder = trained.Bundle.Manifest.Properties.GetValueOrDefault("encoder", "t5-scratch");
                var stage = $"assign-{encoder}";
                using var meter = StageMeter.Start();
                var (table, report) = ProgressBar.Run($"{stage} items", sampleSize,
                    progress => trained.AssignItems(CatalogFiles.EnumerateItems(itemsPath).Take(sampleSize), progress));
                var perSecond = sampleSize / meter.Seconds;
                Row(stage, "items_per_second", perSecond, $"IDs by a trained indexer on {encoder} ({sampleSize:N0} items, {report.Added:N0} new to it), items/s", "F0");
                if (sampleSize < options.Items)
                    Row(stage, "extrapolated_seconds", options.Items / perSecond, $"the same rate over {options.Items:N0} items (extrapolated), s", "F0");
                else
                    Row(stage, "seconds", meter.Seconds, $"all {options.Items:N0} items, s", "F0");
                Row(stage, "peak_mib", meter.PeakMiB, "peak resident memory, MiB", "F0");
                Row(stage, "largest_counter", table.Ids.Max(id => id[^1]) + 1, $"most items sharing learned codes (of a counter range of {trained.Bundle.Tokenizer.IdPositionSizes[^1]:N0})", "F0");
                if (useAssigned)
                {
                    var positions = trained.Bundle.Tokenizer.IdPositionSizes;
                    // The serving stages lay IDs out as two learned codes and a counter, as the cluster's tables do.
                    if (positions.Count != 3)
                        throw new CliUsageException($"--ids assigned needs an indexer of two learned positions and a counter, got {positions.Count} positions.");
                    (assigned, assignedCodebook) = (table, Math.Max(positions[0], positions[1]));
                }
            }

            // 3. The serving structures of the whole catalog's ID table, and its prefix grains.
            {
                var empty = StageMeter.LiveManagedBytes();
                var itemIds = CatalogFiles.EnumerateItems(itemsPath).Select(i => i.ItemId).ToList();
                var before = StageMeter.LiveManagedBytes();
                using var meter = StageMeter.Start();
                // The assigned table was built in the assignment stage; a copy laid out as the uniform
                // one is (the item id list above, arrays and index of its own) is what is measured here.
                var ids = assigned is null
                    ? ServingStructures.UniformIds(itemIds, codes, result.GetValue(common.Seed))
                    : ServingStructures.CopyInOrder(assigned, itemIds);
                if (assigned is not null)
                    codes = assignedCodebook;
                var tableSeconds = meter.Seconds;
                var afterTable = StageMeter.LiveManagedBytes();
                var trieClock = Stopwatch.StartNew();
                var trie = ServingStructures.BuildTrie(ids, codes);
                var trieSeconds = trieClock.Elapsed.TotalSeconds;
                var tablesClock = Stopwatch.StartNew();
                using var tables = new TrieTables(trie);
                var tablesSeconds = tablesClock.Elapsed.TotalSeconds;
                var afterTrie = StageMeter.LiveManagedBytes();
                var native = tables.NativeBytes;
                var n = (double)itemIds.Count;
                Row("serving", "table_seconds", tableSeconds, assigned is null ? "ID table built (uniform codes + collision counter), s" : "ID table copied from the assigned one, s", "F1");
                Row("serving", "trie_seconds", trieSeconds + tablesSeconds, "trie and its next-node tables built, s", "F1");
                Row("serving", "table_bytes_per_item", (afterTable - before) / n, "ID table (item ids, IDs, index), bytes/item", "F0");
                Row("serving", "trie_bytes_per_item", (afterTrie - afterTable + native) / n, "trie + next-node tables + item tokens, bytes/item", "F0");
                Row("serving", "bytes_per_item", (afterTrie - before + native) / n, "trie + ID table, bytes/item (target ≤ 200)", "F0");
                Row("serving", "item_id_bytes_per_item", (before - empty) / n, "the item id strings themselves (and their list), bytes/item", "F0");
                Row("serving", "counter_width", trie.TokenRange(trie.Length - 1).Width, "collision counter range used", "F0");
                Row("serving", "peak_mib", meter.PeakMiB, "peak resident memory, MiB", "F0");

                var prefixes = ServingStructures.PrefixGrains(ids, batchSize);
                Row("prefix-grains", "grains_per_version", prefixes.Grains, "prefix grains per version (one per first code)", "F0");
                Row("prefix-grains", "largest_items", prefixes.LargestItems, "IDs in the largest prefix grain", "F0");
                Row("prefix-grains", "largest_state_kib", prefixes.LargestStateBytes / 1024.0, "its stored state (JSON), KiB", "F0");
                // The backfill job writes each prefix grain once, whole, after the item grains; before, it
                // rewrote every grain a batch touched, with rows in ID order, and in table order before that.
                var once = prefixes.IdealBytes + 2L * prefixes.Grains;
                Row("prefix-grains", "backfill_written_mib", once / (1024.0 * 1024), "written into prefix grains by a backfill (each grain once with all its entries), MiB", "F0");
                Row("prefix-grains", "write_amplification", (double)once / prefixes.IdealBytes, "÷ each entry written once", "F2");
                foreach (var (stage, rows, order) in new[] { ("prefix-grains-id-order", ids.InIdOrder(), "ID order"), ("prefix-grains-table-order", ids, "table order") })
                {
                    var batched = ServingStructures.PrefixGrains(rows, batchSize);
                    Row(stage, "backfill_written_mib", batched.BackfillBytesWritten / (1024.0 * 1024), $"the same written batch by batch ({batchSize} rows in {order}, whole state per touched grain), MiB", "F0");
                    Row(stage, "write_amplification", (double)batched.BackfillBytesWritten / batched.IdealBytes, "÷ each entry written once", "F1");
                }
                GC.KeepAlive(tables);

                // 4. The whole table backfilled into the cluster under load.
                if (result.GetValue(backfill))
                {
                    var rate = result.GetValue(backfillRate);
                    var run = await ScaleBackfill.RunAsync(result.GetValue(bundle)!.FullName, result.GetValue(data)!.FullName, ids, result.GetValue(work)!.FullName, rate, batchSize, parallelism, cancellation);
                    Row("backfill", "seconds", run.Seconds, $"backfill of {run.Items:N0} items into item and prefix grains (LiteDB, batches of {batchSize}, {parallelism} calls in flight) under {rate} requests/s, s (target ≤ 600)", "F0");
                    Row("backfill", "items_per_second", run.Items / run.Seconds, "backfill rate, items/s", "F0");
                    Row("backfill", "batch_errors", run.BatchErrors, "batch errors retried by the job", "F0");
                    Row("backfill", "requests", run.Requests, "recommendation requests during the backfill", "F0");
                    Row("backfill", "failed_requests", run.FailedRequests, "failed requests (target 0)", "F0");
                    Row("backfill", "wrong_version", run.WrongVersion, "answers naming another version than the one in service (target 0)", "F0");
                    Row("backfill", "p50_ms", run.P50, "recommendation p50 during the backfill, ms", "F1");
                    Row("backfill", "p99_ms", run.P99, "recommendation p99 during the backfill, ms", "F1");
                    Row("backfill", "peak_mib", run.PeakMiB, "peak resident memory, MiB", "F0");
                }

                // 5. Recommendations with the whole catalog generatable (the trie, and the dense head's item vectors).
                if (recommendationRate > 0)
                {
                    var histories = CatalogFiles.EnumerateSequences(Path.Combine(catalogDir, CatalogFiles.SequencesFile))
                        .Where(u => u.ItemIds.Count >= 2).Take(2000).Select(u => (IReadOnlyList<string>)[.. u.ItemIds.SkipLast(1)]).ToList();
                    foreach (var (denseHead, approximate) in new[] { (false, false), (true, false), (true, true) })
                    {
                        var bundleDir = Path.Combine(result.GetValue(work)!.FullName, denseHead ? "recommend-hybrid" : "recommend-generative");
                        var writing = Stopwatch.StartNew();
                        if (!approximate)   // the approximate run serves the hybrid bundle just written
                            ScaleRecommendation.WriteBundle(bundleDir, ids, codes, denseHead, result.GetValue(common.Seed));
                        var writeSeconds = writing.Elapsed.TotalSeconds;
                        var savedIndexes = approximate ? Path.Combine(result.GetValue(work)!.FullName, "recommend-saved-index") : null;
                        if (savedIndexes is not null && Directory.Exists(savedIndexes))
                            Directory.Delete(savedIndexes, recursive: true);   // the first start must build it
                        var run = await ScaleRecommendation.RunAsync(bundleDir, histories, recommendationRate, recommendationSeconds, approximate, cancellation, savedIndexes);
                        var stage = $"recommend-{RankingModes.Name(run.Mode)}{(run.Approximate ? "-approximate" : "")}";
                        var what = !denseHead ? $"beam search over the {run.Items:N0}-item trie"
                            : approximate ? $"beam search over the {run.Items:N0}-item trie + dense head through an approximate (HNSW) index of {run.Items:N0} item vectors"
                            : $"beam search over the {run.Items:N0}-item trie + dense head over {run.Items:N0} item vectors (exact)";
                        if (!approximate)
                            Row(stage, "bundle_write_seconds", writeSeconds, "serving bundle written (ID table, trie, weights), s", "F1");
                        Row(stage, "load_seconds", run.LoadSeconds, "bundle loaded by the engine, s", "F1");
                        Row(stage, "engine_start_seconds", run.EngineStartSeconds, approximate ? "engine started, approximate index built and saved, s" : "engine started, s", "F1");
                        if (run.Restart is { } restart)
                        {
                            Row(stage, "restart_seconds", restart.RestartSeconds, "bundle loaded and engine started again, the saved index read back, s", "F1");
                            Row(stage, "index_file_mib", restart.IndexFileMiB, "saved index (graph and vectors) on disk, MiB", "F0");
                        }
                        Row(stage, "weights_mib", run.WeightsMiB, "weights on disk (the item vectors included), MiB", "F0");
                        Row(stage, "p50_ms", run.P50, $"{what} at {recommendationRate} requests/s: p50, ms (target ≤ 50)", "F1");
                        Row(stage, "p99_ms", run.P99, $"p99 at {recommendationRate} requests/s, ms", "F1");
                        Row(stage, "batch_ms", run.BatchMilliseconds, "ranking time per batch, ms", "F1");
                        Row(stage, "mean_batch", run.MeanBatch, "mean batch size", "F2");
                        Row(stage, "failed_requests", run.Failed, $"failed of {run.Requests:N0} requests", "F0");
                        Row(stage, "items_per_answer", run.MeanAnswerItems, "items per answer (beams)", "F1");
                        Row(stage, "peak_mib", run.PeakMiB, "peak resident memory (the stages' tables still held), MiB", "F0");
                        if (approximate)
                        {
                            var agreement = ScaleRecommendation.CompareApproximate(bundleDir, histories, requests: 200);
                            Row(stage, "dense_recall_at_100", agreement.DenseRecall, $"approximate dense top 100's recall of the exact top 100 ({agreement.Requests} requests)", "F3");
                            Row(stage, "hybrid_agreement_at_20", agreement.HybridAgreement, $"share of the exact hybrid answer's {agreement.Beams} items in the approximate answer", "F3");
                            Row(stage, "index_seconds", agreement.IndexSeconds, "approximate index built alone, s", "F1");
                        }
                    }
                }
            }

            // 6. Events from many distinct users into the embedded cluster on its store.
            var eventUserCount = result.GetValue(eventUsers);
            if (eventUserCount > 0)
                await IngestAsync(result.GetValue(bundle)!.FullName, result.GetValue(data)!.FullName, eventUserCount, Row, cancellation);

            // 7. Memory under events sustained for minutes, user grains collected and created again.
            if (sustained.Minutes > 0)
            {
                var run = await SustainedEvents.RunAsync(result.GetValue(bundle)!.FullName, result.GetValue(data)!.FullName, result.GetValue(work)!.FullName, options.Users, sustained.Rate,
                    TimeSpan.FromMinutes(sustained.WarmUp), TimeSpan.FromMinutes(sustained.Minutes), TimeSpan.FromSeconds(sustained.Age), TimeSpan.FromSeconds(10), cancellation);
                var (first, last) = run.ResidentEnds;
                Row("events-sustained", "events_per_second", run.EventsPerSecond, $"events from {options.Users:N0} users in turn at {sustained.Rate:N0}/s for {sustained.WarmUp + sustained.Minutes:F1} min (LiteDB, grains idle {sustained.Age} s collected), events/s", "F0");
                Row("events-sustained", "events", run.Events, "events sent", "F0");
                Row("events-sustained", "rss_first_minute_mib", first, "resident memory, first minute after the warm-up (mean), MiB", "F0");
                Row("events-sustained", "rss_last_minute_mib", last, "resident memory, last minute (mean), MiB", "F0");
                Row("events-sustained", "rss_slope_mib_per_minute", run.ResidentSlope, "resident memory's least-squares slope after the warm-up, MiB/min (target: no growth)", "F1");
                Row("events-sustained", "rss_max_mib", run.Steady.Max(s => s.ResidentMiB), "highest resident memory after the warm-up, MiB", "F0");
                Row("events-sustained", "activations_max", run.Samples.Max(s => s.Activations), "most grain activations seen", "F0");
                Row("events-sustained", "activations_last", run.Samples[^1].Activations, "grain activations at the end", "F0");
                foreach (var minute in Enumerable.Range(1, (int)(sustained.WarmUp + sustained.Minutes)))
                {
                    var sample = run.Samples.MinBy(s => Math.Abs(s.Minutes - minute))!;
                    Row("events-sustained", $"rss_mib_minute_{minute:D2}", sample.ResidentMiB, $"resident memory at minute {minute} ({sample.Activations:N0} activations), MiB", "F0");
                }
            }

            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, result.GetValue(name)!, commandLine, clock.Elapsed.TotalSeconds, measured.Rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"One machine, one process, stage after stage: a synthetic catalog of {options.Items:N0} items and {options.Users:N0} users streamed to disk; ID assignment by a trained indexer on a sample (extrapolated); the serving structures (ID table, trie, next-node tables) of a {options.Items:N0}-item ID table {(assigned is null ? $"with uniform codes ({codes} per position, the shape a balanced learned table has)" : $"of the IDs the indexer assigned ({codes} codes per learned position and the collision counter it needed)")} and the prefix grains a version of it needs, with the bytes a backfill writes into them (computed from the table, as `IdPrefixGrain` rewrites its whole state per batch), rows in ID order as the backfill job takes them and in table order as it took them before; recommendations at a fixed open-loop rate from the inference engine the inference grain wraps (default options, 20 beams) over a serving bundle whose trie holds the whole table, ranked by beam search alone and hybrid with a dense item head over every item (a tiny network of the default recipe's shape with drawn weights: the work per request does not depend on their values; histories of the catalog's users); one event from each of many distinct users into the embedded cluster on its LiteDB store; and, when asked, events at a fixed rate from the catalog's users in turn for minutes with idle grains collected, the process sampled every 10 s. Memory is the process's resident set sampled every 50 ms, and the managed heap after a full collection for the structures."),
                measured.Markdown,
                "Targets (issue 36): trie + ID table ≤ 200 bytes per item beside the vectors; recommendation p50 ≤ 50 ms at 25 requests/s with the whole catalog; memory bounded under events from many users.");
            return 0;
        }));
        return command;
    }

    /// <summary>One event from each of <paramref name="userCount"/> distinct users, in batches of 500 as <c>POST /api/events</c> takes them.</summary>
    private static async Task IngestAsync(string bundleDir, string catalogDir, int userCount, Action<string, string, double, string, string> row, CancellationToken cancellation)
    {
        var catalogItems = CatalogFiles.EnumerateItems(Path.Combine(catalogDir, CatalogFiles.ItemsFile)).Select(i => i.ItemId).ToList();
        var scratch = Path.Combine(Path.GetTempPath(), "lmindexer-bench-scale-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var (app, _) = await BenchCluster.StartAsync(bundleDir, catalogDir, "LiteDb", Path.Combine(scratch, "cluster.db"), cancellation);
            await using (app)
            {
                var grains = app.Services.GetRequiredService<IGrainFactory>();
                var management = grains.GetGrain<IManagementGrain>(0);
                var activationsBefore = await management.GetTotalActivationCount(cancellation);
                var heapBefore = StageMeter.LiveManagedBytes();
                using var meter = StageMeter.Start();
                var now = DateTimeOffset.UtcNow;
                var batches = Enumerable.Range(0, userCount).Chunk(500);
                await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellation }, async (chunk, _) =>
                    await Task.WhenAll(chunk.Select(u => grains.GetGrain<IUserGrain>(SyntheticCatalogGenerator.UserId(u))
                        .RecordBatchAsync([new UserEvent($"scale-{u}", SyntheticCatalogGenerator.UserId(u), catalogItems[u % catalogItems.Count], EventType.View, now)]))));
                var seconds = meter.Seconds;
                var activations = await management.GetTotalActivationCount(cancellation) - activationsBefore;
                var heapAfter = StageMeter.LiveManagedBytes();
                row("events", "events_per_second", userCount / seconds, $"one event from each of {userCount:N0} users (LiteDB store), events/s", "F0");
                row("events", "active_user_grains", activations, "activations added", "F0");
                row("events", "bytes_per_user_grain", (heapAfter - heapBefore) / (double)Math.Max(1, activations), "managed heap per added activation, bytes", "F0");
                row("events", "peak_mib", meter.PeakMiB, "peak resident memory, MiB", "F0");
                await app.StopAsync(CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }
}
