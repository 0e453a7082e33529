using System.Collections.Concurrent;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using LMIndexer.Abstractions;
using LMIndexer.Cli.Console;
using LMIndexer.Bench.Load;
using LMIndexer.Core.Evaluation;
using LMIndexer.Grains;
using LMIndexer.Silo.Hosting;
using LMIndexer.Silo.Hosting.Options;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench storage</c>: grain-state writes and reads through real grains on an embedded
/// silo, once per storage provider in the same run (memory is the baseline).
/// </summary>
public static class StorageBenchCommand
{
    public static Command Create()
    {
        var items = new Option<int>("--items") { Description = "Item grains written, then read back after deactivation.", DefaultValueFactory = _ => 2000 };
        var concurrency = new Option<int>("--concurrency") { Description = "Grain calls in flight.", DefaultValueFactory = _ => 32 };
        var mongodb = new Option<string?>("--mongodb") { Description = "A MongoDB server for the MongoDB rows (loopback; e.g. the jongodb test server); left out when not given." };
        var work = new Option<DirectoryInfo?>("--work") { Description = "Where the LiteDB file goes (default: the temp directory; removed afterwards)." };
        var docs = BenchmarkReport.DirectoryOption();
        var command = new Command("storage", "Grain-state write/read throughput and latency per storage provider (memory, LiteDB, MongoDB); results into the bench results.")
        {
            items, concurrency, mongodb, work, docs,
        };
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            var count = result.GetValue(items);
            if (count is < 10 or > 200_000)
                throw new CliUsageException("--items must be between 10 and 200000.");
            var inFlight = result.GetValue(concurrency);
            if (inFlight is < 1 or > 1024)
                throw new CliUsageException("--concurrency must be between 1 and 1024.");
            var scratch = result.GetValue(work)?.FullName ?? Path.Combine(Path.GetTempPath(), "lmindexer-bench-storage-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(scratch);
            var providers = new List<(string Name, Dictionary<string, string?> Settings)>
            {
                ("memory", new() { ["Storage:Provider"] = "Memory" }),
                ("litedb", new() { ["Storage:Provider"] = "LiteDb", ["Storage:LiteDb:ConnectionString"] = $"Filename={Path.Combine(scratch, "bench.db")}" }),
            };
            if (result.GetValue(mongodb) is { } uri)
            {
                if (!Uri.TryCreate(uri.Replace("mongodb://", "http://", StringComparison.Ordinal), UriKind.Absolute, out var parsed) || !RecommendationLoad.IsLoopbackHost(parsed.Host))
                    throw new CliUsageException("--mongodb: benchmarks only target loopback servers.");
                providers.Add(("mongodb", new() { ["Storage:Provider"] = "MongoDB", ["Storage:MongoDB:ConnectionString"] = uri, ["Storage:MongoDB:Database"] = "bench" + Guid.NewGuid().ToString("N")[..8] }));
            }
            var clock = Stopwatch.StartNew();
            var rows = new List<BenchmarkRow>();
            var table = new StringBuilder("| provider | writes/s | write p50 ms | write p99 ms | reads/s | read p50 ms | read p99 ms |\n|---|---:|---:|---:|---:|---:|---:|\n");
            try
            {
                foreach (var (name, settings) in providers)
                {
                    var (writes, reads) = await MeasureAsync(settings, count, inFlight, cancellation);
                    rows.Add(new BenchmarkRow(name, "writes-per-s", writes.PerSecond));
                    rows.Add(new BenchmarkRow(name, "write-p50-ms", writes.P50));
                    rows.Add(new BenchmarkRow(name, "write-p99-ms", writes.P99));
                    rows.Add(new BenchmarkRow(name, "reads-per-s", reads.PerSecond));
                    rows.Add(new BenchmarkRow(name, "read-p50-ms", reads.P50));
                    rows.Add(new BenchmarkRow(name, "read-p99-ms", reads.P99));
                    table.Append(CultureInfo.InvariantCulture, $"| {name} | {writes.PerSecond:F0} | {writes.P50:F2} | {writes.P99:F2} | {reads.PerSecond:F0} | {reads.P50:F2} | {reads.P99:F2} |\n");
                    AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"{name}: {writes.PerSecond:F0} writes/s (p99 {writes.P99:F1} ms), {reads.PerSecond:F0} reads/s (p99 {reads.P99:F1} ms)");
                }
            }
            finally
            {
                if (result.GetValue(work) is null)
                    Directory.Delete(scratch, recursive: true);
            }
            var commandLine = RecordedCommand.Of(result);
            BenchmarkReport.Write(result.GetValue(docs)!.FullName, "storage", commandLine, clock.Elapsed.TotalSeconds, rows,
                string.Create(CultureInfo.InvariantCulture,
                    $"One embedded silo per provider, in the same run: {count:N0} item grains each write their state once (`PUT`-style upsert, {inFlight} calls in flight), then all activations are collected and every item is read back (activation = one state read). Latency is per grain call, so it includes Orleans' own work; memory is the baseline."),
                table.ToString(),
                "LiteDB is the embedded default (one file, group commit); MongoDB is the production store (here the jongodb wire-protocol server, which is not a performance stand-in for mongod).");
            AnsiConsole.Write(new Markup(Markup.Escape(table.ToString())));
            return 0;
        }));
        return command;
    }

    private sealed record Phase(double PerSecond, double P50, double P99);

    private static async Task<(Phase Writes, Phase Reads)> MeasureAsync(Dictionary<string, string?> settings, int count, int inFlight, CancellationToken cancellation)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        builder.UseOrleans(silo =>
        {
            silo.AddLMIndexerClustering(new SiloClusterOptions { SiloPort = FreePort(), GatewayPort = FreePort(), ClusterId = "bench-" + Guid.NewGuid().ToString("N")[..8] }, configuration);
            silo.AddLMIndexerStorage(configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions(), configuration);
            silo.AddLMIndexerGrains(configuration, new Dictionary<string, string> { ["role"] = "cpu" });
        });
        using var host = builder.Build();
        await host.StartAsync(cancellation);
        try
        {
            var grains = host.Services.GetRequiredService<IGrainFactory>();
            var records = Enumerable.Range(0, count).Select(i => new ItemRecord($"bench-{i:D6}", $"Benchmark item {i}", $"A description of item {i} long enough to look like a catalog entry.", "Brand", 9.99m + i % 50, new List<IReadOnlyList<string>> { new List<string> { "Beauty", "Skin Care", "Face" } })).ToList();
            var writes = await TimeAsync(records, inFlight, r => grains.GetGrain<IItemGrain>(r.ItemId).UpsertAsync(r), cancellation);
            await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero, cancellation);
            var reads = await TimeAsync(records, inFlight, async r =>
            {
                if (await grains.GetGrain<IItemGrain>(r.ItemId).GetAsync() is null)
                    throw new InvalidOperationException($"{r.ItemId} was not read back.");
            }, cancellation);
            return (writes, reads);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<Phase> TimeAsync(IReadOnlyList<ItemRecord> records, int inFlight, Func<ItemRecord, Task> call, CancellationToken cancellation)
    {
        var latencies = new ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(records, new ParallelOptions { MaxDegreeOfParallelism = inFlight, CancellationToken = cancellation }, async (record, _) =>
        {
            var started = clock.Elapsed;
            await call(record);
            latencies.Add((clock.Elapsed - started).TotalMilliseconds);
        });
        var seconds = clock.Elapsed.TotalSeconds;
        return new Phase(records.Count / seconds, RecommendationLoad.Percentile(latencies, 0.5), RecommendationLoad.Percentile(latencies, 0.99));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
