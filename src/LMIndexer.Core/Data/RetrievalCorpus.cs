using System.Globalization;
using System.Text.Json;

namespace LMIndexer.Core.Data;

/// <summary>A document of a retrieval corpus.</summary>
public sealed record CorpusDocument(string Id, string? Title, string Text);

/// <summary>A query with graded relevant documents (lower grade = more relevant, as Cranfield).</summary>
public sealed record RetrievalQuery(string Id, string Text, IReadOnlyDictionary<string, int> Relevant);

/// <summary>Cranfield-style corpus: <c>docs.jsonl</c>, <c>queries.jsonl</c>, <c>qrels.tsv</c>.</summary>
public sealed record RetrievalCorpus(IReadOnlyList<CorpusDocument> Documents, IReadOnlyList<RetrievalQuery> Queries)
{
    public static RetrievalCorpus Load(string directory)
    {
        var documents = ReadJsonLines(Path.Combine(directory, "docs.jsonl"), CatalogJson.Default.DocumentLine)
            .Select(d => new CorpusDocument(JsonIds.AsString(d.Id), d.Title?.Trim(), d.Text?.Trim() ?? string.Empty))
            .ToList();
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        var qrelsPath = Path.Combine(directory, "qrels.tsv");
        var lineNumber = 0;
        foreach (var line in File.ReadLines(qrelsPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var parts = line.Split('\t');
            if (parts.Length < 3 || !int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var grade))
                throw new InvalidDataException($"{qrelsPath}:{lineNumber}: expected 'query_id<TAB>doc_id<TAB>grade'.");
            if (!qrels.TryGetValue(parts[0], out var map))
                qrels[parts[0]] = map = new Dictionary<string, int>(StringComparer.Ordinal);
            map[parts[1]] = grade;
        }
        var queries = ReadJsonLines(Path.Combine(directory, "queries.jsonl"), CatalogJson.Default.QueryLine)
            .Select(q => (Id: JsonIds.AsString(q.Id), Text: q.Text?.Trim() ?? string.Empty))
            .Select(q => new RetrievalQuery(q.Id, q.Text, qrels.TryGetValue(q.Id, out var r) ? r : new Dictionary<string, int>()))
            .ToList();
        return new RetrievalCorpus(documents, queries);
    }

    private static IEnumerable<T> ReadJsonLines<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{path}' does not exist.", path);
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            T? row;
            try
            {
                row = JsonSerializer.Deserialize(line, type);
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message}).", e);
            }
            yield return row ?? throw new InvalidDataException($"{path}:{lineNumber}: empty row.");
        }
    }
}
