using System.Text;

namespace LMIndexer.Core.Data;

/// <summary>
/// Writes a catalog's two files one item and one user at a time (a million-item catalog need not
/// be held). Both go to temporary files first and replace the old ones only on <see cref="Complete"/>,
/// so an interrupted write leaves the previous catalog as it was.
/// </summary>
public sealed class CatalogWriter : IDisposable
{
    private readonly string itemsPath;
    private readonly string sequencesPath;
    private readonly StreamWriter items;
    private readonly StreamWriter sequences;
    private bool completed;

    public CatalogWriter(string directory)
    {
        Directory.CreateDirectory(directory);
        itemsPath = Path.Combine(directory, CatalogFiles.ItemsFile);
        sequencesPath = Path.Combine(directory, CatalogFiles.SequencesFile);
        items = new StreamWriter(itemsPath + ".tmp", false, new UTF8Encoding(false), 1 << 16);
        sequences = new StreamWriter(sequencesPath + ".tmp", false, new UTF8Encoding(false), 1 << 16);
    }

    public long ItemCount { get; private set; }

    public long UserCount { get; private set; }

    public long EventCount { get; private set; }

    public void Add(CatalogItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        items.WriteLine(CatalogFiles.ItemLineJson(item));
        ItemCount++;
    }

    public void Add(UserSequence user)
    {
        ArgumentNullException.ThrowIfNull(user);
        sequences.Write(user.UserId);
        sequences.Write('\t');
        for (var i = 0; i < user.ItemIds.Count; i++)
        {
            if (i > 0)
                sequences.Write(' ');
            sequences.Write(user.ItemIds[i]);
        }
        sequences.WriteLine();
        UserCount++;
        EventCount += user.ItemIds.Count;
    }

    /// <summary>Flushes both files and puts them in place of the old ones.</summary>
    public void Complete()
    {
        items.Dispose();
        sequences.Dispose();
        File.Move(itemsPath + ".tmp", itemsPath, overwrite: true);
        File.Move(sequencesPath + ".tmp", sequencesPath, overwrite: true);
        completed = true;
    }

    public void Dispose()
    {
        items.Dispose();
        sequences.Dispose();
        if (!completed)
        {
            File.Delete(itemsPath + ".tmp");
            File.Delete(sequencesPath + ".tmp");
        }
    }
}
