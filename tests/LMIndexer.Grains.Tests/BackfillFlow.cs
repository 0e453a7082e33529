using LMIndexer.Abstractions;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Grains.Tests;

/// <summary>What the backfill tests do and check more than once.</summary>
internal static class BackfillFlow
{
    public static async Task<BackfillProgress> WaitAsync(IGrainFactory grains, string job, TimeSpan limit, Func<BackfillProgress, bool>? until = null)
    {
        until ??= p => p.IsFinished;
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            BackfillProgress? progress = null;
            try
            {
                progress = await grains.GetGrain<IBackfillGrain>(job).GetProgressAsync();
            }
            catch (Exception e) when (e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
            {
                // the silo that had the job is gone; ask again once the cluster has noticed
            }
            if (progress is not null && until(progress))
                return progress;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Backfill {job} did not get there in {limit}: {progress}");
            await Task.Delay(100);
        }
    }

    /// <summary>Every item holds its ID of the version, and the version's prefix grains resolve every ID back to its item.</summary>
    public static async Task AssertFullyWrittenAsync(IGrainFactory grains, string bundle, string version)
    {
        var table = SemanticIdTable.Load(Path.Combine(bundle, SemanticIdTable.FileName));
        for (var i = 0; i < table.Count; i++)
        {
            var details = await grains.GetGrain<IItemGrain>(table.ItemIds[i]).GetDetailsAsync();
            Assert.NotNull(details);
            var id = Assert.Single(details.SemanticIds, s => s.Version == version);
            Assert.Equal(table.Ids[i], id.Codes);
        }
        foreach (var group in Enumerable.Range(0, table.Count).GroupBy(i => table.Ids[i][0]))
        {
            var resolved = await grains.GetGrain<IIdPrefixGrain>($"{version}/{group.Key}").ResolveAsync([.. group.Select(i => table.Ids[i])]);
            Assert.Equal(group.Select(i => table.ItemIds[i]), resolved);
        }
    }
}
