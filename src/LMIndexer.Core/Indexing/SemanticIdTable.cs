using System.Globalization;
using System.Text;

namespace LMIndexer.Core.Indexing;

/// <summary>An item's final semantic ID: learned codes followed by the collision counter.</summary>
public readonly record struct SemanticId(IReadOnlyList<long> Codes)
{
    public int Length => Codes.Count;

    public override string ToString() => string.Join('-', Codes);
}

/// <summary>
/// The ID table, <c>item_id \t c1 c2 … counter</c> in item order. Every item gets a counter: its
/// 0-based occurrence index among items with the same learned codes (the reference's
/// <c>add_final_id</c>), so full IDs are unique.
/// </summary>
public sealed class SemanticIdTable
{
    public const string FileName = "ids.tsv";

    private readonly Dictionary<string, int> index;

    public SemanticIdTable(IReadOnlyList<string> itemIds, IReadOnlyList<long[]> ids)
    {
        if (itemIds.Count != ids.Count)
            throw new ArgumentException($"{itemIds.Count} items but {ids.Count} IDs.");
        ItemIds = itemIds;
        Ids = ids;
        index = new Dictionary<string, int>(itemIds.Count, StringComparer.Ordinal);
        for (var i = 0; i < itemIds.Count; i++)
        {
            if (!index.TryAdd(itemIds[i], i))
                throw new ArgumentException($"Item '{itemIds[i]}' appears twice.");
        }
    }

    public IReadOnlyList<string> ItemIds { get; }

    /// <summary>Full IDs (learned codes + counter).</summary>
    public IReadOnlyList<long[]> Ids { get; }

    public int Count => ItemIds.Count;

    public long[]? Find(string itemId) => index.TryGetValue(itemId, out var i) ? Ids[i] : null;

    /// <summary>The item's row in the table, or −1.</summary>
    public int IndexOf(string itemId) => index.TryGetValue(itemId, out var i) ? i : -1;

    /// <summary>Appends the collision counter to learned codes.</summary>
    public static SemanticIdTable WithCounters(IReadOnlyList<string> itemIds, IReadOnlyList<long[]> learned)
    {
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        var ids = new List<long[]>(learned.Count);
        foreach (var codes in learned)
        {
            var key = string.Join(',', codes);
            var counter = seen.GetValueOrDefault(key);
            seen[key] = counter + 1;
            ids.Add([.. codes, counter]);
        }
        return new SemanticIdTable(itemIds, ids);
    }

    /// <summary>
    /// The same rows sorted by ID (code by code; ties keep table order): a backfill that writes in
    /// this order fills one prefix grain after another instead of touching every grain in every batch.
    /// </summary>
    public SemanticIdTable InIdOrder()
    {
        var order = Enumerable.Range(0, Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var byId = Ids[a].AsSpan().SequenceCompareTo(Ids[b]);
            return byId != 0 ? byId : a.CompareTo(b);
        });
        return new SemanticIdTable([.. order.Select(i => ItemIds[i])], [.. order.Select(i => Ids[i])]);
    }

    /// <summary>
    /// The rows sorted by item id (ordinal): item grains written in this order insert their records
    /// in key order, which a B-tree store takes several times faster than keys at random.
    /// </summary>
    public SemanticIdTable InItemOrder()
    {
        var order = Enumerable.Range(0, Count).ToArray();
        Array.Sort(order, (a, b) => string.CompareOrdinal(ItemIds[a], ItemIds[b]));
        return new SemanticIdTable([.. order.Select(i => ItemIds[i])], [.. order.Select(i => Ids[i])]);
    }

    /// <summary>The largest counter value + 1, i.e. the counter range the vocabulary must hold.</summary>
    public int RequiredCounterSize => Ids.Count == 0 ? 1 : (int)Ids.Max(id => id[^1]) + 1;

    public void Save(string path)
    {
        // Line by line into a file beside the target, then renamed over it: a million-item table is
        // never one string, and a reader never sees half a table.
        var temp = path + ".tmp";
        using (var writer = new StreamWriter(temp, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)))
        {
            writer.NewLine = "\n";
            for (var i = 0; i < Count; i++)
            {
                writer.Write(ItemIds[i]);
                writer.Write('\t');
                writer.WriteLine(string.Join(' ', Ids[i]));
            }
        }
        File.Move(temp, path, overwrite: true);
    }

    public static SemanticIdTable Load(string path)
    {
        var items = new List<string>();
        var ids = new List<long[]>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var parts = line.Split('\t');
            if (parts.Length != 2)
                throw new InvalidDataException($"{path}:{lineNumber}: expected 'item_id<TAB>c1 c2 … counter'.");
            try
            {
                ids.Add([.. parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(c => long.Parse(c, CultureInfo.InvariantCulture))]);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: codes must be integers.", e);
            }
            items.Add(parts[0]);
        }
        if (ids.Select(i => i.Length).Distinct().Count() > 1)
            throw new InvalidDataException($"{path}: IDs of different lengths.");
        return new SemanticIdTable(items, ids);
    }
}
