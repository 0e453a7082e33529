using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using LMIndexer.Core.Retrieval;

namespace LMIndexer.Grains.Search;

/// <summary>
/// A search shard's approximate index kept on disk with the item each of its entries stands for,
/// under a name made from the vectors it holds (item ids and values, in id order). An activation
/// that has the same vectors reads it back instead of building the graph again. Each save goes to
/// a folder of its own, renamed into place whole, so a graph is never read with another's entries;
/// only the newest is kept.
/// </summary>
public sealed class KeptShardIndex
{
    private const string GraphFile = "graph.usearch";
    private const string EntriesFile = "entries.json";

    public KeptShardIndex(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The name of a shard's vectors, given in item id order.</summary>
    public static string NameOf(IEnumerable<KeyValuePair<string, float[]>> ordered)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (itemId, vector) in ordered)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(itemId));
            hash.AppendData([0]);
            hash.AppendData(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        return "hnsw-" + Convert.ToHexStringLower(hash.GetHashAndReset())[..24];
    }

    /// <summary>
    /// The index kept under <paramref name="name"/> with its entries (entry → item id, null where an
    /// item's older vector was replaced), or null when there is none; a kept index that cannot be
    /// read, or whose entries are not exactly <paramref name="liveIds"/>, is reported in
    /// <paramref name="problem"/> and not used.
    /// </summary>
    public (ApproximateVectorIndex Index, List<string?> EntryItems)? TryLoad(string name, int width, IReadOnlySet<string> liveIds, out string? problem)
    {
        problem = null;
        var folder = Path.Combine(Directory, name);
        if (!System.IO.Directory.Exists(folder))
            return null;
        ApproximateVectorIndex? index = null;
        try
        {
            var entries = JsonSerializer.Deserialize<List<string?>>(File.ReadAllText(Path.Combine(folder, EntriesFile)))
                ?? throw new InvalidDataException("no entries");
            var named = entries.OfType<string>().ToList();
            if (named.Count != liveIds.Count || !named.All(liveIds.Contains))
                throw new InvalidDataException($"its {named.Count} entries are not the shard's {liveIds.Count} items");
            index = ApproximateVectorIndex.Load(Path.Combine(folder, GraphFile), width);
            return (index, entries);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException or InvalidOperationException)
        {
            index?.Dispose();
            problem = $"the kept index {folder} was not used ({e.Message}); building it again";
            return null;
        }
    }

    /// <summary>Keeps <paramref name="index"/> and its entries under <paramref name="name"/>, replacing any earlier index of the shard.</summary>
    public void Save(string name, ApproximateVectorIndex index, IReadOnlyList<string?> entryItems)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(entryItems);
        var staging = Path.Combine(Directory, $".{name}.{Guid.NewGuid():N}.tmp");
        var target = Path.Combine(Directory, name);
        try
        {
            index.Save(Path.Combine(staging, GraphFile));   // creates the staging folder
            File.WriteAllText(Path.Combine(staging, EntriesFile), JsonSerializer.Serialize(entryItems));
            if (System.IO.Directory.Exists(target))
                System.IO.Directory.Delete(target, recursive: true);
            System.IO.Directory.Move(staging, target);
        }
        finally
        {
            if (System.IO.Directory.Exists(staging))
                System.IO.Directory.Delete(staging, recursive: true);
        }
        foreach (var other in System.IO.Directory.EnumerateDirectories(Directory).Where(d => !string.Equals(Path.GetFileName(d), name, StringComparison.Ordinal)))
        {
            try
            {
                System.IO.Directory.Delete(other, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next save; no activation reads it, as no set of vectors has its name.
            }
        }
    }
}
