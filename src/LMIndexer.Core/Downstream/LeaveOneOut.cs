using LMIndexer.Core.Data;

namespace LMIndexer.Core.Downstream;

/// <summary>One next-item example: the user's earlier items (oldest first) and the item that came next.</summary>
public sealed record NextItemExample(string UserId, IReadOnlyList<string> History, string Target);

/// <summary>How training examples are cut from each user's training prefix.</summary>
public enum TrainingWindows
{
    /// <summary>
    /// As the reference (<c>sqrec_gen.py</c>): <c>passes</c> random windows per user, each ending at
    /// one of the last three items before the validation target, starting at one of the first three.
    /// Seeded here (the reference forgets to apply its seed).
    /// </summary>
    Reference,

    /// <summary>Every training item after the first is a target once, with the whole prefix before it.</summary>
    AllPrefixes,
}

/// <summary>Train / validation / test examples of a leave-one-out split.</summary>
public sealed record RecommendationSplit(
    IReadOnlyList<NextItemExample> Train,
    IReadOnlyList<NextItemExample> Validation,
    IReadOnlyList<NextItemExample> Test);

/// <summary>
/// The reference's leave-one-out split: test target = the last item (history = all before it),
/// validation target = the second-to-last item, training targets come strictly before that.
/// </summary>
public static class LeaveOneOut
{
    /// <param name="refit">
    /// The served-model protocol: a model in service is trained on everything up to today, so the
    /// validation target joins the training targets and no validation examples are returned (nothing
    /// can be chosen on this split; the settings come from a run on the plain split). Test is unchanged.
    /// </param>
    public static RecommendationSplit Split(IReadOnlyList<UserSequence> users, TrainingWindows windows = TrainingWindows.Reference, int passes = 5, int seed = 2023, bool refit = false)
    {
        ArgumentNullException.ThrowIfNull(users);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        var random = new Random(seed);
        var train = new List<NextItemExample>();
        var validation = new List<NextItemExample>();
        var test = new List<NextItemExample>();
        foreach (var user in users)
        {
            var items = user.ItemIds;
            var n = items.Count;
            if (n >= 2)
                test.Add(new NextItemExample(user.UserId, [.. items.Take(n - 1)], items[n - 1]));
            if (n >= 3 && !refit)
                validation.Add(new NextItemExample(user.UserId, [.. items.Take(n - 2)], items[n - 2]));
            var heldOut = HeldOut(refit);
            if (n < heldOut + 2)
                continue;
            var lastTarget = n - 1 - heldOut;   // 0-based: the third-from-last item (refit: the second-from-last)
            if (windows == TrainingWindows.AllPrefixes)
            {
                for (var j = 1; j <= lastTarget; j++)
                    train.Add(new NextItemExample(user.UserId, [.. items.Take(j)], items[j]));
                continue;
            }
            var firstTarget = Math.Max(1, lastTarget - 2);
            for (var pass = 0; pass < passes; pass++)
            {
                var j = random.Next(firstTarget, lastTarget + 1);
                var start = random.Next(0, Math.Min(3, j));
                train.Add(new NextItemExample(user.UserId, [.. items.Skip(start).Take(j - start)], items[j]));
            }
        }
        return new RecommendationSplit(train, validation, test);
    }

    /// <summary>How many of each user's last items are not training items: test and validation, or test alone when refitting.</summary>
    public static int HeldOut(bool refit) => refit ? 1 : 2;

    /// <summary>A user's training items: all but the held-out last ones (<see cref="HeldOut"/>).</summary>
    public static IEnumerable<string> TrainingItems(UserSequence user, bool refit = false)
    {
        ArgumentNullException.ThrowIfNull(user);
        return user.ItemIds.Take(Math.Max(0, user.ItemIds.Count - HeldOut(refit)));
    }
}
