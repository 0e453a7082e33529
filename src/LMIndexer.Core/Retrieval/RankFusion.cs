namespace LMIndexer.Core.Retrieval;

/// <summary>
/// Weighted reciprocal-rank fusion (Cormack et al., 2009): score(d) = Σ_r w_r / (k + rank_r(d)),
/// ranks from 1. It needs no score calibration between rankers, which BM25, cosine and beam
/// log-probabilities lack.
/// </summary>
public static class RankFusion
{
    /// <summary>The constant of the original paper; it damps the first ranks' lead.</summary>
    public const int DefaultK = 60;

    /// <summary>Fused ranking, best first; ties go to the key met first (rankings in order, best first).</summary>
    public static IReadOnlyList<(string Key, double Score)> Reciprocal(IReadOnlyList<WeightedRanking> rankings, int top, int k = DefaultK)
    {
        ArgumentNullException.ThrowIfNull(rankings);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var scores = new Dictionary<string, (double Score, int FirstSeen)>(StringComparer.Ordinal);
        foreach (var ranking in rankings)
        {
            if (ranking.Weight < 0 || !double.IsFinite(ranking.Weight))
                throw new ArgumentException($"A ranking's weight must be a finite number ≥ 0, got {ranking.Weight}.", nameof(rankings));
            if (ranking.Weight == 0)
                continue;   // a muted ranker adds no candidates either
            var rank = 0;
            foreach (var key in ranking.Keys.Distinct(StringComparer.Ordinal))
            {
                rank++;
                var (score, first) = scores.GetValueOrDefault(key, (0, scores.Count));
                scores[key] = (score + ranking.Weight / (k + rank), first);
            }
        }
        return [.. scores.OrderByDescending(s => s.Value.Score).ThenBy(s => s.Value.FirstSeen).Take(top).Select(s => (s.Key, s.Value.Score))];
    }
}

/// <summary>One ranker's keys, best first, and its weight in the fusion.</summary>
public sealed record WeightedRanking(IReadOnlyList<string> Keys, double Weight);
