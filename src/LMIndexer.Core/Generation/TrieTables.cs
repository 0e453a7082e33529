using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>
/// The trie as dense per-depth child tables on a device, so that a batch of beams gets its
/// allowed-token mask and next nodes in one gather. Depth d holds
/// <c>[nodes at depth d, token width at depth d]</c> → child node (−1 where no edge exists); the
/// width is the span of tokens used at that depth, i.e. one ID position's codebook.
/// </summary>
public sealed class TrieTables : IDisposable
{
    private readonly Tensor[] children;
    private readonly int[] itemTokens;

    public TrieTables(IdTrie trie, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(trie);
        Trie = trie;
        itemTokens = trie.ItemTokens();
        children = new Tensor[trie.Length];
        FirstToken = new int[trie.Length];
        Width = new int[trie.Length];
        for (var depth = 0; depth < trie.Length; depth++)
        {
            var (first, width) = trie.TokenRange(depth);
            FirstToken[depth] = first;
            Width[depth] = width;
            var start = trie.DepthStart[depth];
            var count = trie.DepthStart[depth + 1] - start;
            // Node numbers fit 32 bits; half the bytes of int64 cells at a million items.
            var table = new int[(long)count * width];
            Array.Fill(table, -1);
            for (var node = start; node < start + count; node++)
            {
                for (var e = trie.Offsets[node]; e < trie.Offsets[node + 1]; e++)
                    table[(long)(node - start) * width + trie.Tokens[e] - first] = trie.Children[e];
            }
            children[depth] = torch.tensor(table, [count, width], device: device).DetachFromDisposeScope();
        }
    }

    public IdTrie Trie { get; }

    /// <summary>An item's ID tokens (<see cref="IdTrie.ItemTokens"/>), for scoring chosen items. // [length]</summary>
    public ReadOnlySpan<int> TokensOf(int item) => itemTokens.AsSpan(item * Trie.Length, Trie.Length);

    /// <summary>First vocabulary id of the tokens allowed at each depth.</summary>
    public int[] FirstToken { get; }

    /// <summary>Number of vocabulary ids spanned at each depth.</summary>
    public int[] Width { get; }

    /// <summary>
    /// Next nodes of <paramref name="nodes"/> (global node ids, all at <paramref name="depth"/>) for
    /// every token of the depth's span; −1 marks a disallowed token. // [beams, width]
    /// </summary>
    public Tensor NextNodes(int depth, Tensor nodes) =>
        children[depth].index_select(0, nodes.Minus(Trie.DepthStart[depth])).to(ScalarType.Int64);

    /// <summary>Bytes the next-node tables take in native memory (outside the managed heap).</summary>
    public long NativeBytes => children.Sum(t => t.NumberOfElements * t.ElementSize);

    public void Dispose()
    {
        foreach (var t in children)
            t.Dispose();
    }
}
