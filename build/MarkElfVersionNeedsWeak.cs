using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on named Vernaux entries of an ELF64 little-endian shared object, so that the
// dynamic loader tolerates a missing symbol version instead of refusing to load the library.
public class MarkElfVersionNeedsWeak : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionNames { get; set; } = string.Empty;

    public override bool Execute()
    {
        var wanted = VersionNames.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries);
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[4] != 2 || bytes[5] != 1)
            {
                Log.LogError($"{path}: not an ELF64 little-endian file");
                return false;
            }
            ulong shoff = BitConverter.ToUInt64(bytes, 0x28);
            int shentsize = BitConverter.ToUInt16(bytes, 0x3A);
            int shnum = BitConverter.ToUInt16(bytes, 0x3C);
            int changed = 0;
            for (int s = 0; s < shnum; s++)
            {
                long sh = (long)shoff + (long)s * shentsize;
                if (BitConverter.ToUInt32(bytes, (int)sh + 4) != ShtGnuVerneed) continue;
                long offset = (long)BitConverter.ToUInt64(bytes, (int)sh + 0x18);
                int link = (int)BitConverter.ToUInt32(bytes, (int)sh + 0x28);
                long strtab = (long)BitConverter.ToUInt64(bytes, (int)(shoff + (ulong)(link * shentsize)) + 0x18);
                long vn = offset;
                while (true)
                {
                    int count = BitConverter.ToUInt16(bytes, (int)vn + 2);
                    long aux = vn + BitConverter.ToUInt32(bytes, (int)vn + 8);
                    for (int a = 0; a < count; a++)
                    {
                        uint nameOffset = BitConverter.ToUInt32(bytes, (int)aux + 8);
                        string name = ReadCString(bytes, strtab + nameOffset);
                        if (Array.IndexOf(wanted, name) >= 0)
                        {
                            ushort flags = BitConverter.ToUInt16(bytes, (int)aux + 4);
                            if ((flags & VerFlgWeak) == 0)
                            {
                                flags |= VerFlgWeak;
                                bytes[aux + 4] = (byte)(flags & 0xff);
                                bytes[aux + 5] = (byte)(flags >> 8);
                                changed++;
                            }
                        }
                        uint next = BitConverter.ToUInt32(bytes, (int)aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    uint vnNext = BitConverter.ToUInt32(bytes, (int)vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }
            }
            if (changed > 0)
            {
                // The output file may be a link into the package cache (symbolic or hard): writing
                // through it would patch the cache for every project. Unlink it and write our own.
                File.Delete(path);
                File.WriteAllBytes(path, bytes);
                Log.LogMessage(MessageImportance.Normal, $"{path}: marked {changed} version need(s) weak");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static string ReadCString(byte[] bytes, long start)
    {
        long end = start;
        while (bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(bytes, (int)start, (int)(end - start));
    }
}
