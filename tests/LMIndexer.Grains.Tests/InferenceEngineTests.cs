using LMIndexer.Abstractions;
using LMIndexer.Core.Downstream;
using LMIndexer.Grains.Inference;
using LMIndexer.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace LMIndexer.Grains.Tests;

/// <summary>The dynamic batcher with several decoding workers sharing one model.</summary>
public sealed class InferenceEngineTests
{
    [Fact]
    public async Task Several_workers_answer_every_request_exactly_as_one_worker_does()
    {
        var histories = Enumerable.Range(0, 48)
            .Select(i => (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Skip(i * 7 % 200).Take(1 + i % 5)])
            .ToList();

        var single = await GenerateAllAsync(new InferenceOptions { Workers = 1, MaxBatchSize = 1 }, histories, expectedWorkers: 1);
        // Batches of one on both sides: padding in a shared batch would move scores in the last bits.
        var several = await GenerateAllAsync(new InferenceOptions { Workers = 3, MaxBatchSize = 1 }, histories, expectedWorkers: 3);

        for (var i = 0; i < histories.Count; i++)
        {
            Assert.Equal(10, single[i].Ids.Count);
            Assert.Equal(single[i].Ids.Select(g => (string.Join(',', g.Codes), g.Score)), several[i].Ids.Select(g => (string.Join(',', g.Codes), g.Score)));
        }
    }

    [Fact]
    public async Task Items_added_while_workers_decode_become_generatable_without_failing_a_request()
    {
        var serving = ServingBundle.Load(TestServingBundle.Directory);
        var table = serving.Table;
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 2 }, NullLogger.Instance);
        var history = (IReadOnlyList<ItemRecord>)[.. TestServingBundle.Records.Take(3)];
        var before = engine.ItemCount;
        var load = Enumerable.Range(0, 40).Select(_ => engine.GenerateAsync(history, 5)).ToList();

        // An unused ID: the first learned codes of an existing item with a counter beyond every group.
        var existing = table.Ids[0];
        var codes = existing.ToArray();
        codes[^1] = table.Ids.Where(id => id.Take(id.Length - 1).SequenceEqual(existing.Take(existing.Length - 1))).Max(id => id[^1]) + 1;
        var added = engine.AddItems([new PrefixEntry(codes, "ADDED-1")]);
        var results = await Task.WhenAll(load);

        Assert.Equal(1, added);
        Assert.Equal(before + 1, engine.ItemCount);
        Assert.All(results, r => Assert.Equal(5, r.Ids.Count));
    }

    private static async Task<GenerationResult[]> GenerateAllAsync(InferenceOptions options, IReadOnlyList<IReadOnlyList<ItemRecord>> histories, int expectedWorkers)
    {
        using var engine = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), options, NullLogger.Instance);
        Assert.Equal(expectedWorkers, engine.WorkerCount);
        return await Task.WhenAll(histories.Select(h => engine.GenerateAsync(h, 10)));
    }
}
