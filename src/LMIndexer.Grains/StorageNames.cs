namespace LMIndexer.Grains;

/// <summary>Names of the grain storage providers the grains use.</summary>
public static class StorageNames
{
    /// <summary>Grain state (users, items, prefixes, versions, popularity).</summary>
    public const string Default = "lmindexer";
}
