using LMIndexer.Core.Model;
using LMIndexer.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace LMIndexer.Core.Downstream;

/// <summary>Where a fresh network's item vectors (<see cref="SourceMode.IdsAndItems"/>) start.</summary>
public enum ItemVectorInit
{
    /// <summary>N(0, 1), the scale of the token vectors beside them (T5's initialisation).</summary>
    Random,

    /// <summary>
    /// The mean of the item's learned ID-token vectors (the counter left out): an item starts where
    /// its ID puts it, and colliding items start together. A random vector is noise in the source
    /// until training has moved it, and an item seen rarely is moved little.
    /// </summary>
    Ids,

    /// <summary>Zero: an item vector starts as no signal at all and grows only where training needs it.</summary>
    Zero,
}

/// <summary>Sets a fresh network's item vectors as an <see cref="ItemVectorInit"/> says.</summary>
public static class ItemVectorInitializer
{
    /// <summary>The option's spelling on the command line and in serving manifests.</summary>
    public static string Name(ItemVectorInit init) => OptionSpelling.Name(init);

    /// <summary>Parses <see cref="Name"/>'s spelling; null for an unknown one.</summary>
    public static ItemVectorInit? Parse(string name) => OptionSpelling.Parse<ItemVectorInit>(name);

    /// <summary>
    /// Overwrites <paramref name="model"/>'s item vectors. <paramref name="idTokens"/> holds each
    /// item's ID tokens in item-token order (the ID table's), the counter last.
    /// </summary>
    public static void Apply(T5Model model, IReadOnlyList<int[]> idTokens, ItemVectorInit init)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(idTokens);
        if (init == ItemVectorInit.Random)
            return;
        var items = model.SourceItems?.weight ?? throw new ArgumentException("The network has no item vectors (source ids+items).", nameof(model));
        if (idTokens.Count != items.shape[0])
            throw new ArgumentException($"{idTokens.Count} IDs for {items.shape[0]} item vectors.", nameof(idTokens));
        using var noGrad = torch.no_grad();
        if (init == ItemVectorInit.Zero)
        {
            items.zero_();
            return;
        }
        // The counter only tells colliding items apart; its token carries no meaning of its own.
        var learned = idTokens.Count == 0 ? 0 : idTokens[0].Length - 1;
        if (learned < 1)
            throw new ArgumentException("Item vectors from IDs need at least one learned ID position.", nameof(idTokens));
        var flat = new long[idTokens.Count * learned];
        for (var item = 0; item < idTokens.Count; item++)
        {
            if (idTokens[item].Length != learned + 1)
                throw new ArgumentException($"Item {item} has an ID of {idTokens[item].Length} tokens, not {learned + 1}.", nameof(idTokens));
            for (var p = 0; p < learned; p++)
                flat[(item * learned) + p] = idTokens[item][p];
        }
        using var tokens = torch.tensor(flat, device: items.device);
        using var rows = model.Shared.weight!.index_select(0, tokens);      // [items·learned, d_model]
        using var perItem = rows.reshape(idTokens.Count, learned, -1);        // [items, learned, d_model]
        using var mean = perItem.mean([1]);                                   // [items, d_model]
        items.copy_(mean);
    }
}
