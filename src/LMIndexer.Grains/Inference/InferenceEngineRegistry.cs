using System.Collections.Concurrent;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Inference;

/// <summary>
/// The engines of one silo, one per version: replicas of a version on the same silo share the
/// loaded model, and a bundle is loaded once however many activations ask for it.
/// </summary>
public sealed class InferenceEngineRegistry(IOptions<InferenceOptions> options, ILoggerFactory loggers) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<InferenceEngine>> engines = new(StringComparer.Ordinal);

    public InferenceEngine Get(string version, string bundlePath)
    {
        var entry = engines.GetOrAdd(version, _ => new Lazy<InferenceEngine>(() => Load(version, bundlePath)));
        try
        {
            return entry.Value;
        }
        catch
        {
            engines.TryRemove(new KeyValuePair<string, Lazy<InferenceEngine>>(version, entry));   // a failed load is retried next time
            throw;
        }
    }

    private InferenceEngine Load(string version, string bundlePath)
    {
        TorchRuntime.EnsureInitialized();
        var bundle = ServingBundle.Load(bundlePath, TorchRuntime.Device);
        if (bundle.Version != version)
        {
            var found = bundle.Version;
            bundle.Dispose();
            throw new InvalidOperationException($"{bundlePath} holds version '{found}', not '{version}'.");
        }
        return new InferenceEngine(bundle, options.Value, loggers.CreateLogger<InferenceEngine>());
    }

    /// <summary>Unloads a version (rollback retention, cleanup).</summary>
    public void Unload(string version)
    {
        if (engines.TryRemove(version, out var engine) && engine.IsValueCreated)
            engine.Value.Dispose();
    }

    public void Dispose()
    {
        foreach (var engine in engines.Values.Where(e => e.IsValueCreated))
            engine.Value.Dispose();
        engines.Clear();
    }
}
