using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Items;

/// <summary>Generated IDs → item ids through the prefix grains of the version that generated them.</summary>
public static class IdResolution
{
    /// <summary>One call per first code; item ids in the order of <paramref name="generated"/>, null where unknown.</summary>
    public static async Task<string?[]> ResolveAsync(IGrainFactory grains, GenerationResult generated)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(generated);
        var resolved = new string?[generated.Ids.Count];
        var groups = generated.Ids.Select((id, i) => (id.Codes, Index: i)).GroupBy(x => x.Codes[0]);
        await Task.WhenAll(groups.Select(async group =>
        {
            var members = group.ToList();
            var items = await grains.GetGrain<IIdPrefixGrain>($"{generated.Version}/{group.Key}").ResolveAsync([.. members.Select(m => m.Codes)]);
            for (var j = 0; j < members.Count; j++)
                resolved[members[j].Index] = items[j];
        }));
        return resolved;
    }
}
