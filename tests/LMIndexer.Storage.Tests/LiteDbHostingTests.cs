using LMIndexer.Storage.LiteDb;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Storage;
using Orleans.Timers;

namespace LMIndexer.Storage.Tests;

/// <summary>The LiteDB providers as a silo registers them: their options, validation and the reminder service.</summary>
public sealed class LiteDbHostingTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"hosting-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(directory))
            Directory.Delete(directory, recursive: true);
    }

    private static IHost Build(Action<ISiloBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo =>
        {
            silo.UseLocalhostClustering();
            configure(silo);
        });
        return builder.Build();
    }

    [Fact]
    public async Task The_reminder_service_uses_the_reminders_file_it_was_given()
    {
        var file = Path.Combine(directory, "reminders.db");
        using var host = Build(silo => silo.UseLiteDbReminderService(o => o.ConnectionString = $"Filename={file}"));

        Assert.NotNull(host.Services.GetService<IReminderRegistry>());   // reminders are on
        var table = Assert.IsType<LiteDbReminderTable>(host.Services.GetRequiredService<IReminderTable>());
        await table.Init();
        await table.UpsertRow(new ReminderEntry { GrainId = GrainId.Create("sample", "a"), ReminderName = "r", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) });

        Assert.True(File.Exists(file), "the row went into the configured file");
        Assert.Single((await table.ReadRows(GrainId.Create("sample", "a"))).Reminders);
        table.Dispose();
        SharedLiteDatabase.Close($"Filename={file}");
    }

    [Fact]
    public void Settings_that_cannot_work_are_refused_for_grain_storage_and_reminders_alike()
    {
        using var storage = Build(silo => silo.AddLiteDbGrainStorage("grains", o => o.ConnectionString = ""));
        using var reminders = Build(silo => silo.UseLiteDbReminderService(o => o.ConnectionString = ""));

        var storageError = Assert.Throws<OptionsValidationException>(() => storage.Services.GetRequiredService<IOptionsMonitor<LiteDbStorageOptions>>().Get("grains"));
        var reminderError = Assert.Throws<OptionsValidationException>(() => reminders.Services.GetRequiredService<IOptionsMonitor<LiteDbStorageOptions>>().Get("reminders"));
        Assert.All([storageError, reminderError], e => Assert.Contains("LiteDb:ConnectionString is required.", e.Message, StringComparison.Ordinal));
        // The provider is registered under its name and built from those validated settings.
        Assert.Throws<OptionsValidationException>(() => storage.Services.GetKeyedService<IGrainStorage>("grains"));
    }

    [Fact]
    public async Task Null_arguments_are_refused_by_name()
    {
        Assert.Equal("silo", Assert.Throws<ArgumentNullException>(() => ((ISiloBuilder)null!).AddLiteDbGrainStorage("g", _ => { })).ParamName);
        Assert.Equal("silo", Assert.Throws<ArgumentNullException>(() => ((ISiloBuilder)null!).UseLiteDbReminderService(_ => { })).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentNullException>(() => new LiteDbStorageOptionsValidator().Validate(null, null!)).ParamName);

        var file = Path.Combine(directory, "null.db");
        using var storage = new LiteDbGrainStorage("test", new LiteDbStorageOptions { ConnectionString = $"Filename={file}" });
        var grain = GrainId.Create("sample", "n");
        Assert.Equal("grainState", (await Assert.ThrowsAsync<ArgumentNullException>(() => storage.ReadStateAsync<object>("s", grain, null!))).ParamName);
        Assert.Equal("grainState", (await Assert.ThrowsAsync<ArgumentNullException>(() => storage.WriteStateAsync<object>("s", grain, null!))).ParamName);
        Assert.Equal("grainState", (await Assert.ThrowsAsync<ArgumentNullException>(() => storage.ClearStateAsync<object>("s", grain, null!))).ParamName);
        using var table = new LiteDbReminderTable(new LiteDbStorageOptions { ConnectionString = $"Filename={file}" });
        Assert.Equal("entry", (await Assert.ThrowsAsync<ArgumentNullException>(() => table.UpsertRow(null!))).ParamName);
        SharedLiteDatabase.Close($"Filename={file}");
    }
}
