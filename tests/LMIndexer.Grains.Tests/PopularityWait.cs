using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Tests;

/// <summary>
/// Users hand their counts to their silo's popularity counter one-way, which merges them into the
/// popularity grain every half second, and silos answer from a copy of the ranking at most
/// <see cref="Popularity.PopularityCounterGrain.TopFreshFor"/> old: an event is counted soon after
/// its receipt, not before. Tests that need the counts wait here.
/// </summary>
internal static class PopularityWait
{
    /// <summary>Polls (bounded: five seconds) until every one of <paramref name="itemIds"/> has a popularity score, and every silo's copy shows it.</summary>
    public static async Task ForAsync(IGrainFactory grains, params string[] itemIds)
    {
        var popularity = grains.GetGrain<IPopularityGrain>(0);
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var counted = (await popularity.TopAsync(1000)).Select(p => p.ItemId).ToHashSet(StringComparer.Ordinal);
            if (itemIds.All(counted.Contains))
            {
                // Every silo's copy of the ranking is now refreshed after it reads the merged counts.
                await Task.Delay(Popularity.PopularityCounterGrain.TopFreshFor + TimeSpan.FromMilliseconds(100));
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Popularity did not count {string.Join(", ", itemIds)} within five seconds.");
    }
}
