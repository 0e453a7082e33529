using LMIndexer.Core.Indexing;

namespace LMIndexer.Core.Tests.Indexing;

public sealed class IdDriftTests
{
    private static SemanticIdTable Table(params (string Item, long[] Id)[] rows) => new([.. rows.Select(r => r.Item)], [.. rows.Select(r => r.Id)]);

    [Fact]
    public void Renamed_codes_keep_groups_together_even_though_no_literal_code_is_kept()
    {
        var old = Table(("a", [0, 0, 0]), ("b", [0, 1, 0]), ("c", [1, 0, 0]), ("d", [1, 1, 0]));
        var renamed = Table(("a", [7, 0, 0]), ("b", [7, 1, 0]), ("c", [3, 0, 0]), ("d", [3, 1, 0]));
        var report = IdDriftReport.Compare(old, renamed);
        Assert.Equal(4, report.CommonItems);
        Assert.Equal(0, report.KeptFirstCode);
        Assert.Equal(0, report.KeptFullId);
        Assert.Equal(1, report.GroupCohesion, 6);
        Assert.Equal(1, report.FirstCodeAmi, 6);
        Assert.Equal([new CodeFlow(0, 7, 2), new CodeFlow(1, 3, 2)], report.LargestMoves);
    }

    [Fact]
    public void Scattered_groups_added_and_removed_items_are_counted()
    {
        var old = Table(("a", [0, 0, 0]), ("b", [0, 1, 0]), ("c", [0, 2, 0]), ("d", [1, 0, 0]), ("gone", [1, 1, 0]));
        var next = Table(("a", [0, 0, 0]), ("b", [5, 1, 0]), ("c", [6, 2, 0]), ("d", [1, 0, 0]), ("new", [2, 0, 0]));
        var report = IdDriftReport.Compare(old, next, moves: 1);
        Assert.Equal(4, report.CommonItems);
        Assert.Equal(1, report.Added);
        Assert.Equal(1, report.Removed);
        Assert.Equal(0.5, report.KeptFirstCode, 6);
        Assert.Equal(0.5, report.KeptFullId, 6);
        Assert.Equal(0.5, report.GroupCohesion, 6);   // group 0 keeps 1 of 3 together, group 1 keeps its 1
        Assert.Single(report.LargestMoves);
    }
}
