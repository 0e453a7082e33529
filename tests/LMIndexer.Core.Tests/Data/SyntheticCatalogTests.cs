using LMIndexer.Core.Data;
using LMIndexer.Core.Data.Synthetic;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Tests.Data;

public sealed class SyntheticCatalogTests
{
    private static readonly SyntheticCatalogOptions Small = new() { Items = 300, Users = 400, Seed = 9 };

    [Fact]
    public void Same_seed_gives_the_same_catalog_and_another_seed_does_not()
    {
        var a = SyntheticCatalogGenerator.Generate(Small);
        var b = SyntheticCatalogGenerator.Generate(Small);
        var c = SyntheticCatalogGenerator.Generate(Small with { Seed = 10 });
        Assert.Equal(a.Items, b.Items, ItemComparer.Instance);
        Assert.Equal(a.Users.Select(u => string.Join(' ', u.ItemIds)), b.Users.Select(u => string.Join(' ', u.ItemIds)));
        Assert.NotEqual(a.Users.Select(u => string.Join(' ', u.ItemIds)), c.Users.Select(u => string.Join(' ', u.ItemIds)));
    }

    [Fact]
    public void Items_have_every_field_and_sequences_respect_lengths()
    {
        var catalog = SyntheticCatalogGenerator.Generate(Small);
        Assert.Equal(300, catalog.Items.Count);
        Assert.Equal(300, catalog.Items.Select(i => i.ItemId).Distinct().Count());
        Assert.All(catalog.Items, i =>
        {
            Assert.False(string.IsNullOrWhiteSpace(i.Title));
            Assert.False(string.IsNullOrWhiteSpace(i.Brand));
            Assert.Contains(i.Brand!, i.Title!, StringComparison.Ordinal);
            Assert.True(i.Price > 0);
            Assert.Equal(2, i.PrimaryCategoryPath.Count);
        });
        var ids = catalog.Items.Select(i => i.ItemId).ToHashSet();
        Assert.All(catalog.Users, u =>
        {
            Assert.InRange(u.ItemIds.Count, Small.MinSequenceLength, Small.MaxSequenceLength);
            Assert.All(u.ItemIds, id => Assert.Contains(id, ids));
        });
    }

    [Fact]
    public void Next_items_follow_the_previous_department_far_more_than_chance()
    {
        var catalog = SyntheticCatalogGenerator.Generate(Small);
        var department = catalog.Items.ToDictionary(i => i.ItemId, i => i.PrimaryCategoryPath[0]);
        var pairs = catalog.Users.SelectMany(u => u.ItemIds.Zip(u.ItemIds.Skip(1))).ToList();
        var same = pairs.Count(p => department[p.First] == department[p.Second]) / (double)pairs.Count;
        var shares = catalog.Items.GroupBy(i => i.PrimaryCategoryPath[0]).Select(g => (double)g.Count() / catalog.Items.Count);
        var chance = shares.Sum(s => s * s);
        Assert.True(same > chance + 0.4, $"same-department transitions {same:P0} vs chance {chance:P0}");
    }

    [Fact]
    public void Item_text_follows_the_reference_field_order()
    {
        var item = new CatalogItem("P1", "Glow serum", "Light and fast", "Lumi", 12.5m, [["Skin Care", "Serums"]]);
        Assert.Equal("title: Glow serum, description: Light and fast, brand: Lumi, price: 12.5, category: Skin Care, Serums", ItemTextBuilder.Build(item));
        Assert.Equal("title: Only title", ItemTextBuilder.Build(new CatalogItem("P2", "Only title")));
    }

    [Fact]
    public void Catalog_files_round_trip()
    {
        using var temp = new TempDirectory();
        var catalog = SyntheticCatalogGenerator.Generate(Small with { Items = 50, Users = 20 });
        CatalogFiles.Save(temp.Path, catalog);
        var loaded = CatalogFiles.Load(temp.Path);
        Assert.Equal(catalog.Items, loaded.Items, ItemComparer.Instance);
        Assert.Equal(catalog.Users.Select(u => (u.UserId, string.Join(' ', u.ItemIds))), loaded.Users.Select(u => (u.UserId, string.Join(' ', u.ItemIds))));
    }

    [Fact]
    public void A_catalog_write_that_stops_before_completing_leaves_the_previous_catalog_and_no_temporary_files()
    {
        using var temp = new TempDirectory();
        var previous = SyntheticCatalogGenerator.Generate(Small with { Items = 20, Users = 5 });
        CatalogFiles.Save(temp.Path, previous);

        using (var writer = new CatalogWriter(temp.Path))
        {
            foreach (var item in SyntheticCatalogGenerator.Generate(Small with { Items = 40, Users = 9, Seed = 3 }).Items)
                writer.Add(item);
        }   // disposed without Complete: the generator threw, or the process is stopping

        var loaded = CatalogFiles.Load(temp.Path);
        Assert.Equal(previous.Items, loaded.Items, ItemComparer.Instance);
        Assert.Equal(5, loaded.Users.Count);
        Assert.Equal([CatalogFiles.ItemsFile, CatalogFiles.SequencesFile], Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Streamed_users_only_name_items_streamed_before_them_and_ids_keep_their_width_past_a_million()
    {
        var seenItems = new HashSet<string>();
        var users = 0;
        SyntheticCatalogGenerator.Write(Small, item => Assert.True(seenItems.Add(item.ItemId)), user =>
        {
            users++;
            Assert.All(user.ItemIds, id => Assert.Contains(id, seenItems));
        });
        Assert.Equal(Small.Users, users);
        Assert.Equal("P000007", SyntheticCatalogGenerator.ItemId(7));
        Assert.Equal("P1000000", SyntheticCatalogGenerator.ItemId(1_000_000));
        Assert.Equal("U1000000", SyntheticCatalogGenerator.UserId(1_000_000));
    }

    [Fact]
    public void Bad_item_lines_are_reported_with_their_line_number()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File(CatalogFiles.ItemsFile), "{\"item_id\":\"a\",\"title\":\"x\"}\n{not json}\n");
        var error = Assert.Throws<InvalidDataException>(() => CatalogFiles.ReadItems(temp.File(CatalogFiles.ItemsFile)));
        Assert.Contains(":2:", error.Message, StringComparison.Ordinal);
    }

    private sealed class ItemComparer : IEqualityComparer<CatalogItem>
    {
        public static readonly ItemComparer Instance = new();

        public bool Equals(CatalogItem? x, CatalogItem? y) =>
            x is not null && y is not null && ItemTextBuilder.Build(x) == ItemTextBuilder.Build(y) && x.ItemId == y.ItemId;

        public int GetHashCode(CatalogItem obj) => obj.ItemId.GetHashCode(StringComparison.Ordinal);
    }
}
