using LMIndexer.Abstractions;
using LMIndexer.Core.Data;

namespace LMIndexer.Grains.Items;

/// <summary>The one mapping between the model's catalog items and the cluster's item records.</summary>
public static class CatalogRecords
{
    public static ItemRecord ToRecord(this CatalogItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        return new ItemRecord(item.ItemId, item.Title, item.Description, item.Brand, item.Price, item.Categories);
    }

    public static CatalogItem ToCatalogItem(this ItemRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new CatalogItem(record.ItemId, record.Title, record.Description, record.Brand, record.Price, record.Categories);
    }
}
