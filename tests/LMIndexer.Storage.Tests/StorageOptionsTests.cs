using LMIndexer.Storage.LiteDb;
using LMIndexer.Storage.MongoDB;

namespace LMIndexer.Storage.Tests;

public sealed class LiteDbStorageOptionsTests
{
    [Theory]
    [InlineData("", "", "LiteDb:ConnectionString is required.")]
    [InlineData("Filename=x.db;Connection=sideways", "", "LiteDb:ConnectionString is not valid")]
    [InlineData("Filename=x.db", "grains-", "LiteDb:CollectionPrefix may hold only letters, digits and '_' (got 'grains-').")]
    public void Settings_that_cannot_work_are_refused_with_the_setting_named(string connection, string prefix, string expected)
    {
        var result = new LiteDbStorageOptionsValidator().Validate(null, new LiteDbStorageOptions { ConnectionString = connection, CollectionPrefix = prefix });
        Assert.True(result.Failed);
        Assert.StartsWith(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_settings_and_a_prefix_of_letters_digits_and_underscores_are_accepted()
    {
        Assert.True(new LiteDbStorageOptionsValidator().Validate(null, new LiteDbStorageOptions()).Succeeded);
        Assert.True(new LiteDbStorageOptionsValidator().Validate(null, new LiteDbStorageOptions { CollectionPrefix = "Shop_2" }).Succeeded);
    }
}

public sealed class MongoDBStorageOptionsTests
{
    [Theory]
    [InlineData("http://not-mongo", "lmindexer", "", "MongoDB:ConnectionString is not a MongoDB connection string (MongoConfigurationException).")]
    [InlineData("mongodb://127.0.0.1:27017", "", "", "MongoDB:Database '' is not a valid database name.")]
    [InlineData("mongodb://127.0.0.1:27017", "shop.prod", "", "MongoDB:Database 'shop.prod' is not a valid database name.")]
    [InlineData("mongodb://127.0.0.1:27017", "$shop", "", "MongoDB:Database '$shop' is not a valid database name.")]
    [InlineData("mongodb://127.0.0.1:27017", "lmindexer", "grains-", "MongoDB:CollectionPrefix may hold only letters, digits and '_' (got 'grains-').")]
    public void Settings_that_cannot_work_are_refused_with_the_setting_named_and_no_credentials(string connection, string database, string prefix, string expected)
    {
        var result = new MongoDBStorageOptionsValidator().Validate(null, new MongoDBStorageOptions { ConnectionString = connection, Database = database, CollectionPrefix = prefix });
        Assert.True(result.Failed);
        Assert.Equal([expected], result.Failures);
    }

    [Fact]
    public void Every_bad_setting_is_reported_at_once_and_good_ones_pass()
    {
        var both = new MongoDBStorageOptionsValidator().Validate(null, new MongoDBStorageOptions { ConnectionString = "mongodb://user:secret@", Database = "a b" });
        Assert.Equal(2, both.Failures!.Count());
        Assert.DoesNotContain("secret", both.FailureMessage, StringComparison.Ordinal);
        Assert.True(new MongoDBStorageOptionsValidator().Validate(null, new MongoDBStorageOptions()).Succeeded);
        Assert.True(new MongoDBStorageOptionsValidator().Validate(null, new MongoDBStorageOptions { Database = "shop_2", CollectionPrefix = "Grains_", MaxConcurrentOperations = 8 }).Succeeded);
    }

    [Fact]
    public void A_negative_operation_bound_is_refused()
    {
        var result = new MongoDBStorageOptionsValidator().Validate(null, new MongoDBStorageOptions { MaxConcurrentOperations = -1 });
        Assert.Equal(["MongoDB:MaxConcurrentOperations must be 0 (the pool size) or more (got -1)."], result.Failures);
    }
}
