using LMIndexer.Grains;
using LMIndexer.Storage.LiteDb;

namespace LMIndexer.Silo.Hosting;

/// <summary>Grain storage and reminders from the <c>Storage</c> section: both always in the same store.</summary>
public static class StorageHosting
{
    public static ISiloBuilder AddLMIndexerStorage(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        var storage = configuration.GetSection(StorageSettings.Section).Get<StorageSettings>() ?? new StorageSettings();
        switch (storage.Provider.ToLowerInvariant())
        {
            case "memory":
                silo.AddMemoryGrainStorage(StorageNames.Default);
                silo.UseInMemoryReminderService();
                break;
            case "litedb":
                var liteDb = configuration.GetSection($"{StorageSettings.Section}:{LiteDbStorageOptions.Section}");
                silo.AddLiteDbGrainStorage(StorageNames.Default, liteDb.Bind);
                silo.UseLiteDbReminderService(liteDb.Bind);
                break;
            default:
                throw new InvalidOperationException(
                    $"Storage:Provider '{storage.Provider}' is not one of {StorageProviders.LiteDb}, {StorageProviders.MongoDB}, {StorageProviders.Memory}.");
        }
        return silo;
    }
}
