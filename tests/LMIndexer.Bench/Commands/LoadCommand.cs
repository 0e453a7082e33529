using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LMIndexer.Cli.Console;
using LMIndexer.Bench.Load;
using Spectre.Console;
using LMIndexer.Bench.Reporting;
using LMIndexer.Cli.Commands;

namespace LMIndexer.Bench.Commands;

/// <summary>
/// <c>lmindexer-bench load</c>: a bounded open-loop mix of user events and recommendation requests
/// against a host on this machine; prints latency percentiles, throughput and errors per kind.
/// </summary>
public static class LoadCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var target = new Option<string>("--target") { Description = "The host's base address; loopback only.", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var rate = new Option<int>("--rate") { Description = "Requests per second (all kinds together).", DefaultValueFactory = _ => 50 };
        var seconds = new Option<int>("--seconds") { Description = "Longest run, seconds (at most 600).", DefaultValueFactory = _ => 10 };
        var maxRequests = new Option<int?>("--max-requests") { Description = "Requests sent at most (default rate × seconds; at most 1,000,000)." };
        var eventShare = new Option<double>("--event-share") { Description = "Share of the requests that are events (the rest ask for recommendations).", DefaultValueFactory = _ => 0.5 };
        var users = new Option<int>("--users") { Description = "Distinct users (load-user-N).", DefaultValueFactory = _ => 1000 };
        var data = new Option<DirectoryInfo?>("--data") { Description = "A catalog (items.jsonl, sequences.tsv) whose users and items the load uses instead of made-up ones." };
        var report = new Option<FileInfo?>("--report") { Description = "Write the figures as JSON here too." };
        var command = new Command("load", "Bounded loopback load: events and recommendation requests at a fixed rate; p50/p95/p99, throughput, errors.")
        {
            target, rate, seconds, maxRequests, eventShare, users, data, report,
        };
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            var address = RecommendationLoad.RequireLoopback(result.GetValue(target)!);
            var perSecond = result.GetValue(rate);
            var duration = result.GetValue(seconds);
            if (perSecond is < 1 or > 5000)
                throw new CliUsageException("--rate must be between 1 and 5000.");
            if (duration is < 1 or > 600)
                throw new CliUsageException("--seconds must be between 1 and 600.");
            var limit = result.GetValue(maxRequests) ?? perSecond * duration;
            if (limit is < 1 or > 1_000_000)
                throw new CliUsageException("--max-requests must be between 1 and 1000000.");
            var share = result.GetValue(eventShare);
            if (share is < 0 or > 1)
                throw new CliUsageException("--event-share must be between 0 and 1.");
            string[] userIds;
            string[] itemIds;
            if (result.GetValue(data) is { } catalogDirectory)
            {
                var catalog = RecCommands.LoadCatalog(catalogDirectory);
                userIds = [.. catalog.Users.Select(u => u.UserId)];
                itemIds = [.. catalog.Items.Select(i => i.ItemId)];
            }
            else
            {
                var count = result.GetValue(users);
                if (count < 1)
                    throw new CliUsageException("--users must be at least 1.");
                userIds = [.. Enumerable.Range(0, count).Select(i => $"load-user-{i}")];
                itemIds = [.. Enumerable.Range(0, 5000).Select(i => $"load-item-{i}")];
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 512 }) { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
            var load = new RecommendationLoad();
            var run = Guid.NewGuid().ToString("N")[..8];
            var clock = Stopwatch.StartNew();
            AnsiConsole.MarkupLineInterpolated($"load: {perSecond}/s for up to {duration} s ({limit:N0} requests at most), {share:P0} events, against {address}");
            await load.RunAsync(http, i =>
            {
                var random = new Random(i);
                var user = userIds[random.Next(userIds.Length)];
                return random.NextDouble() < share
                    ? RecommendationLoad.EventRequest(user, itemIds[random.Next(itemIds.Length)], $"load-{run}-{i}")
                    : RecommendationLoad.RecommendationRequest(user);
            }, perSecond, limit, TimeSpan.FromSeconds(duration), cancellation);
            var wall = clock.Elapsed.TotalSeconds;

            var samples = load.Samples.ToList();
            var table = new Table().AddColumns("kind", "sent", "ok", "errors", "p50 ms", "p95 ms", "p99 ms", "ok/s");
            var rows = new List<object>();
            foreach (var group in samples.GroupBy(s => s.Kind).OrderBy(g => g.Key).Append(samples.GroupBy(_ => "all").Single()))
            {
                var list = group.ToList();
                var ok = list.Count(s => s.Ok);
                var figures = new
                {
                    kind = group.Key,
                    sent = list.Count,
                    ok,
                    errors = list.Count - ok,
                    p50 = RecommendationLoad.Percentile(list, 0.50),
                    p95 = RecommendationLoad.Percentile(list, 0.95),
                    p99 = RecommendationLoad.Percentile(list, 0.99),
                    throughput = ok / wall,
                    statuses = list.GroupBy(s => s.Status).ToDictionary(s => s.Key.ToString(CultureInfo.InvariantCulture), s => s.Count()),
                };
                rows.Add(figures);
                table.AddRow(figures.kind, $"{figures.sent:N0}", $"{figures.ok:N0}", $"{figures.errors:N0}",
                    figures.p50.ToString("F1", CultureInfo.InvariantCulture), figures.p95.ToString("F1", CultureInfo.InvariantCulture), figures.p99.ToString("F1", CultureInfo.InvariantCulture),
                    figures.throughput.ToString("F1", CultureInfo.InvariantCulture));
            }
            AnsiConsole.Write(table);
            if (result.GetValue(report) is { } file)
                await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(new { target = address.ToString(), rate = perSecond, seconds = wall, rows }, Indented), cancellation);
            return samples.All(s => s.Ok) ? 0 : 1;
        }));
        return command;
    }
}
