using LMIndexer.Testing;

// The tests share one MongoDB server and one LiteDB file per process; parallel test classes would race on both.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace LMIndexer.Storage.Conformance.Tests;

[CollectionDefinition(nameof(MongoCollection))]
public sealed class MongoCollection : ICollectionFixture<MongoServer>;
