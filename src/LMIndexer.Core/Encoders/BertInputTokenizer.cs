using Microsoft.ML.Tokenizers;

namespace LMIndexer.Core.Encoders;

/// <summary>
/// BERT's uncased WordPiece tokenisation, as Hugging Face's BertTokenizer does it (lower case,
/// accents stripped, punctuation and CJK characters split), truncated to the encoder's length.
/// </summary>
public sealed class BertInputTokenizer
{
    private readonly BertTokenizer tokenizer;

    public BertInputTokenizer(Stream vocabulary, int maxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 2);
        MaxTokens = maxTokens;
        using var copy = new MemoryStream();
        vocabulary.CopyTo(copy);
        VocabularySize = System.Text.Encoding.UTF8.GetString(copy.ToArray()).Split('\n').Count(line => line.TrimEnd('\r').Length > 0);
        copy.Position = 0;
        tokenizer = CreateBert(copy);
    }

    /// <summary>Uncased BERT tokenisation as Hugging Face's: lower case, accents stripped.</summary>
    internal static BertTokenizer CreateBert(Stream vocabulary) =>
        BertTokenizer.Create(vocabulary, new BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });

    /// <summary>Longest output, [CLS] and [SEP] included.</summary>
    public int MaxTokens { get; }

    public int VocabularySize { get; }

    public int PadId => tokenizer.PaddingTokenId;

    public int ClassificationId => tokenizer.ClassificationTokenId;

    public int SeparatorId => tokenizer.SeparatorTokenId;

    public int UnknownId => tokenizer.UnknownTokenId;

    public int MaskId => tokenizer.MaskingTokenId;

    /// <summary>[CLS] text [SEP], cut to <see cref="MaxTokens"/> with [SEP] kept last.</summary>
    public long[] Encode(string text)
    {
        var ids = tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true);
        var body = Math.Min(ids.Count, MaxTokens - 2);
        var encoded = new long[body + 2];
        encoded[0] = tokenizer.ClassificationTokenId;
        for (var i = 0; i < body; i++)
            encoded[i + 1] = ids[i];
        encoded[^1] = tokenizer.SeparatorTokenId;
        return encoded;
    }

    public static BertInputTokenizer For(PretrainedEncoderPackage package)
    {
        using var vocabulary = package.OpenVocabulary();
        return new BertInputTokenizer(vocabulary, package.MaxTokens);
    }
}
