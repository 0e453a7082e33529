using System.Net.Http.Json;
using System.Text.Json;
using LMIndexer.Testing;

namespace LMIndexer.EndToEnd.Tests;

/// <summary>The served OpenAPI document, read as an outside client's tools read it.</summary>
[Collection(nameof(HostCollection))]
public sealed class OpenApiContractTests(HostFixture host)
{
    [Fact]
    public async Task The_document_passes_Redocly_lint_with_no_errors()
    {
        var redocly = NpmTools.Ensure(Path.Combine(".tools", "redocly", "node_modules", ".bin", "redocly"), Path.Combine(".ci", "install-redocly"));
        var file = Path.Combine(Path.GetTempPath(), $"lmindexer-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, await host.Http.GetStringAsync("/openapi/v1.json"));
        try
        {
            // Redocly exits 1 when it finds errors; the report lists them either way.
            var lint = ToolProcess.RunExecutable(redocly, Path.GetTempPath(), TimeSpan.FromMinutes(2),
                new Dictionary<string, string> { ["REDOCLY_TELEMETRY"] = "off", ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true" }, "lint", file, "--format=json");
            using var report = JsonDocument.Parse(lint.Output);
            var errors = report.RootElement.GetProperty("problems").EnumerateArray()
                .Where(p => p.GetProperty("severity").GetString() == "error")
                .Select(p => $"{p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()}")
                .ToList();
            Assert.True(errors.Count == 0 && lint.ExitCode == 0, string.Join('\n', errors) + lint.Error);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_TypeScript_client_generated_from_the_document_drives_the_api_and_every_answer_conforms_to_it()
    {
        var tsc = NpmTools.Ensure(Path.Combine(".tools", "api-client", "node_modules", ".bin", "tsc"), Path.Combine(".ci", "install-api-client"));
        var tools = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(tsc)!, "..", ".."));
        var work = Path.Combine(tools, $"run-{Guid.NewGuid():N}");   // beside node_modules, which the client's imports resolve from
        Directory.CreateDirectory(work);
        try
        {
            var sources = Path.Combine(TestEnvironment.RepositoryRoot(), "tests", "LMIndexer.EndToEnd.Tests", "ApiClient");
            foreach (var file in new[] { "client.ts", "tsconfig.json" })
                File.Copy(Path.Combine(sources, file), Path.Combine(work, file));
            var document = Path.Combine(work, "openapi.json");
            await File.WriteAllTextAsync(document, await host.Http.GetStringAsync("/openapi/v1.json"));

            Run(Path.Combine(tools, "node_modules", ".bin", "openapi-typescript"), work, document, "--output", Path.Combine(work, "api.d.ts"));
            Run(tsc, work, "-p", work);   // the calls type-check against the generated types
            var output = Run("node", work, Path.Combine(work, "out", "client.js"), host.BaseAddress.ToString().TrimEnd('/'), HostFixture.ApiKey, HostFixture.CatalogKey,
                document, TestServingBundle.Catalog.Items[3].ItemId);
            Assert.Matches(@"ok: \d+ responses conform to the document", output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Runs a tool to its end (bounded) and returns its output; a non-zero exit fails the test with everything it wrote.</summary>
    private static string Run(string tool, string workingDirectory, params string[] args)
    {
        var result = ToolProcess.RunExecutable(tool, workingDirectory, TimeSpan.FromMinutes(2), new Dictionary<string, string>(), args);
        Assert.True(result.ExitCode == 0, $"{Path.GetFileName(tool)} {string.Join(' ', args)} exited {result.ExitCode}:\n{result.Output}\n{result.Error}");
        return result.Output;
    }

    [Fact]
    public async Task The_document_describes_the_public_api_its_keys_and_its_statuses()
    {
        var document = await host.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.All(paths, p => Assert.StartsWith("/api/", p, StringComparison.Ordinal));   // no dashboard, static or health routes
        Assert.Contains("/api/ids/{c1}", paths);
        Assert.Contains("/api/ids/{c1}/{c2}", paths);
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal(("apiKey", "header", "X-Api-Key"), (scheme.GetProperty("type").GetString(), scheme.GetProperty("in").GetString(), scheme.GetProperty("name").GetString()));

        JsonElement Operation(string path, string method) => document.GetProperty("paths").GetProperty(path).GetProperty(method);
        static IEnumerable<string> Statuses(JsonElement operation) => operation.GetProperty("responses").EnumerateObject().Select(r => r.Name);
        var upsert = Operation("/api/items", "put");
        Assert.Equal("ApiKey", upsert.GetProperty("security")[0].EnumerateObject().Single().Name);
        Assert.Superset(new HashSet<string> { "200", "400", "401", "403", "413", "415", "429" }, Statuses(upsert).ToHashSet());
        var events = Operation("/api/events", "post");
        Assert.Equal(0, events.GetProperty("security").GetArrayLength());   // public
        Assert.Superset(new HashSet<string> { "202", "400", "413", "415", "429" }, Statuses(events).ToHashSet());
        Assert.Contains("202", Statuses(Operation("/api/admin/backfills", "post")));
        Assert.DoesNotContain("429", Statuses(Operation("/api/admin/versions", "get")));   // the admin API is not rate-limited
        Assert.Contains("404", Statuses(Operation("/api/items/{itemId}", "get")));
        Assert.All(document.GetProperty("paths").EnumerateObject().SelectMany(p => p.Value.EnumerateObject()),
            op => Assert.True(op.Value.TryGetProperty("operationId", out _), $"{op.Name} has no operationId"));

        // Request shapes as lenient as the server: one object or an array, only the fields it needs required,
        // numbers as numbers, event types as an enum.
        var body = events.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.Equal(["object-ref", "array"], body.GetProperty("oneOf").EnumerateArray().Select(s => s.TryGetProperty("$ref", out _) ? "object-ref" : s.GetProperty("type").GetString()));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal(["userId", "itemId"], schemas.GetProperty("EventDto").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["view", "cart", "purchase", "click"], schemas.GetProperty("EventDto").GetProperty("properties").GetProperty("type").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["itemId"], schemas.GetProperty("ItemDto").GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.DoesNotContain("string", schemas.GetProperty("ItemDto").GetProperty("properties").GetProperty("price").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("string", schemas.GetProperty("EventType").GetProperty("type").GetString());
    }
}
