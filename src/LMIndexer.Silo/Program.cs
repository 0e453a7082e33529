using LMIndexer.Silo.Api;
using LMIndexer.Silo.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddLMIndexerSilo();
var app = builder.Build();
app.MapLMIndexer();
await app.RunAsync();

/// <summary>The host's entry point (referenced by the end-to-end tests).</summary>
public partial class Program;
