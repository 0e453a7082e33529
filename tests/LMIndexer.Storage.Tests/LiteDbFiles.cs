using LMIndexer.Storage.LiteDb;

namespace LMIndexer.Storage.Tests;

internal static class LiteDbFiles
{
    /// <summary>Closes the process's handle on a test database and deletes its files.</summary>
    public static void Delete(string file)
    {
        SharedLiteDatabase.Close($"Filename={file}");
        foreach (var leftover in Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileNameWithoutExtension(file) + "*"))
            File.Delete(leftover);
    }
}
