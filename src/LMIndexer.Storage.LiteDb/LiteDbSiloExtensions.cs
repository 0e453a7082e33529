using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime.Hosting;
using Orleans.Storage;

namespace LMIndexer.Storage.LiteDb;

/// <summary>Wires the LiteDB providers into a silo.</summary>
public static class LiteDbSiloExtensions
{
    /// <summary>Named grain storage on LiteDB.</summary>
    public static ISiloBuilder AddLiteDbGrainStorage(this ISiloBuilder silo, string name, Action<LiteDbStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddOptions<LiteDbStorageOptions>(name).Configure(configure).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<LiteDbStorageOptions>, LiteDbStorageOptionsValidator>();
        silo.Services.AddGrainStorage(name, (services, key) =>
            new LiteDbGrainStorage(key, services.GetRequiredService<IOptionsMonitor<LiteDbStorageOptions>>().Get(key)));
        return silo;
    }

    /// <summary>Durable reminders on LiteDB.</summary>
    public static ISiloBuilder UseLiteDbReminderService(this ISiloBuilder silo, Action<LiteDbStorageOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddReminders();
        silo.Services.AddOptions<LiteDbStorageOptions>("reminders").Configure(configure).ValidateOnStart();
        silo.Services.AddSingleton<IValidateOptions<LiteDbStorageOptions>, LiteDbStorageOptionsValidator>();
        silo.Services.AddSingleton<IReminderTable>(services =>
            new LiteDbReminderTable(services.GetRequiredService<IOptionsMonitor<LiteDbStorageOptions>>().Get("reminders")));
        return silo;
    }
}
