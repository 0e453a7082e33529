using LMIndexer.Core.Generation;
using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using LMIndexer.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Tests.Generation;

public sealed class ItemRankerTests
{
    private const int Vocab = ConstrainedBeamSearchTests.Vocab;   // the networks are its RandomModel

    private static readonly List<int[]> Ids = ConstrainedBeamSearchTests.RandomIds(40, new Random(5));

    private static T5Model HeadModel(long seed, bool denseHead = true, int? vectors = null) =>
        ConstrainedBeamSearchTests.RandomModel(seed, config => config with { SourceItemCount = vectors ?? Ids.Count, DenseItemHead = denseHead });

    /// <summary>Sources of vocabulary tokens and tokens of the first <paramref name="vectors"/> items (<see cref="Vocab"/> + item).</summary>
    private static List<int[]> Sources(int count, Random random, int? vectors = null) =>
        [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 3 + random.Next(8))
            .Select(_ => random.Next(3) == 0 ? Vocab + random.Next(vectors ?? Ids.Count) : 4 + random.Next(Vocab - 4)).ToArray())];

    /// <summary>
    /// Every item's dense log-probability for one source, from one plain forward pass: the network's
    /// item vectors, followed by <paramref name="added"/> (items added after training) when given.
    /// </summary>
    private static float[] DenseLogProbs(T5Model model, int[] source, Tensor? added = null, double boost = 0)
    {
        using var noGrad = torch.no_grad();
        using var scope = NewDisposeScope();
        var (input, mask) = TokenBatch.Pad([source], 0);
        var hidden = model.Decode(TensorArithmetic.Full(1, 1, model.Config.DecoderStartTokenId, ScalarType.Int64, input.device), model.Encode(input, mask), mask)[.., 0];
        var logits = model.DenseItemLogits(hidden);                                                                      // [1, items]
        if (added is not null)
            logits = torch.cat([logits, model.DenseHead!.forward(hidden).matmul(added.t()).Times(Math.Pow(model.Config.DModel, -0.5)).Plus(boost)], 1);   // [1, items + added]
        return logits.log_softmax(-1)[0].data<float>().ToArray();
    }

    /// <summary>Every item's sequence log-probability for one source, by teacher forcing all IDs at once.</summary>
    private static float[] SequenceLogProbs(T5Model model, int[] source) => ConstrainedBeamSearchTests.ExactScores(model, source, Ids);

    /// <summary>
    /// Equal to float32 rounding: batches padded to other lengths sum in another order, and these
    /// sharpened networks' log-probabilities reach −100.
    /// </summary>
    private static void AssertClose(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-4 * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");

    [Fact]
    public void Dense_ranking_is_the_heads_log_probability_order_over_every_item()
    {
        var random = new Random(21);
        using var model = HeadModel(21);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(5, random);

        var ranked = ItemRanker.Rank([model], sources, tables, 8, RankingMode.Dense);

        for (var r = 0; r < sources.Count; r++)
        {
            var dense = DenseLogProbs(model, sources[r]);
            var expected = Enumerable.Range(0, Ids.Count).OrderByDescending(i => dense[i]).ThenBy(i => i).Take(8).ToArray();
            Assert.Equal(expected, ranked[r].Select(x => x.Item));
            Assert.All(ranked[r], x => AssertClose(dense[x.Item], x.Score));
        }
    }

    [Theory]
    [InlineData(31, 1.0)]
    [InlineData(32, 0.5)]
    public void Hybrid_ranks_the_beam_and_the_dense_candidates_by_exact_sequence_plus_weighted_dense_log_probability(int seed, double weight)
    {
        var random = new Random(seed);
        using var model = HeadModel(seed);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(6, random);
        const int count = 6;

        var ranked = ItemRanker.Rank([model], sources, tables, count, RankingMode.Hybrid, weight);
        var beams = ConstrainedBeamSearch.Search(model, sources, tables, count);

        for (var r = 0; r < sources.Count; r++)
        {
            var dense = DenseLogProbs(model, sources[r]);
            var sequence = SequenceLogProbs(model, sources[r]);
            var denseTop = Enumerable.Range(0, Ids.Count).OrderByDescending(i => dense[i]).Take(count);
            var candidates = beams[r].Select(x => x.Item).Union(denseTop).ToList();
            var expected = candidates.OrderByDescending(i => sequence[i] + (weight * dense[i])).Take(count).ToArray();

            Assert.Equal(count, ranked[r].Length);
            Assert.Equal(expected, ranked[r].Select(x => x.Item));
            Assert.All(ranked[r], x => AssertClose(sequence[x.Item] + (weight * dense[x.Item]), x.Score));
        }
    }

    [Fact]
    public void Items_added_after_training_are_ranked_by_their_ids_with_a_uniform_dense_term()
    {
        // The network has vectors for the first 30 items; serving added the last 10 to the trie.
        const int vectors = 30;
        var random = new Random(71);
        using var model = HeadModel(71, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(6, random, vectors);   // an added item has no token of its own in a source

        var dense = ItemRanker.Rank([model], sources, tables, 12, RankingMode.Dense);
        var hybrid = ItemRanker.Rank([model], sources, tables, Ids.Count, RankingMode.Hybrid);

        Assert.All(dense, ranked => Assert.All(ranked, x => Assert.InRange(x.Item, 0, vectors - 1)));
        var beams = ConstrainedBeamSearch.Search(model, sources, tables, Ids.Count);
        for (var r = 0; r < sources.Count; r++)
        {
            var sequence = SequenceLogProbs(model, sources[r]);
            // Every item is in the exhaustive beam; the added ones are scored as the head's uniform guess.
            Assert.Equal(beams[r].Select(x => x.Item).Order(), hybrid[r].Select(x => x.Item).Order());
            Assert.All(hybrid[r].Where(x => x.Item >= vectors), x => AssertClose(sequence[x.Item] - Math.Log(vectors), x.Score));
        }
    }

    [Theory]
    [InlineData(RankingMode.Dense)]
    [InlineData(RankingMode.Hybrid)]
    public void A_history_token_of_an_item_added_after_training_is_read_as_beam_search_reads_it_left_out(RankingMode mode)
    {
        const int vectors = 30;
        var random = new Random(81);
        using var model = HeadModel(81, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var plain = Sources(4, random, vectors);
        // Item 35 came after training: the network has no row for its token.
        var withAdded = plain.Select(source => source.Append(Vocab + 35).ToArray()).ToList();

        var expected = ItemRanker.Rank([model], plain, tables, 8, mode);
        var ranked = ItemRanker.Rank([model], withAdded, tables, 8, mode);

        for (var r = 0; r < plain.Count; r++)
        {
            Assert.Equal(expected[r].Select(x => x.Item), ranked[r].Select(x => x.Item));
            Assert.All(expected[r].Zip(ranked[r]), pair => AssertClose(pair.First.Score, pair.Second.Score));
        }
    }

    [Fact]
    public void Generative_ranking_is_the_constrained_beam_search_and_needs_no_head()
    {
        var random = new Random(41);
        using var model = HeadModel(41, denseHead: false);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(4, random);

        var ranked = ItemRanker.Rank([model], sources, tables, 5, RankingMode.Generative);
        var beams = ConstrainedBeamSearch.Search(model, sources, tables, 5);

        Assert.Equal(beams.Select(b => b.Select(x => x.Item).ToArray()), ranked.Select(b => b.Select(x => x.Item).ToArray()));
        Assert.Equal(RankingMode.Generative, RankingModes.DefaultFor([model]));
    }

    [Fact]
    public void An_ensembles_dense_ranking_is_the_mean_of_its_members_log_probabilities()
    {
        var random = new Random(51);
        using var first = HeadModel(51);
        using var second = HeadModel(52);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(3, random);

        var ranked = ItemRanker.Rank([first, second], sources, tables, 5, RankingMode.Dense);

        for (var r = 0; r < sources.Count; r++)
        {
            var mean = DenseLogProbs(first, sources[r]).Zip(DenseLogProbs(second, sources[r]), (a, b) => (a + b) / 2).ToArray();
            Assert.Equal(Enumerable.Range(0, Ids.Count).OrderByDescending(i => mean[i]).Take(5), ranked[r].Select(x => x.Item));
        }
        Assert.Equal(RankingMode.Hybrid, RankingModes.DefaultFor([first, second]));
    }

    [Fact]
    public void Dense_and_hybrid_ranking_refuse_networks_without_a_head_or_with_other_items()
    {
        using var plain = HeadModel(61, denseHead: false);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        using var fewer = new TrieTables(IdTrie.Build(Ids[..30]));
        using var headed = HeadModel(62);
        int[][] sources = [[5, 6, 7]];

        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([plain], sources, tables, 5, RankingMode.Dense));
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([headed, plain], sources, tables, 5, RankingMode.Hybrid));
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([headed], sources, fewer, 5, RankingMode.Hybrid));   // vectors for items the trie lacks
        using var otherCount = HeadModel(63, vectors: 35);
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([headed, otherCount], sources, tables, 5, RankingMode.Dense));
        Assert.Throws<ArgumentOutOfRangeException>(() => ItemRanker.Rank([headed], sources, tables, 5, RankingMode.Hybrid, denseWeight: -1));
        Assert.Equal(RankingMode.Generative, RankingModes.DefaultFor([headed, plain]));
    }

    [Theory]
    [InlineData(RankingMode.Dense, 100, 0)]    // every item a candidate: the normaliser is the exact sum
    [InlineData(RankingMode.Dense, 6, 40)]     // few candidates, every item sampled: the rest is summed exactly too
    [InlineData(RankingMode.Hybrid, 100, 0)]
    [InlineData(RankingMode.Hybrid, 6, 40)]
    public void Approximate_dense_items_give_the_exact_ranking_and_log_probabilities_when_nothing_is_left_to_estimate(RankingMode mode, int candidates, int sampled)
    {
        var random = new Random(91);
        using var first = HeadModel(91);
        using var second = HeadModel(92);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(5, random);
        using var approximate = ApproximateDenseItems.Build([first, second], candidates: candidates, normalizerSample: Math.Max(1, sampled));

        var exact = ItemRanker.Rank([first, second], sources, tables, 6, mode);
        var ranked = ItemRanker.Rank([first, second], sources, tables, 6, mode, approximate: approximate);

        for (var r = 0; r < sources.Count; r++)
        {
            Assert.Equal(exact[r].Select(x => x.Item), ranked[r].Select(x => x.Item));
            Assert.All(exact[r].Zip(ranked[r]), pair => AssertClose(pair.First.Score, pair.Second.Score));
        }
    }

    [Theory]
    [InlineData(RankingMode.Dense, 0)]
    [InlineData(RankingMode.Hybrid, 0)]
    [InlineData(RankingMode.Hybrid, 3)]
    public void Approximate_ranking_scores_items_added_with_vectors_as_exact_ranking_does(RankingMode mode, double boost)
    {
        // Vectors for 30 items in the index; items 30-39 came later with vectors of their own, scored beside it.
        const int vectors = 30;
        var random = new Random(94);
        using var model = HeadModel(94, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(4, random, vectors);
        using var added = torch.randn(Ids.Count - vectors, model.Config.DModel, generator: new torch.Generator(94)).Times(2.0);   // [10, d_model]
        using var approximate = ApproximateDenseItems.Build([model], candidates: 6, normalizerSample: vectors);   // every trained item sampled

        var exact = ItemRanker.Rank([model], sources, tables, 8, mode, addedVectors: added, addedBoost: boost);
        var ranked = ItemRanker.Rank([model], sources, tables, 8, mode, approximate: approximate, addedVectors: added, addedBoost: boost);

        for (var r = 0; r < sources.Count; r++)
        {
            Assert.Equal(exact[r].Select(x => x.Item), ranked[r].Select(x => x.Item));
            Assert.All(exact[r].Zip(ranked[r]), pair => AssertClose(pair.First.Score, pair.Second.Score));
        }
        Assert.Contains(ranked.SelectMany(r => r), x => x.Item >= vectors);   // added items reach the answers
    }

    [Fact]
    public void Approximate_hybrid_ranking_gives_items_added_after_training_the_same_uniform_term()
    {
        const int vectors = 30;
        var random = new Random(93);
        using var model = HeadModel(93, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(4, random, vectors);
        using var approximate = ApproximateDenseItems.Build([model], candidates: 8, normalizerSample: vectors);

        var exact = ItemRanker.Rank([model], sources, tables, Ids.Count, RankingMode.Hybrid);
        var ranked = ItemRanker.Rank([model], sources, tables, Ids.Count, RankingMode.Hybrid, approximate: approximate);

        for (var r = 0; r < sources.Count; r++)
        {
            Assert.Equal(exact[r].Select(x => x.Item), ranked[r].Select(x => x.Item));
            Assert.All(exact[r].Zip(ranked[r]), pair => AssertClose(pair.First.Score, pair.Second.Score));
        }
    }

    [Fact]
    public void A_sampled_normaliser_is_near_the_exact_one_and_leaves_each_requests_order_unchanged()
    {
        // The estimate shifts a request's log-probabilities by one constant, so the order is exact
        // whenever the index finds the true best items (it does at this size).
        var random = new Random(94);
        using var model = HeadModel(94);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(5, random);
        using var approximate = ApproximateDenseItems.Build([model], candidates: 10, normalizerSample: 12);

        var ranked = ItemRanker.Rank([model], sources, tables, 10, RankingMode.Dense, approximate: approximate);

        for (var r = 0; r < sources.Count; r++)
        {
            var dense = DenseLogProbs(model, sources[r]);
            Assert.Equal(Enumerable.Range(0, Ids.Count).OrderByDescending(i => dense[i]).ThenBy(i => i).Take(10), ranked[r].Select(x => x.Item));
            var shifts = ranked[r].Select(x => x.Score - dense[x.Item]).ToList();
            Assert.All(shifts, shift => Assert.Equal(shifts[0], shift, 3));
            // 9 or so sampled items stand for the 30 outside the candidates: close, not exact.
            Assert.InRange(shifts[0], -0.5, 0.5);
        }
    }

    [Fact]
    public void Approximate_dense_items_refuse_other_networks()
    {
        using var plain = HeadModel(95, denseHead: false);
        using var headed = HeadModel(96);
        using var other = HeadModel(97);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        int[][] sources = [[5, 6, 7]];
        Assert.Throws<ArgumentException>(() => ApproximateDenseItems.Build([plain]));
        using var approximate = ApproximateDenseItems.Build([headed]);
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([headed, other], sources, tables, 5, RankingMode.Dense, approximate: approximate));
    }

    [Theory]
    [InlineData(RankingMode.Dense)]
    [InlineData(RankingMode.Hybrid)]
    public void Items_added_with_vectors_from_their_text_are_scored_by_the_head_beside_the_trained_items(RankingMode mode)
    {
        // The network has vectors for the first 30 items; items 30-39 came later with projected vectors.
        const int vectors = 30;
        var random = new Random(98);
        using var model = HeadModel(98, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(5, random, vectors);
        using var added = torch.randn(Ids.Count - vectors, model.Config.DModel, generator: new torch.Generator(98)).Times(3.0);   // [10, d_model]

        var ranked = ItemRanker.Rank([model], sources, tables, Ids.Count, mode, addedVectors: added);

        for (var r = 0; r < sources.Count; r++)
        {
            var dense = DenseLogProbs(model, sources[r], added);
            Assert.Equal(Ids.Count, dense.Length);
            var sequence = mode == RankingMode.Dense ? null : SequenceLogProbs(model, sources[r]);
            var expected = Enumerable.Range(0, Ids.Count).ToDictionary(i => i, i => (sequence?[i] ?? 0) + (double)dense[i]);
            Assert.Equal(expected.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => p.Key), ranked[r].Select(x => x.Item));
            Assert.All(ranked[r], x => AssertClose(expected[x.Item], x.Score));
        }
        Assert.Contains(ranked.SelectMany(r => r.Take(5)), x => x.Item >= vectors);   // scaled-up added vectors reach the top
    }

    [Theory]
    [InlineData(RankingMode.Dense)]
    [InlineData(RankingMode.Hybrid)]
    public void A_boost_adds_to_the_added_items_dense_logits_before_the_softmax(RankingMode mode)
    {
        const int vectors = 30;
        const double boost = 2.5;
        var random = new Random(97);
        using var model = HeadModel(97, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(4, random, vectors);
        using var added = torch.randn(Ids.Count - vectors, model.Config.DModel, generator: new torch.Generator(97));   // [10, d_model]

        var plain = ItemRanker.Rank([model], sources, tables, Ids.Count, mode, addedVectors: added);
        var boosted = ItemRanker.Rank([model], sources, tables, Ids.Count, mode, addedVectors: added, addedBoost: boost);

        for (var r = 0; r < sources.Count; r++)
        {
            var dense = DenseLogProbs(model, sources[r], added, boost);
            var sequence = mode == RankingMode.Hybrid ? SequenceLogProbs(model, sources[r]) : null;
            var expected = Enumerable.Range(0, Ids.Count).ToDictionary(i => i, i => (sequence?[i] ?? 0) + (double)dense[i]);
            Assert.All(boosted[r], x => AssertClose(expected[x.Item], x.Score));
            // Added items move up against the trained ones.
            static double MeanRank(RankedItem[] ranked) => ranked.Select((x, rank) => (x, rank)).Where(p => p.x.Item >= vectors).Average(p => p.rank);
            Assert.True(MeanRank(boosted[r]) < MeanRank(plain[r]), $"request {r}: {MeanRank(boosted[r])} vs {MeanRank(plain[r])}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ItemRanker.Rank([model], sources, tables, 5, mode, addedVectors: added, addedBoost: double.NaN));
    }

    [Fact]
    public void Prefix_scoring_ranks_an_added_item_by_its_codes_and_a_uniform_counter_among_its_siblings()
    {
        const int vectors = 30;
        var random = new Random(99);
        using var model = HeadModel(99, vectors: vectors);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        var sources = Sources(5, random, vectors);
        using var added = torch.randn(Ids.Count - vectors, model.Config.DModel, generator: new torch.Generator(99));   // [10, d_model]
        var codes = Ids.Select(id => id[..^1]).ToList();
        var siblings = codes.Select(c => codes.Count(other => other.SequenceEqual(c))).ToArray();

        var ranked = ItemRanker.Rank([model], sources, tables, Ids.Count, RankingMode.Hybrid, addedVectors: added, addedSequence: NewItemSequence.Prefix);

        for (var r = 0; r < sources.Count; r++)
        {
            var dense = DenseLogProbs(model, sources[r], added);
            var full = SequenceLogProbs(model, sources[r]);
            var prefix = ConstrainedBeamSearchTests.ExactScores(model, sources[r], codes);
            // Trained items keep their full IDs' log-probabilities; added ones count their codes and one over their siblings.
            var expected = Enumerable.Range(0, Ids.Count).ToDictionary(i => i,
                i => (i < vectors ? full[i] : prefix[i] - Math.Log(siblings[i])) + (double)dense[i]);
            Assert.Equal(expected.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => p.Key), ranked[r].Select(x => x.Item));
            Assert.All(ranked[r], x => AssertClose(expected[x.Item], x.Score));
        }
        Assert.Contains(siblings.Skip(vectors), count => count > 1);   // the uniform counter is not always log 1
    }

    [Fact]
    public void Added_vectors_are_refused_for_ensembles_and_other_widths()
    {
        using var first = HeadModel(99, vectors: 30);
        using var second = HeadModel(100, vectors: 30);
        using var tables = new TrieTables(IdTrie.Build(Ids));
        using var approximate = ApproximateDenseItems.Build([first]);
        using var added = torch.zeros(10, first.Config.DModel);
        using var narrow = torch.zeros(10, 3);
        using var tooMany = torch.zeros(11, first.Config.DModel);
        int[][] sources = [[5, 6, 7]];
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([first, second], sources, tables, 5, RankingMode.Dense, addedVectors: added));
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([first], sources, tables, 5, RankingMode.Dense, addedVectors: narrow));
        Assert.Throws<ArgumentException>(() => ItemRanker.Rank([first], sources, tables, 5, RankingMode.Dense, addedVectors: tooMany));   // 41 vectors, 40 items
    }

    [Fact]
    public void Ranking_names_round_trip()
    {
        foreach (var mode in Enum.GetValues<RankingMode>())
            Assert.Equal(mode, RankingModes.Parse(RankingModes.Name(mode)));
        Assert.Null(RankingModes.Parse("sparse"));
        Assert.Equal("generative, dense, hybrid", RankingModes.NamesText);
    }
}
