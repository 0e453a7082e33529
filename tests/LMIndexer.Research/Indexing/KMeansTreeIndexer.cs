using LMIndexer.Core.Indexing;
using static TorchSharp.torch;

namespace LMIndexer.Research.Indexing;

/// <summary>
/// Hierarchical k-means (the reference's "tree" baseline): K clusters at the first level, then K
/// clusters inside each cluster, to a fixed depth, so IDs have the same shape as LMIndexer's.
/// A node with fewer than K items gets one code per item.
/// </summary>
public static class KMeansTreeIndexer
{
    public static long[][] Assign(Tensor embeddings, int depth, int k, KMeansOptions options)
    {
        var n = (int)embeddings.shape[0];
        var codes = Enumerable.Range(0, n).Select(_ => new long[depth]).ToArray();
        Split(embeddings, [.. Enumerable.Range(0, n)], 0, depth, k, options, codes);
        return codes;
    }

    private static void Split(Tensor embeddings, int[] members, int level, int depth, int k, KMeansOptions options, long[][] codes)
    {
        if (level == depth || members.Length == 0)
            return;
        long[] assignment;
        if (members.Length <= k)
        {
            assignment = [.. Enumerable.Range(0, members.Length).Select(i => (long)i)];
        }
        else
        {
            using var index = tensor(members.Select(m => (long)m).ToArray());
            using var subset = embeddings.index_select(0, index);
            var result = KMeans.Fit(subset, k, options with { Seed = options.Seed + level });
            result.Centroids.Dispose();
            assignment = result.Assignments;
        }
        for (var i = 0; i < members.Length; i++)
            codes[members[i]][level] = assignment[i];
        foreach (var group in members.Select((m, i) => (m, code: assignment[i])).GroupBy(x => x.code))
            Split(embeddings, [.. group.Select(x => x.m)], level + 1, depth, k, options, codes);
    }
}
