namespace LMIndexer.Core.Generation;

/// <summary>
/// How hybrid ranking scores the ID of an item added after training that has a vector from its
/// text (<see cref="ItemRanker"/>). The network never saw such an item's collision counter after its
/// codes, so the counter's log-probability says nothing about the item.
/// </summary>
public enum NewItemSequence
{
    /// <summary>The full ID's sequence log-probability, as for every other item.</summary>
    FullId,

    /// <summary>
    /// The log-probability of the ID's codes (every token but the counter), with the counter taken
    /// as uniform among the items that share those codes: the new item ranks as an average sibling.
    /// </summary>
    Prefix,
}
