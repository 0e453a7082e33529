using LMIndexer.Core.Data;
using LMIndexer.Core.Downstream;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class LeaveOneOutTests
{
    private static readonly UserSequence User = new("u1", ["a", "b", "c", "d", "e", "f", "g", "h"]);

    [Fact]
    public void Test_and_validation_hold_out_the_last_two_items()
    {
        var split = LeaveOneOut.Split([User]);
        var test = Assert.Single(split.Test);
        Assert.Equal("h", test.Target);
        Assert.Equal(["a", "b", "c", "d", "e", "f", "g"], test.History);
        var validation = Assert.Single(split.Validation);
        Assert.Equal("g", validation.Target);
        Assert.Equal(["a", "b", "c", "d", "e", "f"], validation.History);
    }

    [Fact]
    public void Reference_windows_target_only_the_three_items_before_validation()
    {
        var split = LeaveOneOut.Split([User], TrainingWindows.Reference, passes: 200, seed: 1);
        Assert.Equal(200, split.Train.Count);
        Assert.Equal(["d", "e", "f"], split.Train.Select(e => e.Target).Distinct().Order());
        foreach (var example in split.Train)
        {
            var targetIndex = User.ItemIds.ToList().IndexOf(example.Target);
            Assert.Equal(User.ItemIds.Take(targetIndex).TakeLast(example.History.Count), example.History);   // a contiguous window ending right before the target
            Assert.InRange(targetIndex - example.History.Count, 0, 2);                                         // starting at one of the first three
        }
        Assert.Equal(split.Train.Select(e => e.Target + e.History.Count), LeaveOneOut.Split([User], TrainingWindows.Reference, passes: 200, seed: 1).Train.Select(e => e.Target + e.History.Count));
    }

    [Fact]
    public void All_prefixes_make_every_training_item_a_target_once()
    {
        var split = LeaveOneOut.Split([User], TrainingWindows.AllPrefixes);
        Assert.Equal(["b", "c", "d", "e", "f"], split.Train.Select(e => e.Target));
        Assert.All(split.Train, e => Assert.Equal(User.ItemIds.Take(e.History.Count), e.History));
    }

    [Fact]
    public void A_refit_trains_on_the_validation_target_too_keeps_no_validation_and_the_same_test()
    {
        var plain = LeaveOneOut.Split([User], TrainingWindows.AllPrefixes);
        var refit = LeaveOneOut.Split([User], TrainingWindows.AllPrefixes, refit: true);

        Assert.Equal(["b", "c", "d", "e", "f", "g"], refit.Train.Select(e => e.Target));
        Assert.Equal(User.ItemIds.Take(6), refit.Train[^1].History);
        Assert.Empty(refit.Validation);
        Assert.Equal(plain.Test.Select(e => (e.UserId, string.Join(' ', e.History), e.Target)), refit.Test.Select(e => (e.UserId, string.Join(' ', e.History), e.Target)));
        // The reference's windows move up by one item too: the three items before the test target.
        var windows = LeaveOneOut.Split([User], TrainingWindows.Reference, passes: 200, seed: 1, refit: true);
        Assert.Equal(["e", "f", "g"], windows.Train.Select(e => e.Target).Distinct().Order());
        // A user of three items has one training target when refitting and none otherwise.
        var three = new UserSequence("three", ["x", "y", "z"]);
        Assert.Empty(LeaveOneOut.Split([three], TrainingWindows.AllPrefixes).Train);
        Assert.Equal("y", Assert.Single(LeaveOneOut.Split([three], TrainingWindows.AllPrefixes, refit: true).Train).Target);
    }

    [Fact]
    public void Popularity_counts_the_training_items_and_a_refit_counts_the_validation_targets_too()
    {
        UserSequence[] users = [new("u1", ["a", "b", "c", "d"]), new("u2", ["b", "c", "c", "a"])];
        var index = new Dictionary<string, int> { ["a"] = 0, ["b"] = 1, ["c"] = 2, ["d"] = 3 };

        // Training items: a, b (u1) and b, c (u2); refit adds c (u1) and c (u2).
        Assert.Equal([1, 0, 2, 3], RecommendationTask.Popularity(users, index));
        Assert.Equal([2, 1, 0, 3], RecommendationTask.Popularity(users, index, refit: true));
        Assert.Equal(["b", "c", "c"], LeaveOneOut.TrainingItems(users[1], refit: true));
    }

    [Fact]
    public void Short_users_contribute_only_what_they_can()
    {
        var split = LeaveOneOut.Split([new UserSequence("short", ["x", "y"]), new UserSequence("one", ["z"])]);
        Assert.Single(split.Test);
        Assert.Empty(split.Validation);
        Assert.Empty(split.Train);
    }

    [Fact]
    public void History_source_puts_the_newest_item_first_and_respects_the_budget()
    {
        var items = new[]
        {
            new CatalogItem("a", "red lipstick"),
            new CatalogItem("b", "blue shampoo"),
            new CatalogItem("c", "green soap"),
        };
        var tokenizer = CatalogTokenizer.Build(items.Select(i => i.Title!).Append(". "), [4, 4, 4]);
        var byId = items.ToDictionary(i => i.ItemId);
        var source = new HistorySource(tokenizer, byId, null, new HistorySourceOptions { Mode = SourceMode.Titles, MaxSourceTokens = 64 });
        var encoded = source.Encode(["a", "b", "c"]);
        Assert.Equal(CatalogTokenizer.EosId, encoded[^1]);
        Assert.Equal("green soap. blue shampoo. red lipstick", tokenizer.Decode(encoded[..^1]));
        Assert.Equal(encoded, source.Encode(["a", "unknown", "b", "c"]));

        var tight = new HistorySource(tokenizer, byId, null, new HistorySourceOptions { Mode = SourceMode.Titles, MaxSourceTokens = 4 });
        var cut = tight.Encode(["a", "b", "c"]);
        Assert.Equal(4, cut.Length);
        Assert.StartsWith("green soap", tokenizer.Decode(cut[..^1]), StringComparison.Ordinal);

        var table = new SemanticIdTable(["a", "b", "c"], [[1, 2, 0], [3, 0, 0], [1, 2, 1]]);
        var ids = new HistorySource(tokenizer, byId, table, new HistorySourceOptions { Mode = SourceMode.Ids });
        Assert.Equal("<id_0_1><id_1_2><id_2_1>. <id_0_3><id_1_0><id_2_0>", tokenizer.Decode(ids.Encode(["b", "c"])[..^1]));
        Assert.Throws<ArgumentException>(() => new HistorySource(tokenizer, byId, null, new HistorySourceOptions { Mode = SourceMode.Ids }));

        // Item tokens sit above the vocabulary, one per table row, after the item's ID; rows past the
        // model's item count (items added after training) are read by their IDs alone.
        var itemSource = new HistorySource(tokenizer, byId, table, new HistorySourceOptions { Mode = SourceMode.IdsAndItems, ItemTokenCount = 2 });
        var withItems = itemSource.Encode(["a", "b", "c"]);
        var idsOnly = ids.Encode(["a", "b", "c"]);
        var separator = tokenizer.Encode(". ");
        int[] expected = [.. idsOnly[..3], .. separator, .. idsOnly[(3 + separator.Length)..(6 + separator.Length)], tokenizer.VocabSize + 1, .. separator,
            .. idsOnly[(6 + 2 * separator.Length)..^1], tokenizer.VocabSize + 0, CatalogTokenizer.EosId];
        Assert.Equal(expected, withItems);
        Assert.Equal(SourceMode.IdsAndItems, HistorySourceOptions.ParseMode(HistorySourceOptions.ModeName(SourceMode.IdsAndItems)));

        // An items source is the item tokens alone, newest first with no separator between them;
        // an item without a vector (added after training) is left out, and the ID table is required.
        var itemsOnly = new HistorySource(tokenizer, byId, table, new HistorySourceOptions { Mode = SourceMode.Items, ItemTokenCount = 2 });
        Assert.Equal([tokenizer.VocabSize + 1, tokenizer.VocabSize + 0, CatalogTokenizer.EosId], itemsOnly.Encode(["a", "b", "c"]));
        Assert.Throws<ArgumentException>(() => new HistorySource(tokenizer, byId, null, new HistorySourceOptions { Mode = SourceMode.Items }));
        Assert.Equal(SourceMode.Items, HistorySourceOptions.ParseMode(HistorySourceOptions.ModeName(SourceMode.Items)));
        Assert.True(HistorySourceOptions.ReadsItemTokens(SourceMode.Items) && HistorySourceOptions.ReadsNoText(SourceMode.Items));
        Assert.False(HistorySourceOptions.ReadsIds(SourceMode.Items));
        Assert.True(HistorySourceOptions.ReadsIds(SourceMode.IdsAndItems));
        Assert.False(HistorySourceOptions.ReadsIds(SourceMode.IdsAndTitles));
        Assert.Throws<ArgumentException>(() => new HistorySourceOptions { ItemTokenCount = -1 }.Validate());

        // Six items of three-token IDs: 19 tokens plain, 25 with item tokens (and the closing </s>).
        var plain = new HistorySourceOptions { Mode = SourceMode.Ids, MaxSourceTokens = 19 };
        var withItemTokens = new HistorySourceOptions { Mode = SourceMode.IdsAndItems, MaxSourceTokens = 25, ItemTokenCount = 3 };
        Assert.True(plain.Reads(withItemTokens, idLength: 3));
        Assert.True(withItemTokens.Reads(withItemTokens, idLength: 3));
        Assert.False(withItemTokens.Reads(plain, idLength: 3));
        Assert.False((plain with { MaxSourceTokens = 16 }).Reads(withItemTokens, idLength: 3));
        Assert.False((plain with { Mode = SourceMode.Titles }).Reads(withItemTokens, idLength: 3));
    }
}
