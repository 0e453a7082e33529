using LMIndexer.Core.Encoders;

namespace LMIndexer.Core.Tests.Encoders;

public sealed class SentenceVectorFileTests : IDisposable
{
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("lmindexer-vectors-");

    private string PathOf(string name) => Path.Combine(folder.FullName, name);

    private static float[] Vector(int seed) => [.. Enumerable.Range(0, 8).Select(i => (float)Math.Sin(seed + i))];

    [Fact]
    public void Kept_vectors_are_read_back_after_the_file_opens_again()
    {
        var path = PathOf("minilm.vectors");
        using (var file = SentenceVectorFile.Open(path, 8))
        {
            Assert.Null(file.Get("Cetaphil Gentle Skin Cleanser"));
            file.Add("Cetaphil Gentle Skin Cleanser", Vector(1));
            file.Add("tweezers", Vector(2));
            file.Add("tweezers", Vector(3));   // kept once: the first stays
            Assert.Equal(Vector(1), file.Get("Cetaphil Gentle Skin Cleanser"));
            Assert.Equal(2, file.Count);
        }
        using (var again = SentenceVectorFile.Open(path, 8))
        {
            Assert.Equal(2, again.Count);
            Assert.Equal(Vector(1), again.Get("Cetaphil Gentle Skin Cleanser"));
            Assert.Equal(Vector(2), again.Get("tweezers"));
            Assert.Null(again.Get("Tweezers"));   // texts are keys as they are
            again.Add("a third text", Vector(4));   // appended after the records read back
        }
        using var third = SentenceVectorFile.Open(path, 8);
        Assert.Equal(3, third.Count);
        Assert.Equal(Vector(4), third.Get("a third text"));
        Assert.Equal(Vector(2), third.Get("tweezers"));
    }

    [Fact]
    public void A_record_cut_short_by_a_crash_is_dropped_and_the_rest_kept()
    {
        var path = PathOf("cut.vectors");
        using (var file = SentenceVectorFile.Open(path, 8))
        {
            file.Add("first", Vector(1));
            file.Add("second", Vector(2));
        }
        using (var stream = new FileStream(path, FileMode.Open))
            stream.SetLength(stream.Length - 5);   // the second record's last bytes never reached the disk
        using (var file = SentenceVectorFile.Open(path, 8))
        {
            Assert.Equal(1, file.Count);
            Assert.Equal(Vector(1), file.Get("first"));
            Assert.Null(file.Get("second"));
            file.Add("second", Vector(5));
        }
        using var reopened = SentenceVectorFile.Open(path, 8);
        Assert.Equal(Vector(5), reopened.Get("second"));
    }

    [Fact]
    public void Another_width_another_kind_of_file_and_a_second_holder_are_refused()
    {
        var path = PathOf("held.vectors");
        using var file = SentenceVectorFile.Open(path, 8);
        Assert.Throws<IOException>(() => SentenceVectorFile.Open(path, 8));   // held by the first
        Assert.Throws<ArgumentException>(() => file.Add("x", new float[3]));
        file.Dispose();
        Assert.Throws<InvalidDataException>(() => SentenceVectorFile.Open(path, 16));
        File.WriteAllText(PathOf("other.vectors"), "not a vector file at all");
        Assert.Throws<InvalidDataException>(() => SentenceVectorFile.Open(PathOf("other.vectors"), 8));
        Assert.Throws<ObjectDisposedException>(() => file.Get("x"));
    }

    public void Dispose() => folder.Delete(recursive: true);
}
