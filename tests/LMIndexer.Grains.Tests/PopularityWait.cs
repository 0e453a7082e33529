using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Tests;

/// <summary>
/// Users hand their counts to the popularity grain one-way, so that ingestion does not wait on it:
/// an event is counted soon after its receipt, not before. Tests that need the counts wait here.
/// </summary>
internal static class PopularityWait
{
    /// <summary>Polls (bounded: five seconds) until every one of <paramref name="itemIds"/> has a popularity score.</summary>
    public static async Task ForAsync(IGrainFactory grains, params string[] itemIds)
    {
        var popularity = grains.GetGrain<IPopularityGrain>(0);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var counted = (await popularity.TopAsync(1000)).Select(p => p.ItemId).ToHashSet(StringComparer.Ordinal);
            if (itemIds.All(counted.Contains))
                return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Popularity did not count {string.Join(", ", itemIds)} within five seconds.");
    }
}
