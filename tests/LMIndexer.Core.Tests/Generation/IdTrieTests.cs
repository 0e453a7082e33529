using LMIndexer.Core.Generation;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Generation;

public sealed class IdTrieTests
{
    private static List<int[]> RandomIds(int count, int seed, int[] widths, int[] offsets)
    {
        var random = new Random(seed);
        var ids = new HashSet<string>();
        var result = new List<int[]>();
        while (result.Count < count)
        {
            var id = widths.Select((w, p) => offsets[p] + random.Next(w)).ToArray();
            if (ids.Add(string.Join(',', id)))
                result.Add(id);
        }
        return result;
    }

    [Fact]
    public void Every_id_resolves_to_its_item_and_nothing_else_does()
    {
        var ids = RandomIds(300, seed: 1, widths: [8, 8, 6], offsets: [10, 20, 30]);
        var trie = IdTrie.Build(ids);
        for (var i = 0; i < ids.Count; i++)
            Assert.Equal(i, trie.Find(ids[i]));
        Assert.Equal(ids, trie.ItemTokens().Chunk(trie.Length));   // read back from the edges, by item, end to end
        Assert.Equal(-1, trie.Find([10, 20, 99]));
        Assert.Equal(-1, trie.Find([10, 20]));
        Assert.Equal(ids.Count, trie.LeafItem.Count(i => i >= 0));
        // CSR invariants: edges of a node sorted and pointing one depth down.
        for (var depth = 0; depth < trie.Length; depth++)
        {
            for (var node = trie.DepthStart[depth]; node < trie.DepthStart[depth + 1]; node++)
            {
                var allowed = trie.AllowedTokens(node).ToArray();
                Assert.Equal(allowed.Order().ToArray(), allowed);
                foreach (var token in allowed)
                {
                    var child = trie.Child(node, token);
                    Assert.InRange(child, trie.DepthStart[depth + 1], trie.DepthStart[depth + 2] - 1);
                }
            }
        }
    }

    [Fact]
    public void Saved_trie_loads_identically()
    {
        using var directory = new TempDirectory();
        var trie = IdTrie.Build(RandomIds(50, seed: 2, widths: [4, 4, 4], offsets: [5, 9, 13]));
        trie.Save(directory.File("trie.bin"));
        var loaded = IdTrie.Load(directory.File("trie.bin"));
        Assert.Equal(trie.Offsets, loaded.Offsets);
        Assert.Equal(trie.Tokens, loaded.Tokens);
        Assert.Equal(trie.Children, loaded.Children);
        Assert.Equal(trie.LeafItem, loaded.LeafItem);
        Assert.Equal(trie.DepthStart, loaded.DepthStart);
        File.WriteAllText(directory.File("bad.bin"), "not a trie");
        Assert.Throws<InvalidDataException>(() => IdTrie.Load(directory.File("bad.bin")));
    }

    [Fact]
    public void Duplicate_or_ragged_ids_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => IdTrie.Build([[1, 2], [1, 2]]));
        Assert.Throws<ArgumentException>(() => IdTrie.Build([[1, 2], [1, 2, 3]]));
        Assert.Throws<ArgumentException>(() => IdTrie.Build([]));
    }

    [Fact]
    public void Tables_mask_exactly_the_trie_edges_for_a_batch_of_nodes()
    {
        var ids = RandomIds(40, seed: 3, widths: [5, 5, 3], offsets: [10, 15, 20]);
        var trie = IdTrie.Build(ids);
        using var tables = new TrieTables(trie);
        using var scope = NewDisposeScope();
        var depth = 1;
        var nodes = Enumerable.Range(trie.DepthStart[depth], trie.DepthStart[depth + 1] - trie.DepthStart[depth]).Select(n => (long)n).ToArray();
        var next = tables.NextNodes(depth, torch.tensor(nodes));   // [nodes, width]
        for (var i = 0; i < nodes.Length; i++)
        {
            for (var w = 0; w < tables.Width[depth]; w++)
            {
                var token = tables.FirstToken[depth] + w;
                Assert.Equal(trie.Child((int)nodes[i], token), (int)next[i, w].item<long>());
            }
        }
        // One 4-byte cell per node and token of its depth's span: what a silo holds per version.
        var cells = Enumerable.Range(0, trie.Length).Sum(d => (long)(trie.DepthStart[d + 1] - trie.DepthStart[d]) * tables.Width[d]);
        Assert.Equal(cells * sizeof(int), tables.NativeBytes);
    }

    /// <summary>A learned table's shape: 36 two-code prefixes, one crowded (300 items numbered by the counter), the rest with two items.</summary>
    internal static List<int[]> CrowdedIds()
    {
        var ids = new List<int[]>();
        for (var a = 0; a < 6; a++)
        {
            for (var b = 0; b < 6; b++)
            {
                var group = a == 2 && b == 3 ? 300 : 2;
                for (var counter = 0; counter < group; counter++)
                    ids.Add([10 + a, 20 + b, 30 + counter]);
            }
        }
        return ids;
    }

    [Fact]
    public void A_crowded_counter_depth_is_kept_sparse_and_gives_the_dense_tables_next_nodes()
    {
        var trie = IdTrie.Build(CrowdedIds());
        using var dense = new TrieTables(trie, null, long.MaxValue);
        using var sparse = new TrieTables(trie, null, 0);
        using var defaults = new TrieTables(trie);
        using var scope = NewDisposeScope();

        Assert.Equal([false, false, true], Enumerable.Range(0, trie.Length).Select(sparse.IsSparse));
        Assert.All(Enumerable.Range(0, trie.Length), d => Assert.False(dense.IsSparse(d) || defaults.IsSparse(d)));   // small tables stay dense by default
        var random = new Random(5);
        for (var depth = 0; depth < trie.Length; depth++)
        {
            var all = Enumerable.Range(trie.DepthStart[depth], trie.DepthStart[depth + 1] - trie.DepthStart[depth]).Select(n => (long)n).ToList();
            // Every node of the depth, then beams as a search has them: shuffled, several on one node.
            foreach (var batch in new[] { all, [.. all.OrderBy(_ => random.Next()).Concat(all.Take(3)).Concat(all.Take(1))] })
            {
                var nodes = torch.tensor(batch.ToArray());
                var expected = dense.NextNodes(depth, nodes);
                var actual = sparse.NextNodes(depth, nodes);
                Assert.Equal(expected.shape, actual.shape);
                Assert.Equal(expected.data<long>().ToArray(), actual.data<long>().ToArray());
            }
        }
        // The counter depth keeps its edges alone: a start per node and a token and child per item.
        var counterNodes = trie.DepthStart[3] - trie.DepthStart[2];
        var denseCounter = (long)counterNodes * dense.Width[2] * sizeof(int);
        var sparseCounter = (counterNodes + 1L) * sizeof(long) + 2L * trie.LeafItem.Count(i => i >= 0) * sizeof(int);
        Assert.Equal(dense.NativeBytes - denseCounter + sparseCounter, sparse.NativeBytes);
        Assert.True(sparse.NativeBytes < dense.NativeBytes / 3);
    }
}
