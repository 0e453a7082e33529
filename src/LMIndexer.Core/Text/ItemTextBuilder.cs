using System.Globalization;
using LMIndexer.Core.Data;

namespace LMIndexer.Core.Text;

/// <summary>
/// The reference's <c>text_process</c>: whichever of title, description, brand, price and the
/// first category path exist, as <c>field: value</c>, joined by ", ".
/// </summary>
public static class ItemTextBuilder
{
    public static string Build(CatalogItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var parts = new List<string>(5);
        if (!string.IsNullOrWhiteSpace(item.Title))
            parts.Add($"title: {item.Title.Trim()}");
        if (!string.IsNullOrWhiteSpace(item.Description))
            parts.Add($"description: {item.Description.Trim()}");
        if (!string.IsNullOrWhiteSpace(item.Brand))
            parts.Add($"brand: {item.Brand.Trim()}");
        if (item.Price is decimal price)
            parts.Add($"price: {price.ToString("0.##", CultureInfo.InvariantCulture)}");
        if (item.PrimaryCategoryPath.Count > 0)
            parts.Add($"category: {string.Join(", ", item.PrimaryCategoryPath)}");
        return string.Join(", ", parts);
    }

    /// <summary>The short form used by the <c>titles</c> recommendation source.</summary>
    public static string Title(CatalogItem item) => item.Title?.Trim() is { Length: > 0 } t ? t : item.ItemId;
}
