using System.Text.Json;

namespace LMIndexer.Core.Data;

/// <summary>
/// S3-Rec style numeric data (<c>amazon-toys</c>): <c>sequences.tsv</c> of item numbers and
/// <c>item_attributes.jsonl</c> (unnamed attribute numbers). No text: for ID-only models.
/// </summary>
public sealed record NumericSequenceDataset(IReadOnlyList<UserSequence> Users, IReadOnlyDictionary<string, IReadOnlyList<long>> ItemAttributes)
{
    public static NumericSequenceDataset Load(string directory)
    {
        var users = CatalogFiles.ReadSequences(Path.Combine(directory, CatalogFiles.SequencesFile));
        var attributes = new Dictionary<string, IReadOnlyList<long>>(StringComparer.Ordinal);
        var path = Path.Combine(directory, "item_attributes.jsonl");
        if (File.Exists(path))
        {
            var lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line))
                    continue;
                try
                {
                    var row = JsonSerializer.Deserialize(line, CatalogJson.Default.NumericItemLine)!;
                    attributes[JsonIds.Invariant(row.ItemId)] = row.Attributes ?? [];
                }
                catch (JsonException e)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: invalid JSON ({e.Message}).", e);
                }
            }
        }
        return new NumericSequenceDataset(users, attributes);
    }
}
