using LMIndexer.Core.Indexing;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class SemanticIdTableTests
{
    [Fact]
    public void Counters_make_ids_unique_in_item_order()
    {
        string[] items = ["a", "b", "c", "d", "e"];
        long[][] learned = [[1, 2], [1, 2], [3, 4], [1, 2], [3, 5]];
        var table = SemanticIdTable.WithCounters(items, learned);
        Assert.Equal([1L, 2, 0], table.Find("a")!);
        Assert.Equal([1L, 2, 1], table.Find("b")!);
        Assert.Equal([3L, 4, 0], table.Find("c")!);
        Assert.Equal([1L, 2, 2], table.Find("d")!);
        Assert.Equal(3, table.RequiredCounterSize);
        Assert.Equal(5, table.Ids.Select(id => string.Join(',', id)).Distinct().Count());

        var stats = IndexStats.Compute(table, 2, new Dictionary<string, IReadOnlyList<string>> { ["full"] = ["x", "x", "y", "x", "y"] });
        Assert.Equal(3 / 5.0, stats.CollisionRate, 10);
        Assert.Equal(3, stats.LargestGroup);
        Assert.Equal([3, 2], stats.ItemsPerFirstCode);
        Assert.Equal(1.0, stats.AmiFirstCode["full"], 10);
        // Prefix 1: {2, 2, 2} → 1 distinct of min(3, 3 codes) = 1/3 for 3 items; prefix 3: {4, 5} → 2/2 for 2 items.
        Assert.Equal(((3 * (1.0 / 3)) + (2 * 1.0)) / 5, stats.PrefixDiversity[0], 10);
    }

    [Fact]
    public void Save_and_load_round_trip_and_reject_bad_rows()
    {
        using var temp = new TempDirectory();
        var table = SemanticIdTable.WithCounters(["p1", "p2"], [[7, 1], [7, 1]]);
        table.Save(temp.File("ids.tsv"));
        var loaded = SemanticIdTable.Load(temp.File("ids.tsv"));
        Assert.Equal(table.ItemIds, loaded.ItemIds);
        Assert.Equal([7L, 1, 1], loaded.Find("p2")!);
        File.WriteAllText(temp.File("bad.tsv"), "p1\t1 x 0\n");
        Assert.Throws<InvalidDataException>(() => SemanticIdTable.Load(temp.File("bad.tsv")));
        Assert.Throws<ArgumentException>(() => SemanticIdTable.WithCounters(["p1", "p1"], [[1], [2]]));
    }

    [Fact]
    public void Id_order_sorts_rows_code_by_code_and_keeps_each_items_id()
    {
        var table = new SemanticIdTable(["a", "b", "c", "d", "e"], [[2, 0, 0], [0, 10, 0], [0, 2, 1], [1, 0, 0], [0, 2, 0]]);

        var sorted = table.InIdOrder();

        Assert.Equal(["e", "c", "b", "d", "a"], sorted.ItemIds);   // 0-2-0 < 0-2-1 < 0-10-0 (numbers, not text) < 1-… < 2-…
        Assert.All(table.ItemIds, item => Assert.Equal(table.Find(item), sorted.Find(item)));
        Assert.Equal(["a", "b", "c", "d", "e"], table.ItemIds);   // the table itself is unchanged
    }
}
