using LMIndexer.Core.Recipes;
using LMIndexer.Core.Data;
using LMIndexer.Core.Generation;
using LMIndexer.Core.Indexing;
using LMIndexer.Core.Text;

namespace LMIndexer.Core.Downstream;

/// <summary>What the recommender reads about each history item (design §1: a CPU budget choice).</summary>
public enum SourceMode
{
    /// <summary>The reference: each item's full text.</summary>
    Text,

    /// <summary>Titles only — more history fits the source budget.</summary>
    Titles,

    /// <summary>The items' semantic ID tokens (as TIGER).</summary>
    Ids,

    /// <summary>ID tokens followed by the title, per item.</summary>
    IdsAndTitles,

    /// <summary>
    /// ID tokens followed by an item token (the item's own learned vector,
    /// <see cref="Model.T5Config.SourceItemCount"/>), per item: ID sources with SASRec's item-level memory.
    /// </summary>
    IdsAndItems,

    /// <summary>
    /// The item token alone, per item: no ID tokens and no text, as SASRec reads a history. The
    /// ablation that shows what reading the semantic IDs adds (the decoder still writes IDs).
    /// </summary>
    Items,
}

/// <summary>Options of <see cref="HistorySource"/>.</summary>
public sealed record HistorySourceOptions
{
    public SourceMode Mode { get; init; } = SourceMode.Titles;

    /// <summary>Source tokens in all, including <c>&lt;/s&gt;</c> (the reference uses 1,024).</summary>
    public int MaxSourceTokens { get; init; } = 128;

    /// <summary>Text tokens kept per history item.</summary>
    public int MaxItemTokens { get; init; } = 32;

    /// <summary>
    /// With <see cref="SourceMode.IdsAndItems"/>: how many of the ID table's items (the first, in its
    /// order) have item tokens — the model's <see cref="Model.T5Config.SourceItemCount"/>. Items that
    /// joined the table later are read by their ID tokens alone.
    /// </summary>
    public int ItemTokenCount { get; init; }

    /// <summary>Whether sources are built from ID tokens (so an item's start can be found in them).</summary>
    public static bool ReadsIds(SourceMode mode) => mode is SourceMode.Ids or SourceMode.IdsAndItems;

    /// <summary>Whether sources hold item tokens, so the network needs a vector per catalog item.</summary>
    public static bool ReadsItemTokens(SourceMode mode) => mode is SourceMode.IdsAndItems or SourceMode.Items;

    /// <summary>Whether sources hold no text at all, so a fresh network needs only the ID tokens' vocabulary.</summary>
    public static bool ReadsNoText(SourceMode mode) => ReadsIds(mode) || mode == SourceMode.Items;

    public static SourceMode ParseMode(string text) => text.ToLowerInvariant() switch
    {
        "text" => SourceMode.Text,
        "titles" => SourceMode.Titles,
        "ids" => SourceMode.Ids,
        "ids+titles" => SourceMode.IdsAndTitles,
        "ids+items" => SourceMode.IdsAndItems,
        "items" => SourceMode.Items,
        _ => throw new ArgumentException($"Unknown source '{text}'; expected text, titles, ids, ids+titles, ids+items or items."),
    };

    public static string ModeName(SourceMode mode) => mode switch
    {
        SourceMode.Text => "text",
        SourceMode.Titles => "titles",
        SourceMode.Ids => "ids",
        SourceMode.IdsAndItems => "ids+items",
        SourceMode.Items => "items",
        _ => "ids+titles",
    };

    /// <summary>
    /// Whether a recommender trained on these sources reads <paramref name="other"/>'s as it was
    /// trained to: the same options, or plain ID sources whose budget holds exactly the items of
    /// <paramref name="other"/>'s ID-and-item sources (it reads them without the item tokens, as
    /// ensembles decode). <paramref name="idLength"/>: tokens per ID.
    /// </summary>
    public bool Reads(HistorySourceOptions other, int idLength)
    {
        ArgumentNullException.ThrowIfNull(other);
        return this == other
            || (Mode == SourceMode.Ids && other.Mode == SourceMode.IdsAndItems
                && (long)(MaxSourceTokens - 1) * (idLength + 1) == (long)(other.MaxSourceTokens - 1) * idLength);
    }

    /// <summary>Every invalid field (camelCase names, as in recipe files).</summary>
    public IEnumerable<OptionError> Errors()
    {
        if (MaxSourceTokens < 2)
            yield return new("maxSourceTokens", $"The source budget must be at least 2 tokens, got {MaxSourceTokens}");
        if (MaxItemTokens < 1)
            yield return new("maxItemTokens", $"Tokens per item must be at least 1, got {MaxItemTokens}");
        if (ItemTokenCount < 0)
            yield return new("itemTokenCount", $"The item token count must not be negative, got {ItemTokenCount}");
    }

    public void Validate() => OptionErrors.ThrowIfAny(Errors());
}

public static class SourceModes
{
    /// <summary>Whether sources of this mode hold the items' text (title or more), not only their IDs.</summary>
    public static bool ReadsItemText(this SourceMode mode) => mode is SourceMode.Text or SourceMode.Titles or SourceMode.IdsAndTitles;
}

/// <summary>
/// Turns a user's history into source tokens as the reference does: items newest first, joined by
/// ". ", cut at the source budget, then <c>&lt;/s&gt;</c>. Item tokens are computed once per item.
/// </summary>
public sealed class HistorySource
{
    private readonly CatalogTokenizer tokenizer;
    private readonly IReadOnlyDictionary<string, CatalogItem> items;
    private readonly SemanticIdTable? table;
    private readonly int[] separator;
    private readonly Dictionary<string, int[]> cache = new(StringComparer.Ordinal);
    private readonly Lock gate = new();

    public HistorySource(CatalogTokenizer tokenizer, IReadOnlyDictionary<string, CatalogItem> items, SemanticIdTable? table, HistorySourceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Mode is SourceMode.Ids or SourceMode.IdsAndTitles or SourceMode.IdsAndItems or SourceMode.Items && table is null)
            throw new ArgumentException($"Source mode {options.Mode} needs the ID table.");
        this.tokenizer = tokenizer;
        this.items = items;
        this.table = table;
        Options = options;
        // A vocabulary without text has no ". " to join with, and needs none: each item's ID starts
        // with a first-position token, which marks the boundary by itself (as in TIGER's sources);
        // an items source is one token per item.
        separator = tokenizer.TextTokenCount == 0 || options.Mode == SourceMode.Items ? [] : tokenizer.Encode(". ");
    }

    public HistorySourceOptions Options { get; }

    /// <summary>Source tokens for a history given oldest first. Unknown items are skipped.</summary>
    public int[] Encode(IReadOnlyList<string> history) => Encode(history.Count, i => ItemTokens(history[i]));

    /// <summary>
    /// Source tokens for a history of catalog records given oldest first (serving: the user grain
    /// sends the records, so no catalog lookup is needed here).
    /// </summary>
    public int[] Encode(IReadOnlyList<CatalogItem> history) => Encode(history.Count, i => ItemTokens(history[i]));

    private int[] Encode(int count, Func<int, int[]> itemTokens)
    {
        var budget = Options.MaxSourceTokens - 1;
        var tokens = new List<int>(Options.MaxSourceTokens);
        for (var i = count - 1; i >= 0 && tokens.Count < budget; i--)
        {
            var item = itemTokens(i);
            if (item.Length == 0)
                continue;
            if (tokens.Count > 0)
                tokens.AddRange(separator);
            tokens.AddRange(item);
        }
        if (tokens.Count > budget)
            tokens.RemoveRange(budget, tokens.Count - budget);
        tokens.Add(CatalogTokenizer.EosId);
        return [.. tokens];
    }

    /// <summary>Source tokens for a free-text query (search and retrieval).</summary>
    public int[] EncodeQuery(string query) => tokenizer.EncodeWithEos(query, Options.MaxSourceTokens);

    private int[] ItemTokens(string itemId)
    {
        lock (gate)
        {
            if (cache.TryGetValue(itemId, out var cached))
                return cached;
        }
        if (items.TryGetValue(itemId, out var item))
            return ItemTokens(item);
        // An item's ID tokens need only its id; its text does need its record.
        return Options.Mode.ReadsItemText() ? Remember(itemId, []) : ItemTokens(new CatalogItem(itemId, null));
    }

    private int[] ItemTokens(CatalogItem item)
    {
        var itemId = item.ItemId;
        lock (gate)
        {
            if (cache.TryGetValue(itemId, out var cached))
                return cached;
        }
        var id = table?.Find(itemId);
        int[] tokens = Options.Mode switch
        {
            SourceMode.Text => tokenizer.Encode(ItemTextBuilder.Build(item), Options.MaxItemTokens),
            SourceMode.Titles => tokenizer.Encode(item.Title ?? ItemTextBuilder.Build(item), Options.MaxItemTokens),
            SourceMode.Ids => id is null ? [] : IdTrie.IdTokens(id, tokenizer),
            // The item token follows the ID: an item still starts at its first-position ID token,
            // which is where history dropout looks for item boundaries.
            SourceMode.IdsAndItems => id is null ? [] : [.. IdTrie.IdTokens(id, tokenizer), .. ItemToken(itemId)],
            SourceMode.Items => ItemToken(itemId),
            _ => id is null ? [] : [.. IdTrie.IdTokens(id, tokenizer), .. tokenizer.Encode(item.Title ?? "", Options.MaxItemTokens)],
        };
        return Remember(itemId, tokens);
    }

    /// <summary>The item's own token, above the vocabulary; none for items the model has no vector for.</summary>
    private int[] ItemToken(string itemId)
    {
        var index = table!.IndexOf(itemId);
        return index >= 0 && index < Options.ItemTokenCount ? [tokenizer.VocabSize + index] : [];
    }

    private int[] Remember(string itemId, int[] tokens)
    {
        lock (gate)
            cache[itemId] = tokens;
        return tokens;
    }
}
