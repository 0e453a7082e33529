using LMIndexer.Silo.Hosting.Options;
using LMIndexer.Abstractions;
using LMIndexer.Core.Data;
using LMIndexer.Grains.Items;
using LMIndexer.Grains.Versions;
using Microsoft.Extensions.Options;

namespace LMIndexer.Silo.Hosting;

/// <summary>
/// At start-up, loads the configured catalog into the item grains and publishes and activates the
/// configured serving bundle, so that one command brings up a host that answers.
/// </summary>
public sealed class ServingBootstrap(IGrainFactory grains, IOptions<ServingOptions> settings, ILogger<ServingBootstrap> logger) : BackgroundService
{
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the catalog and bundle are served (or nothing was configured).</summary>
    public Task Ready => ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var serving = settings.Value;
            if (!string.IsNullOrWhiteSpace(serving.CatalogPath))
            {
                var items = CatalogFiles.ReadItems(Path.Combine(serving.CatalogPath, CatalogFiles.ItemsFile));
                foreach (var chunk in items.Chunk(512))
                {
                    stoppingToken.ThrowIfCancellationRequested();
                    await Task.WhenAll(chunk.Select(i => grains.GetGrain<IItemGrain>(i.ItemId).UpsertAsync(i.ToRecord())));
                }
                logger.LogInformation("Loaded {Count} catalog items from {Path}", items.Count, serving.CatalogPath);
            }
            foreach (var path in new[] { serving.BundlePath, serving.SearchBundlePath }.Where(p => !string.IsNullOrWhiteSpace(p)))
            {
                var info = await IndexPublisher.PublishAsync(grains, path, cancellationToken: stoppingToken);
                await grains.GetGrain<IIndexVersionGrain>(0).ActivateAsync(info.Version);
                logger.LogInformation("Serving {Task} version {Version} ({Items} items) from {Path}", info.Task, info.Version, info.Items, info.BundlePath);
            }
            ready.TrySetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            ready.TrySetCanceled(stoppingToken);
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "Could not load the configured catalog or serving bundle");
            ready.TrySetException(e);
            throw;
        }
    }
}
