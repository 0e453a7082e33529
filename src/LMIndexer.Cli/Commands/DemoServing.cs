using System.Globalization;
using LMIndexer.Abstractions;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Training;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>The demo's serving half: start the embedded cluster, replay events, show a recommendation, serve.</summary>
internal static class DemoServing
{
    /// <summary>Starts the embedded cluster with the API and widget, replays the catalog's events, prints the URLs and serves until stopped.</summary>
    public static async Task<int> ServeAsync(string servingDirectory, string catalogDirectory, Catalog catalog, int port, bool exitAfterStart, CancellationToken cancellation)
    {
        // The cluster's state lives next to the demo's bundles, so a second run finds its users again.
        var store = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(servingDirectory))!, "cluster.db");
        var (app, address) = await EmbeddedHost.StartAsync(servingDirectory, catalogDirectory, port, cancellation,
            new Dictionary<string, string?> { ["Storage:Provider"] = "LiteDb", ["Storage:LiteDb:ConnectionString"] = $"Filename={store}" });
        await using var host = app;
        var grains = app.Services.GetRequiredService<IGrainFactory>();
        // Every user's history except the last item, as if the shop had been running.
        var events = catalog.Users.SelectMany(u => u.ItemIds.Take(u.ItemIds.Count - 1).Select((item, i) =>
            new UserEvent($"{u.UserId}-{i}", u.UserId, item, EventType.View, DateTimeOffset.UtcNow))).ToList();
        var replayed = 0;
        ProgressBar.Run("replay events", events.Count, progress =>
        {
            Parallel.ForEachAsync(events.GroupBy(e => e.UserId), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellation }, async (user, _) =>
            {
                await grains.GetGrain<IUserGrain>(user.Key).RecordBatchAsync([.. user]);
                progress.Report(Interlocked.Add(ref replayed, user.Count()));
            }).GetAwaiter().GetResult();
            return replayed;
        });

        var sampleUser = catalog.Users[0];
        var sample = await grains.GetGrain<IUserGrain>(sampleUser.UserId).RecommendAsync(5);
        var byId = catalog.Items.ToDictionary(i => i.ItemId, StringComparer.Ordinal);
        var table = new Table().Title(Markup.Escape($"recommendations for {sampleUser.UserId} (index {sample.Version ?? "none"})"))
            .AddColumn("item").AddColumn("title").AddColumn("source").AddColumn(new TableColumn("score").RightAligned());
        foreach (var item in sample.Items)
            table.AddRow(Markup.Escape(item.ItemId), Markup.Escape(item.Item?.Title ?? ""), item.Source.ToString().ToLowerInvariant(), item.Score.ToString("F2", CultureInfo.InvariantCulture));
        AnsiConsole.Write(table);
        var recent = string.Join(" → ", sampleUser.ItemIds.TakeLast(4).SkipLast(1).Select(id => byId.TryGetValue(id, out var i) ? i.Title : id));
        AnsiConsole.MarkupLineInterpolated($"[grey]their latest items: {recent}[/]");

        AnsiConsole.Write(UrlTable(address, sampleUser.UserId));
        if (exitAfterStart)
        {
            await app.StopAsync(CancellationToken.None);
            return 0;
        }
        await ServeUntilStoppedAsync(app, cancellation);
        return 0;
    }

    /// <summary>Where the widget, API reference, OpenAPI document, dashboard and health check are.</summary>
    public static Table UrlTable(string address, string sampleUserId)
    {
        var urls = new Table().AddColumn("what").AddColumn("url");
        urls.AddRow("widget", Markup.Escape($"{address}/widget?user={sampleUserId}"));
        urls.AddRow("API reference", Markup.Escape($"{address}/docs"));
        urls.AddRow("OpenAPI document", Markup.Escape($"{address}/openapi/v1.json"));
        urls.AddRow("Orleans dashboard", Markup.Escape($"{address}/dashboard"));
        urls.AddRow("health", Markup.Escape($"{address}/health"));
        return urls;
    }

    /// <summary>Serves until Ctrl+C or SIGTERM, then stops the host (within its shutdown timeout).</summary>
    public static async Task ServeUntilStoppedAsync(Microsoft.AspNetCore.Builder.WebApplication app, CancellationToken cancellation)
    {
        AnsiConsole.MarkupLine("Serving. Press [bold]Ctrl+C[/] to stop.");
        // The host's console lifetime takes SIGTERM (docker stop, systemd) and only signals
        // ApplicationStopping; nothing would stop the host if this loop did not listen to it.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellation, app.Lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, stopping.Token);
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("stopping…");
        }
        await app.StopAsync(CancellationToken.None);
    }
}
