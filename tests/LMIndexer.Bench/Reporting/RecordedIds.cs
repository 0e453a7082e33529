using System.IO.Compression;
using LMIndexer.Core.Checkpoints;
using LMIndexer.Core.Indexing;

namespace LMIndexer.Bench.Reporting;

/// <summary>
/// The semantic IDs an index run assigned, kept beside its result as the manifest, the tokenizer
/// and the ID table (gzipped) of each method's bundle, without the network: what a recommender
/// trained from a fresh network reads of an index. Restored into an index folder, they let the
/// downstream benchmarks run on the recorded IDs without building the index again (an hour and a
/// half on Beauty here), and let a reviewer rerun them on the very IDs a table reports.
/// </summary>
public static class RecordedIds
{
    /// <summary>Under results/: one folder per recorded index run, one subfolder per method.</summary>
    public const string Folder = "ids";

    private const string GzippedTable = SemanticIdTable.FileName + ".gz";

    /// <summary>Where the IDs of the run <paramref name="name"/> are kept.</summary>
    public static string DirectoryFor(string benchDirectory, string name) =>
        Path.Combine(benchDirectory, BenchmarkReport.ResultsFolder, Folder, name);

    /// <summary>Copies the manifest, tokenizer and ID table of <paramref name="bundle"/> into <paramref name="recordDirectory"/>/<paramref name="method"/>.</summary>
    public static void Keep(string bundle, string method, string recordDirectory)
    {
        foreach (var file in new[] { ModelBundle.ManifestFile, ModelBundle.TokenizerFile, SemanticIdTable.FileName })
        {
            if (!File.Exists(Path.Combine(bundle, file)))
                throw new FileNotFoundException($"{bundle} is not an index bundle: {file} is missing.", Path.Combine(bundle, file));
        }
        var target = Path.Combine(recordDirectory, method);
        Directory.CreateDirectory(target);
        File.Copy(Path.Combine(bundle, ModelBundle.ManifestFile), Path.Combine(target, ModelBundle.ManifestFile), overwrite: true);
        File.Copy(Path.Combine(bundle, ModelBundle.TokenizerFile), Path.Combine(target, ModelBundle.TokenizerFile), overwrite: true);
        using var table = File.OpenRead(Path.Combine(bundle, SemanticIdTable.FileName));
        using var gzip = new GZipStream(File.Create(Path.Combine(target, GzippedTable)), CompressionLevel.SmallestSize);
        table.CopyTo(gzip);
    }

    /// <summary>
    /// Writes every method kept in <paramref name="recordDirectory"/> into <paramref name="indexDirectory"/>
    /// as a bundle of IDs without a network, and returns the methods. A folder that holds a trained
    /// network is left alone (its IDs may differ from the record's).
    /// </summary>
    public static IReadOnlyList<string> Restore(string recordDirectory, string indexDirectory)
    {
        if (!Directory.Exists(recordDirectory))
            throw new DirectoryNotFoundException($"{recordDirectory} does not exist: no IDs were kept there.");
        var methods = Directory.GetDirectories(recordDirectory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        if (methods.Count == 0)
            throw new InvalidDataException($"{recordDirectory} holds no method's IDs.");
        foreach (var method in methods)
        {
            var target = Path.Combine(indexDirectory, method);
            if (File.Exists(Path.Combine(target, ModelBundle.WeightsFile)))
                throw new IOException($"{target} holds a trained index bundle; restore the recorded IDs into another folder.");
        }
        foreach (var method in methods)
        {
            var source = Path.Combine(recordDirectory, method);
            var target = Path.Combine(indexDirectory, method);
            Directory.CreateDirectory(target);
            File.Copy(Path.Combine(source, ModelBundle.ManifestFile), Path.Combine(target, ModelBundle.ManifestFile), overwrite: true);
            File.Copy(Path.Combine(source, ModelBundle.TokenizerFile), Path.Combine(target, ModelBundle.TokenizerFile), overwrite: true);
            using var gzip = new GZipStream(File.OpenRead(Path.Combine(source, GzippedTable)), CompressionMode.Decompress);
            using var table = File.Create(Path.Combine(target, SemanticIdTable.FileName));
            gzip.CopyTo(table);
        }
        return methods;
    }
}
