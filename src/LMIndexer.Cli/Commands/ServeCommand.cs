using System.CommandLine;
using LMIndexer.Cli.Console;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Recipes;
using Spectre.Console;

namespace LMIndexer.Cli.Commands;

/// <summary>
/// <c>lmindexer serve</c>: the embedded cluster (one silo, API, widget, dashboard) on a trained
/// bundle. Silo settings from appsettings.json or the environment (<c>Storage__Provider</c>, …)
/// win over the defaults this command picks.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var bundle = new Option<DirectoryInfo>("--bundle", "-b") { Description = "A 'lmindexer train' output folder, or a serving bundle.", Required = true };
        var catalog = new Option<DirectoryInfo?>("--catalog", "-c") { Description = "Catalog folder (items.jsonl); default: the one the bundle was trained on." };
        var port = new Option<int>("--port") { Description = "Loopback port of the API and widget (0: any free port).", DefaultValueFactory = _ => 5080 };
        var exitAfterStart = new Option<bool>("--exit-after-start") { Description = "Start, print the URLs, then stop (for scripts and checks)." };
        var command = new Command("serve", "Serve a trained bundle from the embedded Orleans cluster: HTTP API, widget, dashboard.") { bundle, catalog, port, exitAfterStart };
        command.SetAction((result, cancellation) => CliErrors.RunAsync(async () =>
        {
            if (result.GetValue(port) is < 0 or > 65535)
                throw new CliUsageException($"--port must be between 0 and 65535, got {result.GetValue(port)}.");
            var root = result.GetValue(bundle)!.FullName;
            var serving = ServingDirectory(root);
            var catalogDirectory = result.GetValue(catalog)?.FullName
                ?? TrainingPipeline.ReadRun(root)?.Catalog
                ?? throw new CliUsageException($"{root} does not say which catalog it was trained on; pass --catalog.");
            var loaded = RecCommands.LoadCatalog(new DirectoryInfo(catalogDirectory));
            var search = Path.Combine(Path.GetDirectoryName(serving)!, TrainingPipeline.SearchFolder);
            var defaults = new Dictionary<string, string?>
            {
                // A train output's search model serves /api/search beside the recommender.
                ["Serving:SearchBundlePath"] = File.Exists(Path.Combine(search, ServingBundle.TrieFile)) ? search : null,
                ["Storage:Provider"] = "LiteDb",
                ["Storage:LiteDb:ConnectionString"] = $"Filename={Path.Combine(Path.GetDirectoryName(serving)!, "cluster.db")}",
            };
            // Explicit silo settings in the environment are the operator's choice; keep them.
            foreach (var key in defaults.Keys.ToList())
            {
                if (defaults[key] is null || Environment.GetEnvironmentVariable(key.Replace(":", "__", StringComparison.Ordinal)) is not null)
                    defaults.Remove(key);
            }
            var (app, address) = await EmbeddedHost.StartAsync(serving, catalogDirectory, result.GetValue(port), cancellation, defaults);
            await using var host = app;
            AnsiConsole.Write(DemoServing.UrlTable(address, loaded.Users.Count > 0 ? loaded.Users[0].UserId : "user-1"));
            if (result.GetValue(exitAfterStart))
            {
                await app.StopAsync(CancellationToken.None);
                return 0;
            }
            await DemoServing.ServeUntilStoppedAsync(app, cancellation);
            return 0;
        }));
        return command;
    }

    /// <summary>The serving bundle inside a train output folder, or the folder itself when it is one.</summary>
    private static string ServingDirectory(string root)
    {
        var inside = Path.Combine(root, TrainingPipeline.ServingFolder);
        if (File.Exists(Path.Combine(inside, ServingBundle.TrieFile)))
            return inside;
        if (File.Exists(Path.Combine(root, ServingBundle.TrieFile)))
            return root;
        throw new CliUsageException($"{root} holds no serving bundle; train one with 'lmindexer train' (an interrupted run resumes when rerun).");
    }
}
