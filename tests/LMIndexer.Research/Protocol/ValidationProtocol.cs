namespace LMIndexer.Research.Protocol;

/// <summary>One candidate's validation figure, as the record keeps it.</summary>
public sealed record CandidateScore(string Candidate, double Validation);

/// <summary>What a recorded run chose and why: written into the result JSON's <c>protocol</c>.</summary>
public sealed record ProtocolRecord(string SelectedOn, int TestDecodes, IReadOnlyList<int> Seeds, string Metric, string? Choice, IReadOnlyList<CandidateScore> Candidates);

/// <summary>
/// The evaluation protocol in code: every choice (steps, weights, members, ranking mode, a
/// baseline's hyper-parameters) is made on validation, then test is decoded once, for the chosen
/// candidate only. The test split is reachable only through <see cref="DecodeTest{TResult}"/>,
/// which refuses to run before a choice, for anything but the choice, or a second time, so a
/// selection loop over test cannot be written with it. Seeds are fixed when the run is opened,
/// before any decode.
/// </summary>
public sealed class ValidationProtocol<TCandidate, TTest>
    where TCandidate : notnull
{
    private readonly TTest test;
    private readonly Func<TCandidate, string> name;
    private readonly List<CandidateScore> scores = [];
    private TCandidate? choice;
    private bool chosen;
    private int testDecodes;

    /// <param name="test">The test split, held sealed until the choice is made.</param>
    /// <param name="seeds">The seeds every recorded system runs at, fixed before anything is decoded (at least 3).</param>
    /// <param name="metric">The validation metric that chooses (e.g. <c>ndcg@10</c>).</param>
    /// <param name="name">How a candidate is named in the record.</param>
    public ValidationProtocol(TTest test, IReadOnlyList<int> seeds, string metric, Func<TCandidate, string> name)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(metric);
        if (seeds.Count < 3 || seeds.Distinct().Count() != seeds.Count)
            throw new ArgumentException($"A recorded figure needs at least 3 distinct seeds, got [{string.Join(", ", seeds)}].", nameof(seeds));
        this.test = test;
        this.name = name;
        Seeds = [.. seeds];
        Metric = metric;
    }

    public IReadOnlyList<int> Seeds { get; }

    public string Metric { get; }

    /// <summary>
    /// Scores every candidate on validation and keeps the best (ties go to the earlier candidate,
    /// so the order the candidates were fixed in decides, not the test figures).
    /// </summary>
    public TCandidate Choose(IEnumerable<TCandidate> candidates, Func<TCandidate, double> validationScore)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(validationScore);
        if (testDecodes > 0)
            throw new InvalidOperationException("Test has been decoded: a choice made now would have seen it. Open a new run.");
        if (chosen)
            throw new InvalidOperationException("The choice is already made; make every choice in one Choose over all candidates.");
        var best = double.NegativeInfinity;
        foreach (var candidate in candidates)
        {
            var score = validationScore(candidate);
            if (!double.IsFinite(score))
                throw new ArgumentException($"Candidate {name(candidate)} has no finite validation {Metric} ({score}).", nameof(validationScore));
            scores.Add(new CandidateScore(name(candidate), score));
            if (score > best)
                (best, choice) = (score, candidate);
        }
        if (scores.Count == 0)
            throw new ArgumentException("Nothing to choose from.", nameof(candidates));
        chosen = true;
        return choice!;
    }

    /// <summary>Decodes test once, for the chosen candidate; the only way to the test split.</summary>
    public TResult DecodeTest<TResult>(Func<TCandidate, TTest, TResult> decode)
    {
        ArgumentNullException.ThrowIfNull(decode);
        if (!chosen)
            throw new InvalidOperationException("Choose on validation before decoding test.");
        if (testDecodes > 0)
            throw new InvalidOperationException("Test is decoded once per recorded run; it has been.");
        testDecodes++;
        return decode(choice!, test);
    }

    /// <summary>The protocol block of the result file.</summary>
    public ProtocolRecord Record() =>
        new("validation", testDecodes, Seeds, Metric, chosen ? name(choice!) : null, [.. scores]);
}
