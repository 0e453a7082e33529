using LMIndexer.Testing;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using LMIndexer.Silo.Api;
using LMIndexer.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MongoDB.Bson;
using MongoDB.Driver;

namespace LMIndexer.Storage.Tests;

/// <summary>The real host configured for production: MongoDB clustering, grain storage and reminders.</summary>
[Collection(nameof(MongoCollection))]
public sealed class SiloOnMongoDBTests(MongoServer server)
{
    [Fact]
    public async Task The_host_on_MongoDB_keeps_acknowledged_events_in_the_database()
    {
        LMIndexer.Core.Runtime.TorchRuntime.EnsureInitialized();
        var database = MongoServer.NewDatabase();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Cluster:Clustering"] = "MongoDB",
            ["Cluster:AdvertisedAddress"] = "127.0.0.1",
            ["Cluster:SiloPort"] = TestEnvironment.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Cluster:GatewayPort"] = TestEnvironment.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Storage:Provider"] = "MongoDB",
            ["Storage:MongoDB:ConnectionString"] = server.ConnectionString,
            ["Storage:MongoDB:Database"] = database,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.AddLMIndexerSilo();
        await using var app = builder.Build();
        app.MapLMIndexer();
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var http = new HttpClient { BaseAddress = new Uri(address) };
            using (var posted = await http.PostAsJsonAsync("/api/events", new { userId = "mongo-user", itemId = "item-7", eventId = "m1" }))
                Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());

            var db = new MongoClient(server.ConnectionString).GetDatabase(database);
            var stored = await db.GetCollection<BsonDocument>("user").Find(Builders<BsonDocument>.Filter.Eq("_id", "user/mongo-user")).FirstOrDefaultAsync();
            Assert.NotNull(stored);   // the record of state "user" of grain "mongo-user"
            Assert.Equal("user", stored["_state"].AsString);
            Assert.Equal("item-7", stored["_doc"]["History"][0]["ItemId"].AsString);
            var members = await db.GetCollection<BsonDocument>("Membership").Find(FilterDefinition<BsonDocument>.Empty).ToListAsync();
            Assert.Equal(3, Assert.Single(members)["members"].AsBsonArray.Single()["status"].ToInt32());   // SiloStatus.Active
            var history = await http.GetFromJsonAsync<JsonElement>("/api/users/mongo-user/history");
            Assert.Equal(1, history.GetArrayLength());
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
