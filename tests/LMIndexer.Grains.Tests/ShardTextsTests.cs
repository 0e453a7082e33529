using LMIndexer.Abstractions;
using LMIndexer.Grains.Search;

namespace LMIndexer.Grains.Tests;

/// <summary>A search shard's texts: what is indexed again, and which embedded vectors are still current.</summary>
public sealed class ShardTextsTests
{
    private static ItemRecord Item(string id, string title, string? brand = null) => new(id, title, Brand: brand);

    private static string[] Found(ShardTexts texts, string word) => [.. texts.Lexical.Search([word], 10).Select(h => h.Key)];

    private static float[] Vector(float x) => [x, 1 - x];

    [Fact]
    public void A_new_item_is_searchable_by_its_words_and_waits_for_its_vector()
    {
        var texts = new ShardTexts(dense: true);

        texts.Index([Item("a", "Lavender shampoo"), Item("b", "Cherry lipstick")]);

        Assert.Equal(2, texts.Count);
        Assert.Equal(["a"], Found(texts, "shampoo"));
        Assert.Equal(["b"], Found(texts, "lipstick"));
        Assert.Equal(2, texts.PendingCount);
        Assert.Equal(["a", "b"], texts.Pending().Select(p => p.Key).Order());
        // Taking the batch does not stop it waiting: only accepted vectors do.
        Assert.Equal(2, texts.PendingCount);
    }

    [Fact]
    public void The_same_text_again_costs_no_new_vector()
    {
        var texts = new ShardTexts(dense: true);
        texts.Index([Item("a", "Lavender shampoo")]);
        var batch = texts.Pending();
        texts.Accept(batch, [Vector(0.1f)]);

        texts.Index([Item("a", "Lavender shampoo")]);

        Assert.Equal(0, texts.PendingCount);
        Assert.Equal(1, texts.Count);
    }

    [Fact]
    public void A_changed_text_replaces_the_old_words_and_waits_for_a_new_vector()
    {
        var texts = new ShardTexts(dense: true);
        texts.Index([Item("a", "Lavender shampoo")]);
        texts.Accept(texts.Pending(), [Vector(0.1f)]);

        texts.Index([Item("a", "Lavender conditioner")]);

        Assert.Empty(Found(texts, "shampoo"));
        Assert.Equal(["a"], Found(texts, "conditioner"));
        var waiting = Assert.Single(texts.Pending());
        Assert.Equal("a", waiting.Key);
        Assert.Contains("conditioner", waiting.Value);
        Assert.Equal(1, texts.Count);
    }

    [Fact]
    public void Without_dense_search_no_text_waits_for_a_vector()
    {
        var texts = new ShardTexts(dense: false);

        texts.Index([Item("a", "Lavender shampoo")]);

        Assert.Equal(0, texts.PendingCount);
        Assert.Empty(texts.Pending());
        Assert.Equal(["a"], Found(texts, "shampoo"));
    }

    [Fact]
    public void A_vector_embedded_from_a_text_changed_meanwhile_is_dropped_and_the_new_text_keeps_waiting()
    {
        var texts = new ShardTexts(dense: true);
        texts.Index([Item("a", "Lavender shampoo"), Item("b", "Cherry lipstick")]);
        var batch = texts.Pending().OrderBy(p => p.Key, StringComparer.Ordinal).ToList();

        // While the batch embeds, a's text changes.
        texts.Index([Item("a", "Rose shampoo")]);
        var accepted = texts.Accept(batch, [Vector(0.1f), Vector(0.2f)]);

        var (id, vector) = Assert.Single(accepted);
        Assert.Equal("b", id);
        Assert.Equal(Vector(0.2f), vector);
        var waiting = Assert.Single(texts.Pending());
        Assert.Equal("a", waiting.Key);
        Assert.Contains("Rose", waiting.Value);
    }

    [Fact]
    public void A_batch_accepted_twice_gives_its_vectors_once()
    {
        var texts = new ShardTexts(dense: true);
        texts.Index([Item("a", "Lavender shampoo")]);
        var batch = texts.Pending();

        Assert.Single(texts.Accept(batch, [Vector(0.1f)]));
        Assert.Empty(texts.Accept(batch, [Vector(0.1f)]));
    }

    [Fact]
    public void Vectors_that_do_not_match_the_batch_are_refused()
    {
        var texts = new ShardTexts(dense: true);
        texts.Index([Item("a", "Lavender shampoo")]);

        var error = Assert.Throws<ArgumentException>(() => texts.Accept(texts.Pending(), []));

        Assert.Contains("0 vectors for a batch of 1", error.Message);
        Assert.Equal(1, texts.PendingCount);
        Assert.Throws<ArgumentNullException>(() => texts.Index(null!));
        Assert.Throws<ArgumentNullException>(() => texts.Accept(null!, []));
        Assert.Throws<ArgumentNullException>(() => texts.Accept([], null!));
    }
}
