using LMIndexer.Grains.Search;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Tests;

public sealed class ItemTextEmbedderTests
{
    private static ItemTextEmbedder MiniLm() => new(Options.Create(new SearchOptions { Encoder = "minilm" }));

    [Fact]
    public void After_disposal_an_embedding_is_refused_as_disposed_not_run_on_the_freed_session()
    {
        var embedder = MiniLm();
        Assert.Equal(384, embedder.EmbedQuery("gentle face wash").Length);

        embedder.Dispose();

        Assert.Throws<ObjectDisposedException>(() => embedder.EmbedItems(["gentle face wash"]));
        embedder.Dispose();   // twice is harmless, as a host may dispose it twice
    }

    [Fact]
    public async Task Disposal_while_shards_embed_waits_for_them_and_every_run_either_finishes_or_is_refused()
    {
        var embedder = MiniLm();
        embedder.EmbedQuery("warm");   // the session exists before the race
        var texts = Enumerable.Range(0, 64).Select(i => $"Lumilab gentle day lotion number {i} with a longer description of its use").ToArray();
        using var started = new CountdownEvent(4);
        var runs = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            started.Signal();
            return embedder.EmbedItems(texts);
        })).ToArray();
        started.Wait();

        embedder.Dispose();

        foreach (var run in runs)
        {
            var error = await Record.ExceptionAsync(async () => Assert.Equal(texts.Length, (await run).Length));
            Assert.True(error is null or ObjectDisposedException, $"a run failed with {error}");
        }
    }
}
