using LMIndexer.Core.Text;

namespace LMIndexer.Core.Downstream;

/// <summary>
/// Training-time augmentation of ID-token histories: every history item but the newest is left out
/// of the source with a fixed probability, drawn afresh each time the example is batched, so that a
/// window seen many times cannot be memorised as one pattern. The newest item is always kept because
/// it carries most of the next-item signal (docs/decisions/004-source-dropouts.md). Validation and test sources are never augmented.
/// </summary>
public sealed class HistoryItemDropout
{
    private readonly double probability;
    private readonly Func<int, bool> isItemStart;

    /// <param name="probability">Chance that each older item is left out, in [0, 1).</param>
    /// <param name="isItemStart">Whether a source token opens a history item (an ID's first-position token).</param>
    public HistoryItemDropout(double probability, Func<int, bool> isItemStart)
    {
        ArgumentNullException.ThrowIfNull(isItemStart);
        if (probability is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "History dropout must be in [0, 1).");
        this.probability = probability;
        this.isItemStart = isItemStart;
    }

    /// <summary>
    /// <paramref name="source"/> with some older items removed: items newest first, each opening with
    /// an item-start token, then <c>&lt;/s&gt;</c>. Returns the same array when nothing is removed.
    /// </summary>
    public int[] Apply(int[] source, Random random)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(random);
        List<int>? kept = null;
        var keeping = true;
        var items = 0;
        for (var i = 0; i < source.Length; i++)
        {
            var token = source[i];
            if (token == CatalogTokenizer.EosId)
                keeping = true;
            else if (isItemStart(token))
                keeping = items++ == 0 || random.NextDouble() >= probability;
            if (!keeping && kept is null)
                kept = [.. source.AsSpan(0, i)];
            if (keeping)
                kept?.Add(token);
        }
        return kept is null ? source : [.. kept];
    }
}
