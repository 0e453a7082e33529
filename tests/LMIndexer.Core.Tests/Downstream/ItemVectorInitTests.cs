using LMIndexer.Core.Downstream;
using LMIndexer.Core.Model;
using TorchSharp;

namespace LMIndexer.Core.Tests.Downstream;

public sealed class ItemVectorInitTests
{
    // Three items; the first two collide on their learned codes (10, 30) and differ in the counter.
    private static readonly int[][] IdTokens = [[10, 30, 40], [10, 30, 41], [12, 33, 40]];

    private static T5Model Model() => new(T5Config.Tiny(vocabSize: 50) with { SourceItemCount = IdTokens.Length });

    private static float[] Row(torch.Tensor weight, long row) => weight[row].detach().data<float>().ToArray();

    [Fact]
    public void Ids_start_each_item_at_the_mean_of_its_learned_id_token_vectors_the_counter_left_out()
    {
        using var model = Model();
        ItemVectorInitializer.Apply(model, IdTokens, ItemVectorInit.Ids);

        var items = model.SourceItems!.weight!;
        var shared = model.Shared.weight!;
        for (var item = 0; item < IdTokens.Length; item++)
        {
            var first = Row(shared, IdTokens[item][0]);
            var second = Row(shared, IdTokens[item][1]);
            var expected = first.Zip(second, (a, b) => (a + b) / 2).ToArray();
            Assert.Equal(expected, Row(items, item), (a, b) => Math.Abs(a - b) < 1e-6f);
        }
        // Items that collide on their learned codes start together; the counter does not part them.
        Assert.Equal(Row(items, 0), Row(items, 1));
        Assert.NotEqual(Row(items, 0), Row(items, 2));
    }

    [Fact]
    public void Zero_clears_the_item_vectors_and_random_keeps_the_seeded_draw()
    {
        using var zeroed = Model();
        ItemVectorInitializer.Apply(zeroed, IdTokens, ItemVectorInit.Zero);
        Assert.Equal(0f, zeroed.SourceItems!.weight!.abs().max().item<float>());

        using var drawn = Model();
        using var before = drawn.SourceItems!.weight!.detach().clone();
        ItemVectorInitializer.Apply(drawn, IdTokens, ItemVectorInit.Random);
        Assert.Equal(before.data<float>().ToArray(), drawn.SourceItems.weight!.detach().data<float>().ToArray());
        Assert.True(before.abs().max().item<float>() > 0.5f, "N(0, 1) draws");
    }

    [Fact]
    public void Mismatched_ids_and_networks_without_item_vectors_are_refused()
    {
        using var model = Model();
        Assert.Throws<ArgumentException>(() => ItemVectorInitializer.Apply(model, IdTokens[..2], ItemVectorInit.Ids));
        Assert.Throws<ArgumentException>(() => ItemVectorInitializer.Apply(model, [[10, 30, 40], [10, 40], [12, 33, 40]], ItemVectorInit.Ids));
        using var plain = new T5Model(T5Config.Tiny(vocabSize: 50));
        Assert.Throws<ArgumentException>(() => ItemVectorInitializer.Apply(plain, IdTokens, ItemVectorInit.Zero));
    }

    [Fact]
    public void Names_round_trip_and_unknown_names_parse_to_null()
    {
        foreach (var init in Enum.GetValues<ItemVectorInit>())
            Assert.Equal(init, ItemVectorInitializer.Parse(ItemVectorInitializer.Name(init)));
        Assert.Equal(["random", "ids", "zero"], Enum.GetValues<ItemVectorInit>().Select(ItemVectorInitializer.Name));
        Assert.Null(ItemVectorInitializer.Parse("mean"));
    }
}
