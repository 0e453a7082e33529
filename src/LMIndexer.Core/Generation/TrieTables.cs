using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Generation;

/// <summary>
/// The trie as per-depth child tables on a device, so that a batch of beams gets its allowed-token
/// mask and next nodes in a few tensor operations. A dense depth holds
/// <c>[nodes at depth d, token width at depth d]</c> → child node (−1 where no edge exists); the
/// width is the span of tokens used at that depth, i.e. one ID position's codebook. A depth whose
/// dense table would be large and mostly empty (the collision counter under a crowded learned
/// prefix: every 2-code prefix gets a row as wide as the largest group) keeps its edges alone,
/// sorted by node, and spreads the beams' rows out on each lookup.
/// </summary>
public sealed class TrieTables : IDisposable
{
    /// <summary>
    /// Dense cells (4 bytes each) above which a depth is kept sparse when at most one cell in
    /// <see cref="SparseFill"/> holds an edge: smaller tables stay dense, one gather per step,
    /// as their memory does not matter.
    /// </summary>
    public const long DefaultSparseAboveCells = 1L << 22;

    /// <summary>A depth with more than this many dense cells per edge may be kept sparse.</summary>
    public const int SparseFill = 8;

    private readonly Tensor?[] children;          // dense depths: [nodes, width] int32
    private readonly SparseDepth?[] sparse;       // sparse depths
    private readonly int[] itemTokens;

    public TrieTables(IdTrie trie, Device? device = null) : this(trie, device, DefaultSparseAboveCells)
    {
    }

    /// <param name="sparseAboveCells">Dense cells above which a mostly empty depth is kept sparse (0: every mostly empty depth).</param>
    public TrieTables(IdTrie trie, Device? device, long sparseAboveCells)
    {
        ArgumentNullException.ThrowIfNull(trie);
        Trie = trie;
        itemTokens = trie.ItemTokens();
        children = new Tensor?[trie.Length];
        sparse = new SparseDepth?[trie.Length];
        FirstToken = new int[trie.Length];
        Width = new int[trie.Length];
        for (var depth = 0; depth < trie.Length; depth++)
        {
            var (first, width) = trie.TokenRange(depth);
            FirstToken[depth] = first;
            Width[depth] = width;
            var start = trie.DepthStart[depth];
            var count = trie.DepthStart[depth + 1] - start;
            var edges = trie.Offsets[start + count] - trie.Offsets[start];
            var cells = (long)count * width;
            if (cells > sparseAboveCells && cells > (long)SparseFill * edges)
            {
                sparse[depth] = SparseDepth.Build(trie, start, count, first, device);
                continue;
            }
            // Node numbers fit 32 bits; half the bytes of int64 cells at a million items.
            var table = new int[cells];
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
    public Tensor NextNodes(int depth, Tensor nodes)
    {
        var local = nodes.Minus(Trie.DepthStart[depth]);                                   // [beams]
        return sparse[depth] is { } edges
            ? edges.Rows(local, Width[depth])
            : children[depth]!.index_select(0, local).to(ScalarType.Int64);
    }

    /// <summary>Whether <paramref name="depth"/> keeps its edges alone instead of a dense table.</summary>
    public bool IsSparse(int depth) => sparse[depth] is not null;

    /// <summary>Bytes the next-node tables take in native memory (outside the managed heap).</summary>
    public long NativeBytes => children.Sum(t => t is null ? 0 : t.NumberOfElements * t.ElementSize) + sparse.Sum(s => s?.NativeBytes ?? 0);

    public void Dispose()
    {
        foreach (var t in children)
            t?.Dispose();
        foreach (var s in sparse)
            s?.Dispose();
    }

    /// <summary>One depth's edges, sorted by node: where each node's edges start, their tokens and children.</summary>
    private sealed class SparseDepth(Tensor starts, Tensor tokens, Tensor childNodes) : IDisposable
    {
        public static SparseDepth Build(IdTrie trie, int start, int count, int firstToken, Device? device)
        {
            var firstEdge = trie.Offsets[start];
            var edges = trie.Offsets[start + count] - firstEdge;
            var starts = new long[count + 1];
            for (var node = 0; node <= count; node++)
                starts[node] = trie.Offsets[start + node] - firstEdge;
            var tokens = new int[edges];
            var childNodes = new int[edges];
            for (var e = 0; e < edges; e++)
            {
                tokens[e] = trie.Tokens[firstEdge + e] - firstToken;
                childNodes[e] = trie.Children[firstEdge + e];
            }
            return new SparseDepth(
                torch.tensor(starts, device: device).DetachFromDisposeScope(),
                torch.tensor(tokens, device: device).DetachFromDisposeScope(),
                torch.tensor(childNodes, device: device).DetachFromDisposeScope());
        }

        public long NativeBytes => new[] { starts, tokens, childNodes }.Sum(t => t.NumberOfElements * t.ElementSize);

        /// <summary>Dense next-node rows of the nodes <paramref name="local"/> (depth-local numbers). // [beams, width]</summary>
        public Tensor Rows(Tensor local, int width)
        {
            var first = starts.index_select(0, local);                                        // [beams]
            var counts = starts.index_select(0, local.Plus(1)).sub(first);                    // [beams]
            var beams = local.shape[0];
            var rows = TensorArithmetic.Full(beams, width, -1, ScalarType.Int64, local.device);
            var total = counts.sum().item<long>();
            if (total == 0)
                return rows;
            // Edge e of beam b is number (e − the beam's first output position) in the beam's run.
            var beam = TensorArithmetic.Range(beams, local.device).repeat_interleave(counts, output_size: total);   // [edges]
            var outputStart = counts.cumsum(0).sub(counts);                                  // [beams]
            var within = TensorArithmetic.Range(total, local.device).sub(outputStart.index_select(0, beam));       // [edges]
            var edge = first.index_select(0, beam).Plus(within);                             // [edges]
            var column = tokens.index_select(0, edge).to(ScalarType.Int64);                  // [edges]
            return rows.index_put_(childNodes.index_select(0, edge).to(ScalarType.Int64), beam, column);
        }

        public void Dispose()
        {
            starts.Dispose();
            tokens.Dispose();
            childNodes.Dispose();
        }
    }
}
