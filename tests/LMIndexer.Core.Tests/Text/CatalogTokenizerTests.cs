using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Text;

public sealed class CatalogTokenizerTests
{
    private static readonly string[] Corpus =
    [
        "title: Crème brûlée lip balm, brand: Société, price: 12.5, category: Makeup, Lips",
        "title: Ünïcödé façade serum 🌸✨, brand: Zoë, category: Skin Care, Serums",
        "title: 日本の化粧水, description: 保湿 lotion, category: Skin Care",
        "title: Plain shampoo for everyday use, category: Hair Care, Shampoo",
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Round_trips_text_with_accents_emoji_and_cjk(int index)
    {
        var tokenizer = CatalogTokenizer.Build(Corpus, [8, 8, 4]);
        var ids = tokenizer.Encode(Corpus[index]);
        Assert.DoesNotContain(CatalogTokenizer.UnkId, ids);
        Assert.All(ids, id => Assert.InRange(id, 4, tokenizer.FirstIdToken - 1));
        Assert.Equal(Corpus[index], tokenizer.Decode(ids));
    }

    [Fact]
    public void Unknown_tokens_become_unk_and_vocabulary_is_compact()
    {
        var tokenizer = CatalogTokenizer.Build(Corpus, [8]);
        Assert.True(tokenizer.VocabSize < 200, $"vocabulary of {tokenizer.VocabSize} is not compact");
        var ids = tokenizer.Encode("quantum chromodynamics");
        Assert.Contains(CatalogTokenizer.UnkId, ids);
        Assert.Contains("<unk>", tokenizer.Decode(ids), StringComparison.Ordinal);
    }

    [Fact]
    public void Very_long_input_is_truncated_quickly()
    {
        const string Unit = "title: Plain shampoo for everyday use, ";
        var tokenizer = CatalogTokenizer.Build([Unit + Unit], [8]);
        var huge = string.Concat(Enumerable.Repeat(Unit, 200_000)); // ~8M chars
        var ids = tokenizer.EncodeWithEos(huge, 128);
        Assert.Equal(128, ids.Length);
        Assert.Equal(CatalogTokenizer.EosId, ids[^1]);
        Assert.StartsWith("title: Plain shampoo for everyday use, title:", tokenizer.Decode(ids), StringComparison.Ordinal);
        Assert.DoesNotContain(CatalogTokenizer.UnkId, ids);
    }

    [Fact]
    public void Id_tokens_occupy_one_range_per_position()
    {
        var tokenizer = CatalogTokenizer.Build(Corpus, [8, 16, 4]);
        Assert.Equal(tokenizer.FirstIdToken, tokenizer.IdToken(0, 0));
        Assert.Equal(tokenizer.FirstIdToken + 8, tokenizer.IdToken(1, 0));
        Assert.Equal(tokenizer.FirstIdToken + 8 + 16 + 3, tokenizer.IdToken(2, 3));
        Assert.Equal(tokenizer.VocabSize, tokenizer.FirstIdToken + 28);
        Assert.True(tokenizer.TryParseIdToken(tokenizer.IdToken(1, 15), out var p, out var c));
        Assert.Equal((1, 15), (p, c));
        Assert.Equal("<id_0_5><id_1_2>", tokenizer.Decode([tokenizer.IdToken(0, 5), tokenizer.IdToken(1, 2), CatalogTokenizer.EosId]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.IdToken(1, 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.IdToken(3, 0));
    }

    [Fact]
    public void Save_and_load_keep_every_id()
    {
        using var temp = new TempDirectory();
        var tokenizer = CatalogTokenizer.Build(Corpus, [8, 8, 6]);
        tokenizer.Save(temp.File("tokenizer.json"));
        var loaded = CatalogTokenizer.Load(temp.File("tokenizer.json"));
        Assert.Equal(tokenizer.VocabSize, loaded.VocabSize);
        foreach (var text in Corpus)
            Assert.Equal(tokenizer.Encode(text), loaded.Encode(text));
        Assert.Equal(tokenizer.IdToken(2, 5), loaded.IdToken(2, 5));
    }

    [Fact]
    public void Rejects_files_of_another_format()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("bad.json"), """{"format":"something-else","base":"cl100k_base","baseTokenIds":[],"idPositionSizes":[4]}""");
        var error = Assert.Throws<InvalidDataException>(() => CatalogTokenizer.Load(temp.File("bad.json")));
        Assert.Contains("unsupported tokenizer format", error.Message, StringComparison.Ordinal);
    }
}
