using System.CommandLine;
using LMIndexer.Cli.Console;
using LMIndexer.Silo.Security;

namespace LMIndexer.Cli.Commands;

/// <summary><c>lmindexer apikey new</c>: a fresh API key and the hash the silos are configured with.</summary>
public static class ApiKeyCommand
{
    public static Command Create()
    {
        var apikey = new Command("apikey", "API keys for catalog writes and the admin API.");
        var name = new Option<string>("--name") { Description = "A name for the key (shows in configuration, never the key).", DefaultValueFactory = _ => "ops" };
        var scopes = new Option<string>("--scopes") { Description = "admin, catalog, or both comma-separated.", DefaultValueFactory = _ => "admin,catalog" };
        var create = new Command("new", "Print a new random key (give it to the client) and the settings that let the silos accept it (they keep only its SHA-256).") { name, scopes };
        create.SetAction(result => CliErrors.Run(() =>
        {
            var list = result.GetValue(scopes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (list.Length == 0 || list.Any(s => s is not (ApiScopes.Admin or ApiScopes.Catalog)))
                throw new CliUsageException($"--scopes: use {ApiScopes.Admin} and/or {ApiScopes.Catalog}.");
            var (key, sha256) = ApiKeys.NewKey();
            System.Console.WriteLine($"key (give to the client, shown once): {key}");
            System.Console.WriteLine("silo settings (environment):");
            System.Console.WriteLine($"  Security__ApiKeys__0__Name={result.GetValue(name)}");
            System.Console.WriteLine($"  Security__ApiKeys__0__Sha256={sha256}");
            for (var i = 0; i < list.Length; i++)
                System.Console.WriteLine($"  Security__ApiKeys__0__Scopes__{i}={list[i]}");
            return 0;
        }));
        apikey.Subcommands.Add(create);
        return apikey;
    }
}
