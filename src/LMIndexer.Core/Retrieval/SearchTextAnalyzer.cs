using System.Globalization;
using System.Text;

namespace LMIndexer.Core.Retrieval;

/// <summary>
/// Words of a text for lexical search: lower-cased, accents removed, split at anything that is not a
/// letter or digit (Lucene's standard analyzer without stop words: BM25's idf already discounts them).
/// </summary>
public static class SearchTextAnalyzer
{
    public static IReadOnlyList<string> Terms(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return [];
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var words = new List<string>();
        var word = new StringBuilder();
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
                continue;
            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
                continue;
            }
            if (word.Length > 0)
            {
                words.Add(word.ToString());
                word.Clear();
            }
        }
        if (word.Length > 0)
            words.Add(word.ToString());
        return words;
    }
}
