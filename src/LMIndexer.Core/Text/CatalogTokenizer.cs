using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.ML.Tokenizers;

namespace LMIndexer.Core.Text;

/// <summary>
/// A subword encoding (cl100k BPE, or a pretrained encoder's WordPiece: <see cref="BaseEncoding"/>)
/// with its ids remapped onto a compact vocabulary of the tokens a catalog actually uses. A
/// 100k-row embedding would dominate a small model; a catalog uses a few thousand tokens.
/// Layout: <c>&lt;pad&gt;=0, &lt;/s&gt;=1, &lt;unk&gt;=2, &lt;mask&gt;=3</c>, then the corpus tokens, then one
/// contiguous range of <c>&lt;id_p_k&gt;</c> tokens per ID position p.
/// </summary>
public sealed class CatalogTokenizer
{
    public const int PadId = 0;
    public const int EosId = 1;
    public const int UnkId = 2;

    /// <summary>Stands for a removed span in denoising pretraining.</summary>
    public const int MaskId = 3;
    /// <summary>Ids below this are special tokens (pad, eos, unk, mask).</summary>
    public const int SpecialCount = 4;
    private const string FormatName = "lmindexer-catalog-tokenizer/2";

    // Neither base encoding emits more tokens than input characters; beyond this many
    // characters per wanted token the tail cannot survive truncation, so it is not encoded at all.
    private const int MaxCharsPerToken = 32;

    private readonly int[] baseIds;                 // compact - SpecialCount → base id
    private readonly Dictionary<int, int> toCompact; // base id → compact id
    private readonly int[] idPositionSizes;
    private readonly int[] idPositionOffsets;

    private CatalogTokenizer(BaseEncoding baseEncoding, int[] baseIds, int[] idPositionSizes)
    {
        Base = baseEncoding;
        this.baseIds = baseIds;
        this.idPositionSizes = idPositionSizes;
        toCompact = new Dictionary<int, int>(baseIds.Length);
        for (var i = 0; i < baseIds.Length; i++)
            toCompact[baseIds[i]] = i + SpecialCount;
        idPositionOffsets = new int[idPositionSizes.Length];
        var offset = SpecialCount + baseIds.Length;
        for (var p = 0; p < idPositionSizes.Length; p++)
        {
            idPositionOffsets[p] = offset;
            offset += idPositionSizes[p];
        }
        VocabSize = offset;
    }

    /// <summary>The subword encoding the text tokens come from.</summary>
    public BaseEncoding Base { get; }

    /// <summary>The base encoding's id of text token <paramref name="compactId"/>.</summary>
    public int BaseId(int compactId) => baseIds[compactId - SpecialCount];

    /// <summary>Rows the embedding needs: specials + text tokens + every ID token.</summary>
    public int VocabSize { get; }

    /// <summary>Number of text tokens (specials excluded).</summary>
    public int TextTokenCount => baseIds.Length;

    /// <summary>First id after the text tokens; ID tokens start here.</summary>
    public int FirstIdToken => SpecialCount + baseIds.Length;

    /// <summary>How many codes each ID position can hold.</summary>
    public IReadOnlyList<int> IdPositionSizes => idPositionSizes;

    /// <summary>
    /// Builds the vocabulary from a corpus: tokens seen at least <paramref name="minCount"/> times,
    /// most frequent first, at most <paramref name="maxTextTokens"/> of them.
    /// </summary>
    public static CatalogTokenizer Build(IEnumerable<string> corpus, IReadOnlyList<int> idPositionSizes, int minCount = 1, int maxTextTokens = int.MaxValue, BaseEncoding? baseEncoding = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ValidateIdSizes(idPositionSizes);
        baseEncoding ??= BaseEncoding.Cl100k;
        var counts = new Dictionary<int, int>();
        foreach (var text in corpus)
        {
            foreach (var id in baseEncoding.EncodeToIds(text ?? string.Empty))
                counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        var kept = counts.Where(kv => kv.Value >= minCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key)
            .Take(maxTextTokens).Select(kv => kv.Key).ToArray();
        return new CatalogTokenizer(baseEncoding, kept, [.. idPositionSizes]);
    }

    /// <summary>A copy with other ID position sizes (e.g. a counter range grown to fit a large group).</summary>
    public CatalogTokenizer WithIdPositions(IReadOnlyList<int> sizes)
    {
        ValidateIdSizes(sizes);
        return new CatalogTokenizer(Base, baseIds, [.. sizes]);
    }

    /// <summary>
    /// A copy with the specials and the ID tokens only, for a network that reads and writes nothing
    /// but IDs: without the text rows, most of a catalog model's vocabulary, the tied LM head and the
    /// embedding's optimizer state shrink many times (docs/decisions/006-ids-only-vocabulary.md).
    /// </summary>
    public CatalogTokenizer WithoutText() => new(Base, [], idPositionSizes);

    /// <summary>Text → compact ids, without <c>&lt;/s&gt;</c>, at most <paramref name="maxTokens"/>.</summary>
    public int[] Encode(string text, int maxTokens = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (maxTokens <= 0)
            return [];
        var budget = (long)maxTokens * MaxCharsPerToken;
        if (text.Length > budget)
            text = text[..(int)budget];
        var ids = Base.EncodeToIds(text);
        var count = Math.Min(ids.Count, maxTokens);
        var result = new int[count];
        for (var i = 0; i < count; i++)
            result[i] = toCompact.TryGetValue(ids[i], out var c) ? c : UnkId;
        return result;
    }

    /// <summary>Text → ids followed by <c>&lt;/s&gt;</c>, the whole at most <paramref name="maxTokens"/> long.</summary>
    public int[] EncodeWithEos(string text, int maxTokens)
    {
        var body = Encode(text, maxTokens - 1);
        var result = new int[body.Length + 1];
        body.CopyTo(result, 0);
        result[^1] = EosId;
        return result;
    }

    /// <summary>Compact ids → text. Specials are dropped; unknown text tokens read <c>&lt;unk&gt;</c>; ID tokens read <c>&lt;id_p_k&gt;</c>.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var builder = new System.Text.StringBuilder();
        var run = new List<int>();
        void Flush()
        {
            if (run.Count == 0)
                return;
            builder.Append(Base.Decode(run));
            run.Clear();
        }
        foreach (var id in ids)
        {
            if (id >= SpecialCount && id < FirstIdToken)
            {
                run.Add(baseIds[id - SpecialCount]);
                continue;
            }
            Flush();
            if (id == UnkId)
                builder.Append("<unk>");
            else if (id == MaskId)
                builder.Append("<mask>");
            else if (TryParseIdToken(id, out var position, out var code))
                builder.Append(IdTokenText(position, code));
        }
        Flush();
        return builder.ToString();
    }

    /// <summary>The vocabulary id of <c>&lt;id_position_code&gt;</c>.</summary>
    public int IdToken(int position, int code)
    {
        if ((uint)position >= (uint)idPositionSizes.Length)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"The tokenizer has {idPositionSizes.Length} ID positions.");
        if ((uint)code >= (uint)idPositionSizes[position])
            throw new ArgumentOutOfRangeException(nameof(code), code, $"ID position {position} holds codes below {idPositionSizes[position]}.");
        return idPositionOffsets[position] + code;
    }

    /// <summary>The first vocabulary id of ID position <paramref name="position"/>.</summary>
    public int IdTokenOffset(int position) => idPositionOffsets[position];

    /// <summary>Whether <paramref name="tokenId"/> is an ID token, and which.</summary>
    public bool TryParseIdToken(int tokenId, out int position, out int code)
    {
        for (var p = 0; p < idPositionSizes.Length; p++)
        {
            var start = idPositionOffsets[p];
            if (tokenId >= start && tokenId < start + idPositionSizes[p])
            {
                position = p;
                code = tokenId - start;
                return true;
            }
        }
        position = code = -1;
        return false;
    }

    public static string IdTokenText(int position, int code) => $"<id_{position}_{code}>";

    /// <summary>Writes the vocabulary as JSON.</summary>
    public void Save(string path)
    {
        var file = new TokenizerFile(FormatName, Base.Name, baseIds, idPositionSizes);
        File.WriteAllText(path, JsonSerializer.Serialize(file, TokenizerJson.Default.TokenizerFile));
    }

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    public static CatalogTokenizer Load(string path)
    {
        var file = JsonSerializer.Deserialize(File.ReadAllText(path), TokenizerJson.Default.TokenizerFile)
            ?? throw new InvalidDataException($"{path}: empty tokenizer file.");
        if (file.Format != FormatName)
            throw new InvalidDataException($"{path}: unsupported tokenizer format '{file.Format}', expected '{FormatName}'.");
        BaseEncoding baseEncoding;
        try
        {
            baseEncoding = BaseEncoding.Named(file.Base);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        ValidateIdSizes(file.IdPositionSizes);
        return new CatalogTokenizer(baseEncoding, file.BaseTokenIds, file.IdPositionSizes);
    }

    private static void ValidateIdSizes(IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Any(s => s <= 0))
            throw new ArgumentException("Every ID position needs at least one code.", nameof(sizes));
    }

    internal sealed record TokenizerFile(string Format, string Base, int[] BaseTokenIds, int[] IdPositionSizes);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(CatalogTokenizer.TokenizerFile))]
internal sealed partial class TokenizerJson : JsonSerializerContext;
