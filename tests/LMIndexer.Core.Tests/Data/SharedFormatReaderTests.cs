using LMIndexer.Core.Data;

namespace LMIndexer.Core.Tests.Data;

/// <summary>Readers for the formats of ../shared/data, exercised on small files written here.</summary>
public sealed class SharedFormatReaderTests
{
    [Fact]
    public void Reads_amazon_items_with_optional_fields_and_several_paths()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("items.jsonl"),
            """
            {"item_id": "B001", "index": 1, "title": "Lip gloss", "brand": "Glam", "categories": [["Makeup", "Lips"], ["Sale"]]}
            {"item_id": "B002", "index": 2, "categories": [["Skin Care"]]}
            """);
        File.WriteAllText(temp.File("sequences.tsv"), "u1\tB001 B002 B001\nu2\tB002\n");
        var catalog = CatalogFiles.Load(temp.Path);
        Assert.Equal(2, catalog.Items.Count);
        Assert.Equal("Makeup, Lips", catalog.Items[0].CategoryLabel());
        Assert.Equal("Makeup", catalog.Items[0].CategoryLabel(1));
        Assert.Null(catalog.Items[1].Title);
        Assert.Equal(["B001", "B002", "B001"], catalog.Users[0].ItemIds);
        Assert.Equal(4, catalog.InteractionCount);
    }

    [Fact]
    public void Reads_numeric_s3rec_sequences_and_attributes()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("sequences.tsv"), "1\t3 4 5\n2\t5 6\n");
        File.WriteAllText(temp.File("item_attributes.jsonl"), "{\"item_id\": 3, \"attributes\": [10, 11]}\n{\"item_id\": 5, \"attributes\": []}\n");
        var data = NumericSequenceDataset.Load(temp.Path);
        Assert.Equal(2, data.Users.Count);
        Assert.Equal([10L, 11L], data.ItemAttributes["3"]);
        Assert.Empty(data.ItemAttributes["5"]);
    }

    [Fact]
    public void Reads_cranfield_style_corpora_with_graded_qrels()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("docs.jsonl"), "{\"id\": 1, \"title\": \"flow\", \"text\": \"boundary layer\"}\n{\"id\": \"2\", \"title\": null, \"text\": \"heat\"}\n");
        File.WriteAllText(temp.File("queries.jsonl"), "{\"id\": 1, \"text\": \"what is a boundary layer\"}\n{\"id\": 2, \"text\": \"no answers\"}\n");
        File.WriteAllText(temp.File("qrels.tsv"), "1\t1\t2\n1\t2\t4\n");
        var corpus = RetrievalCorpus.Load(temp.Path);
        Assert.Equal(["1", "2"], corpus.Documents.Select(d => d.Id));
        Assert.Equal(2, corpus.Queries[0].Relevant.Count);
        Assert.Equal(4, corpus.Queries[0].Relevant["2"]);
        Assert.Empty(corpus.Queries[1].Relevant);
    }

    [Fact]
    public void Malformed_qrels_are_reported()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("docs.jsonl"), "{\"id\": 1, \"text\": \"x\"}\n");
        File.WriteAllText(temp.File("queries.jsonl"), "{\"id\": 1, \"text\": \"q\"}\n");
        File.WriteAllText(temp.File("qrels.tsv"), "1 1 2\n");
        var error = Assert.Throws<InvalidDataException>(() => RetrievalCorpus.Load(temp.Path));
        Assert.Contains("qrels.tsv:1", error.Message, StringComparison.Ordinal);
    }
}
