using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Generation;

/// <summary>
/// The trie of valid ID token sequences as flat arrays (CSR): node → its outgoing edges
/// <c>[Offsets[node], Offsets[node + 1])</c> → (token, child). Nodes are numbered level by level,
/// so the nodes of one depth are contiguous; leaves (depth = ID length) name the item they end in.
/// All IDs have the same length, which is what lets beam search run one depth per step.
/// </summary>
public sealed class IdTrie
{
    private const int FormatVersion = 1;
    private static readonly byte[] Magic = "LMITRIE\0"u8.ToArray();

    private IdTrie(int length, int itemCount, int[] offsets, int[] tokens, int[] children, int[] depthStart, int[] leafItem)
    {
        Length = length;
        ItemCount = itemCount;
        Offsets = offsets;
        Tokens = tokens;
        Children = children;
        DepthStart = depthStart;
        LeafItem = leafItem;
    }

    /// <summary>Tokens per ID.</summary>
    public int Length { get; }

    public int ItemCount { get; }

    /// <summary>[nodes + 1] edge ranges.</summary>
    public int[] Offsets { get; }

    /// <summary>[edges] the token each edge consumes.</summary>
    public int[] Tokens { get; }

    /// <summary>[edges] the node each edge leads to.</summary>
    public int[] Children { get; }

    /// <summary>[Length + 2] first node of each depth (root = depth 0); the last entry is the node count.</summary>
    public int[] DepthStart { get; }

    /// <summary>[nodes] the item a leaf ends in, −1 for inner nodes.</summary>
    public int[] LeafItem { get; }

    public int NodeCount => Offsets.Length - 1;

    public const int Root = 0;

    /// <summary>Builds the trie over token sequences (one per item, all of one length, all distinct).</summary>
    public static IdTrie Build(IReadOnlyList<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0)
            throw new ArgumentException("A trie needs at least one ID.", nameof(sequences));
        var length = sequences[0].Length;
        if (length == 0 || sequences.Any(s => s.Length != length))
            throw new ArgumentException("Every ID must have the same, non-zero number of tokens.", nameof(sequences));
        var order = Enumerable.Range(0, sequences.Count).ToArray();
        Array.Sort(order, (a, b) => sequences[a].AsSpan().SequenceCompareTo(sequences[b]));
        for (var i = 1; i < order.Length; i++)
        {
            if (sequences[order[i - 1]].AsSpan().SequenceEqual(sequences[order[i]]))
                throw new ArgumentException($"Items {order[i - 1]} and {order[i]} have the same ID [{string.Join(' ', sequences[order[i]])}].", nameof(sequences));
        }

        // Level by level over the sorted IDs: items sharing a prefix are contiguous, so a new child
        // starts wherever (parent, token) changes, and parents are visited in node order.
        var nodeOf = new int[sequences.Count];           // the depth-d node of each sorted item
        var depthStart = new List<int> { 0, 1 };
        var edgeParents = new List<int>();
        var tokens = new List<int>();
        var children = new List<int>();
        var nodeCount = 1;
        for (var depth = 0; depth < length; depth++)
        {
            int previousParent = -1, previousToken = -1, current = -1;
            for (var i = 0; i < order.Length; i++)
            {
                var parent = nodeOf[i];
                var token = sequences[order[i]][depth];
                if (parent != previousParent || token != previousToken)
                {
                    current = nodeCount++;
                    edgeParents.Add(parent);
                    tokens.Add(token);
                    children.Add(current);
                    previousParent = parent;
                    previousToken = token;
                }
                nodeOf[i] = current;
            }
            depthStart.Add(nodeCount);
        }
        var offsets = new int[nodeCount + 1];
        foreach (var parent in edgeParents)
            offsets[parent + 1]++;
        for (var n = 0; n < nodeCount; n++)
            offsets[n + 1] += offsets[n];
        var leafItem = new int[nodeCount];
        Array.Fill(leafItem, -1);
        for (var i = 0; i < order.Length; i++)
            leafItem[nodeOf[i]] = order[i];
        return new IdTrie(length, sequences.Count, offsets, [.. tokens], [.. children], [.. depthStart], leafItem);
    }

    /// <summary>
    /// Every item's token sequence, by item (the sequences <see cref="Build"/> was given), read back
    /// from the edges, laid end to end: item i's tokens are [i·Length, (i + 1)·Length). One flat
    /// array, not an array per item: at a million items the per-array headers alone cost 32 MB.
    /// </summary>
    public int[] ItemTokens()
    {
        var result = new int[(long)ItemCount * Length];
        var path = new int[Length];
        void Walk(int node, int depth)
        {
            if (depth == Length)
            {
                path.CopyTo(result, (long)LeafItem[node] * Length);
                return;
            }
            for (var e = Offsets[node]; e < Offsets[node + 1]; e++)
            {
                path[depth] = Tokens[e];
                Walk(Children[e], depth + 1);
            }
        }
        Walk(Root, 0);
        return result;
    }

    /// <summary>The trie of a table's IDs as the tokenizer's ID tokens (position p → <c>&lt;id_p_k&gt;</c>).</summary>
    public static IdTrie FromTable(SemanticIdTable table, CatalogTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(tokenizer);
        return Build([.. table.Ids.Select(id => IdTokens(id, tokenizer))]);
    }

    /// <summary>An ID's tokens.</summary>
    public static int[] IdTokens(IReadOnlyList<long> id, CatalogTokenizer tokenizer)
    {
        var tokens = new int[id.Count];
        for (var p = 0; p < id.Count; p++)
            tokens[p] = tokenizer.IdToken(p, checked((int)id[p]));
        return tokens;
    }

    /// <summary>The child reached from <paramref name="node"/> by <paramref name="token"/>, or −1.</summary>
    public int Child(int node, int token)
    {
        var lo = Offsets[node];
        var hi = Offsets[node + 1] - 1;
        while (lo <= hi)   // edges of a node are sorted by token
        {
            var mid = (lo + hi) >>> 1;
            var t = Tokens[mid];
            if (t == token)
                return Children[mid];
            if (t < token)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return -1;
    }

    /// <summary>The tokens allowed after <paramref name="node"/>.</summary>
    public ReadOnlySpan<int> AllowedTokens(int node) => Tokens.AsSpan(Offsets[node], Offsets[node + 1] - Offsets[node]);

    /// <summary>The item a full ID names, or −1 when it is not in the trie.</summary>
    public int Find(ReadOnlySpan<int> tokens)
    {
        if (tokens.Length != Length)
            return -1;
        var node = Root;
        foreach (var token in tokens)
        {
            node = Child(node, token);
            if (node < 0)
                return -1;
        }
        return LeafItem[node];
    }

    /// <summary>Smallest token and token span (max − min + 1) used at each depth.</summary>
    public (int First, int Width) TokenRange(int depth)
    {
        int first = int.MaxValue, last = int.MinValue;
        for (var e = Offsets[DepthStart[depth]]; e < Offsets[DepthStart[depth + 1]]; e++)
        {
            first = Math.Min(first, Tokens[e]);
            last = Math.Max(last, Tokens[e]);
        }
        return (first, last - first + 1);
    }

    public void Save(string path)
    {
        var temp = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(Length);
            writer.Write(ItemCount);
            WriteArray(writer, Offsets);
            WriteArray(writer, Tokens);
            WriteArray(writer, Children);
            WriteArray(writer, DepthStart);
            WriteArray(writer, LeafItem);
        }
        File.Move(temp, path, overwrite: true);
    }

    public static IdTrie Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            throw new InvalidDataException($"{path} is not an ID trie file.");
        var version = reader.ReadInt32();
        if (version != FormatVersion)
            throw new InvalidDataException($"{path}: unsupported trie format {version}, expected {FormatVersion}.");
        var length = reader.ReadInt32();
        var itemCount = reader.ReadInt32();
        var trie = new IdTrie(length, itemCount, ReadArray(reader), ReadArray(reader), ReadArray(reader), ReadArray(reader), ReadArray(reader));
        if (trie.DepthStart.Length != length + 2 || trie.Tokens.Length != trie.Children.Length || trie.LeafItem.Length != trie.NodeCount)
            throw new InvalidDataException($"{path}: inconsistent trie arrays.");
        return trie;
    }

    private static void WriteArray(BinaryWriter writer, int[] values)
    {
        writer.Write(values.Length);
        foreach (var v in values)
            writer.Write(v);
    }

    private static int[] ReadArray(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count < 0 || count > reader.BaseStream.Length / sizeof(int))
            throw new InvalidDataException("Corrupt trie file: bad array length.");
        var values = new int[count];
        for (var i = 0; i < count; i++)
            values[i] = reader.ReadInt32();
        return values;
    }
}
