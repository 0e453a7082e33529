namespace LMIndexer.Silo.Hosting.Options;

/// <summary>Admin API settings (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>A plain development key with every scope (hashed at start-up); empty: only <c>Security:ApiKeys</c>.</summary>
    public string ApiKey { get; set; } = "";
}
