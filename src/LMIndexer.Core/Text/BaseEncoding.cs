using System.Collections.Concurrent;
using LMIndexer.Core.Encoders;
using Microsoft.ML.Tokenizers;

namespace LMIndexer.Core.Text;

/// <summary>
/// The subword encoding under a <see cref="CatalogTokenizer"/>: cl100k for the scratch T5, or a
/// pretrained encoder's WordPiece vocabulary, so that a catalog's compact ids map back to the
/// pretrained model's own token ids.
/// </summary>
public abstract class BaseEncoding
{
    /// <summary>The name written into tokenizer files (<c>cl100k_base</c>, <c>wordpiece:minilm</c>).</summary>
    public abstract string Name { get; }

    public abstract IReadOnlyList<int> EncodeToIds(string text);

    public abstract string Decode(IEnumerable<int> ids);

    private const string WordPiecePrefix = "wordpiece:";
    private static readonly ConcurrentDictionary<string, BaseEncoding> Loaded = new(StringComparer.Ordinal);

    public static BaseEncoding Cl100k => Named(Cl100kEncoding.EncodingName);

    /// <summary>The WordPiece vocabulary of a packaged pretrained encoder.</summary>
    public static BaseEncoding WordPiece(PretrainedEncoderPackage package) => Named(WordPiecePrefix + package.Name);

    /// <exception cref="InvalidDataException">No encoding has that name.</exception>
    public static BaseEncoding Named(string name) => Loaded.GetOrAdd(name, static n =>
        n == Cl100kEncoding.EncodingName ? new Cl100kEncoding()
        : n.StartsWith(WordPiecePrefix, StringComparison.Ordinal) && PretrainedEncoderPackage.All.FirstOrDefault(p => p.Name == n[WordPiecePrefix.Length..]) is { } package
            ? new WordPieceEncoding(package)
            : throw new InvalidDataException($"Unknown base encoding '{n}'; expected {Cl100kEncoding.EncodingName} or {string.Join(", ", PretrainedEncoderPackage.All.Select(p => WordPiecePrefix + p.Name))}."));

    private sealed class Cl100kEncoding : BaseEncoding
    {
        public const string EncodingName = "cl100k_base";
        private readonly TiktokenTokenizer tokenizer = TiktokenTokenizer.CreateForEncoding("cl100k_base");

        public override string Name => EncodingName;

        public override IReadOnlyList<int> EncodeToIds(string text) => tokenizer.EncodeToIds(text);

        public override string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids);
    }

    private sealed class WordPieceEncoding(PretrainedEncoderPackage package) : BaseEncoding
    {
        private readonly BertTokenizer tokenizer = CreateTokenizer(package);

        public override string Name => WordPiecePrefix + package.Name;

        public override IReadOnlyList<int> EncodeToIds(string text) =>
            tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);

        public override string Decode(IEnumerable<int> ids) => tokenizer.Decode(ids) ?? "";

        private static BertTokenizer CreateTokenizer(PretrainedEncoderPackage package)
        {
            using var vocabulary = package.OpenVocabulary();
            return BertInputTokenizer.CreateBert(vocabulary);
        }
    }
}
