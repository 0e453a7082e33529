using LMIndexer.Testing;

namespace LMIndexer.Cli.Tests;

/// <summary><c>lmindexer serve</c> on the test bundle, as a child process on a free loopback port.</summary>
internal static class ServeProcess
{
    public static ToolProcess.Running Start(string workingDirectory, Dictionary<string, string> environment, out string address)
    {
        var port = TestEnvironment.FreePort();
        address = $"http://127.0.0.1:{port}";
        return ToolProcess.Start(CliProcess.Tool, workingDirectory, environment,
            "serve", "--bundle", TestServingBundle.Directory, "--catalog", TestServingBundle.CatalogDirectory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    public static async Task<HttpClient> WaitUntilHealthyAsync(ToolProcess.Running serve, string address)
    {
        var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            Assert.False(serve.HasExited, $"serve exited before it served:\n{serve.Output}");
            try
            {
                // Degraded (still loading the catalog and bundle) answers 200 too; wait for Healthy.
                if (await http.GetStringAsync("/health") == "Healthy")
                    return http;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            Assert.True(DateTime.UtcNow < deadline, $"serve was not healthy within two minutes:\n{serve.Output}");
            await Task.Delay(250);
        }
    }
}
