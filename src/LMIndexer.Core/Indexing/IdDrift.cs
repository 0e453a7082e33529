using LMIndexer.Core.Evaluation;

namespace LMIndexer.Core.Indexing;

/// <summary>Items of one old first code that moved to one new first code.</summary>
public sealed record CodeFlow(long OldFirstCode, long NewFirstCode, int Items);

/// <summary>
/// What re-indexing changed, for operators deciding whether to switch versions. Code values of a
/// retrained indexer are arbitrary (code 5 may now be called 17), so besides the literal figures
/// the report measures whether groups <em>stayed together</em>: the AMI between old and new first
/// codes, and the share of each old group that landed in its most common new group.
/// </summary>
public sealed record IdDriftReport(
    int CommonItems,
    int Added,
    int Removed,
    double KeptFirstCode,
    double KeptFullId,
    double FirstCodeAmi,
    double GroupCohesion,
    IReadOnlyList<CodeFlow> LargestMoves)
{
    /// <summary>Compares the IDs of the items both tables hold.</summary>
    public static IdDriftReport Compare(SemanticIdTable old, SemanticIdTable @new, int moves = 10)
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(@new);
        var common = old.ItemIds.Where(id => @new.Find(id) is not null).ToList();
        var added = @new.ItemIds.Count(id => old.Find(id) is null);
        var removed = old.Count - common.Count;
        if (common.Count == 0)
            return new IdDriftReport(0, added, removed, 0, 0, 0, 0, []);
        var oldIds = common.Select(id => old.Find(id)!).ToList();
        var newIds = common.Select(id => @new.Find(id)!).ToList();
        var oldFirst = oldIds.Select(c => c[0]).ToList();
        var newFirst = newIds.Select(c => c[0]).ToList();
        var keptFirst = Enumerable.Range(0, common.Count).Count(i => oldFirst[i] == newFirst[i]) / (double)common.Count;
        var keptFull = Enumerable.Range(0, common.Count).Count(i => oldIds[i].AsSpan().SequenceEqual(newIds[i])) / (double)common.Count;
        // Cohesion: for every old group, the items that went to its most common new group, over all items.
        var cohesive = Enumerable.Range(0, common.Count).GroupBy(i => oldFirst[i])
            .Sum(g => g.GroupBy(i => newFirst[i]).Max(h => h.Count()));
        var flows = Enumerable.Range(0, common.Count).Where(i => oldFirst[i] != newFirst[i])
            .GroupBy(i => (oldFirst[i], newFirst[i]))
            .Select(g => new CodeFlow(g.Key.Item1, g.Key.Item2, g.Count()))
            .OrderByDescending(f => f.Items).ThenBy(f => f.OldFirstCode).ThenBy(f => f.NewFirstCode)
            .Take(moves).ToList();
        return new IdDriftReport(common.Count, added, removed, keptFirst, keptFull,
            ClusteringMetrics.AdjustedMutualInformation(oldFirst, newFirst), cohesive / (double)common.Count, flows);
    }
}
