using System.Text.Json;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Bench.Scale;

/// <summary>What a version's serving structures hold for a large ID table, and what writing it into prefix grains costs.</summary>
public sealed record PrefixGrainFigures(int Grains, int LargestItems, long LargestStateBytes, long BackfillBytesWritten, long IdealBytes);

public static class ServingStructures
{
    /// <summary>
    /// Codes drawn uniformly (c1, c2 of <paramref name="codebook"/> each) with the collision counter
    /// of the reference: the shape of a well-balanced learned table, for items no trained indexer
    /// has seen. Deterministic for a seed.
    /// </summary>
    public static SemanticIdTable UniformIds(IReadOnlyList<string> itemIds, int codebook, int seed)
    {
        var random = new Random(seed);
        var learned = new long[itemIds.Count][];
        for (var i = 0; i < learned.Length; i++)
            learned[i] = [random.Next(codebook), random.Next(codebook)];
        return SemanticIdTable.WithCounters(itemIds, learned);
    }

    /// <summary>
    /// <paramref name="table"/>'s IDs for <paramref name="itemIds"/> (every one in it), in that order, in
    /// arrays and an index of their own: the layout <see cref="UniformIds"/> builds, for measuring.
    /// </summary>
    public static SemanticIdTable CopyInOrder(SemanticIdTable table, IReadOnlyList<string> itemIds) =>
        new(itemIds, [.. itemIds.Select(id => table.IndexOf(id) is var row and >= 0 ? table.Ids[row].ToArray() : throw new ArgumentException($"Item '{id}' has no ID in the table."))]);

    /// <summary>
    /// The trie of the table's IDs. Its token lists are built and dropped in here, so a caller
    /// measuring the heap afterwards sees the trie alone (a debug build keeps a caller's temporaries
    /// alive to the end of its method).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    public static IdTrie BuildTrie(SemanticIdTable table, int codebook) => IdTrie.Build(Tokens(table, codebook));

    /// <summary>ID tokens as a serving tokenizer lays them out: each position's codes in a range of their own.</summary>
    public static List<int[]> Tokens(SemanticIdTable table, int codebook)
    {
        var offsets = new[] { 4, 4 + codebook, 4 + (2 * codebook) };
        return [.. table.Ids.Select(id => new[] { offsets[0] + (int)id[0], offsets[1] + (int)id[1], offsets[2] + (int)id[2] })];
    }

    /// <summary>
    /// The version's prefix grains (one per first code, each holding every ID below it) and the
    /// bytes a backfill writes into them: every batch rewrites the whole state of each prefix grain
    /// it touches, as <c>IdPrefixGrain.AddAsync</c> does, against writing each entry once.
    /// </summary>
    public static PrefixGrainFigures PrefixGrains(SemanticIdTable table, int batchSize)
    {
        var entryBytes = new Dictionary<long, long>();
        var entries = new Dictionary<long, int>();
        long written = 0, ideal = 0;
        for (var start = 0; start < table.Count; start += batchSize)
        {
            var touched = new HashSet<long>();
            for (var i = start; i < Math.Min(table.Count, start + batchSize); i++)
            {
                var first = table.Ids[i][0];
                var bytes = EntryBytes(table.Ids[i], table.ItemIds[i]);
                entryBytes[first] = entryBytes.GetValueOrDefault(first) + bytes;
                entries[first] = entries.GetValueOrDefault(first) + 1;
                ideal += bytes;
                touched.Add(first);
            }
            foreach (var first in touched)
                written += entryBytes[first] + 2;
        }
        var largest = entries.MaxBy(e => e.Value);
        return new PrefixGrainFigures(entries.Count, largest.Value, entryBytes[largest.Key] + 2, written, ideal);
    }

    /// <summary>One entry of a prefix grain's dictionary as JSON: <c>"c2-counter":"item",</c>.</summary>
    private static long EntryBytes(long[] id, string itemId) =>
        JsonSerializer.Serialize(string.Join('-', id.Skip(1))).Length + JsonSerializer.Serialize(itemId).Length + 2;
}
