using System.Diagnostics.Metrics;
using LMIndexer.Abstractions;
using LMIndexer.Core.Downstream;
using LMIndexer.Grains.Inference;
using LMIndexer.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace LMIndexer.Grains.Tests;

/// <summary>
/// What the inference engine reports (metrics, stats) and how its options shape it: the worker
/// count, waiting for company, each request's own beams, the approximate index and where it is kept.
/// </summary>
public sealed class InferenceEngineReportingTests
{
    private static IReadOnlyList<ItemRecord> History(int skip) => [.. TestServingBundle.Records.Skip(skip * 5).Take(3)];

    /// <summary>The engine's stats once every batch that answered <paramref name="requests"/> requests has been counted (answers are set before the counters move).</summary>
    private static async Task<InferenceStats> SettledStats(InferenceEngine engine, int requests)
    {
        for (var waited = 0; ; waited += 10)
        {
            var stats = engine.Stats("silo");
            if (Math.Round(stats.MeanBatchSize * stats.Batches) == requests || waited > 5000)
                return stats;
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Metrics_carry_every_request_batch_and_wait_under_their_documented_names_tagged_with_the_version()
    {
        // A version of its own: the engines of other tests in this process report to the same meter.
        var serving = ServingBundle.Load(TestServingBundle.MovedVersion("metered", 0));
        var measured = new List<(string Instrument, double Value)>();
        var instruments = new Dictionary<string, Instrument>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, self) =>
        {
            if (instrument.Meter.Name != InferenceEngine.MeterName)
                return;
            lock (instruments)
                instruments[instrument.Name] = instrument;
            self.EnableMeasurementEvents(instrument);
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "version", Value: "metered" })
                {
                    lock (measured)
                        measured.Add((instrument.Name, value));
                }
            }
        }
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        listener.Start();
        List<double> Of(string name)
        {
            lock (measured)
                return [.. measured.Where(m => m.Instrument == name).Select(m => m.Value)];
        }
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1, MaxBatchSize = 4 }, NullLogger.Instance);

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => engine.GenerateAsync(History(i), 5)));
        var stats = await SettledStats(engine, 10);
        listener.RecordObservableInstruments();

        Assert.Equal(10, Of("lmindexer.inference.requests").Sum());
        Assert.Equal(10, Of("lmindexer.inference.batch_size").Sum());
        Assert.Equal(stats.Batches, Of("lmindexer.inference.batch_size").Count);
        Assert.Equal(stats.MaxBatchSize, Of("lmindexer.inference.batch_size").Max());
        Assert.Equal(stats.Batches, Of("lmindexer.inference.batch_seconds").Count);
        Assert.Equal(10, Of("lmindexer.inference.queue_wait_seconds").Count);
        // The stats' means (milliseconds) describe the same batches and waits as the histograms (seconds).
        // (A tolerance, not decimal places: rounding a value that lies on a half-way point differs in the last bit.)
        Assert.Equal(stats.MeanBatchMilliseconds, Of("lmindexer.inference.batch_seconds").Average() * 1000, tolerance: 1e-6);
        Assert.Equal(stats.MeanQueueWaitMilliseconds, Of("lmindexer.inference.queue_wait_seconds").Average() * 1000, tolerance: 1e-6);
        Assert.All(Of("lmindexer.inference.batch_seconds"), seconds => Assert.InRange(seconds, 1e-6, 60));
        Assert.Equal([0.0], Of("lmindexer.inference.queue_length"));   // this engine's queue, drained

        // Dashboards read the names, units, help texts and the batch-size buckets.
        lock (instruments)
        {
            Assert.Equal(["lmindexer.inference.batch_seconds", "lmindexer.inference.batch_size", "lmindexer.inference.queue_length", "lmindexer.inference.queue_wait_seconds", "lmindexer.inference.requests"],
                instruments.Keys.Order(StringComparer.Ordinal));
            Assert.All(instruments.Values, instrument => Assert.False(string.IsNullOrWhiteSpace(instrument.Description), instrument.Name));
            Assert.Equal("s", instruments["lmindexer.inference.batch_seconds"].Unit);
            Assert.Equal("s", instruments["lmindexer.inference.queue_wait_seconds"].Unit);
            Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 256], ((Histogram<int>)instruments["lmindexer.inference.batch_size"]).Advice!.HistogramBucketBoundaries!);
        }
    }

    [Fact]
    public async Task A_worker_told_to_wait_gathers_requests_that_arrive_meanwhile_into_one_batch_and_each_gets_its_own_beams()
    {
        using var engine = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory),
            new InferenceOptions { Workers = 1, MaxBatchSize = 8, MaxWaitMilliseconds = 1500 }, NullLogger.Instance);
        var first = engine.GenerateAsync(History(0), 1);
        // The worker has taken the first request by now and waits for company.
        await Task.Delay(150);
        var later = new[] { 10, 3, 2 }.Select((beams, i) => engine.GenerateAsync(History(i + 1), beams)).ToList();

        var answers = await Task.WhenAll([first, .. later]);
        var stats = await SettledStats(engine, 4);

        Assert.Equal((1L, 4), (stats.Batches, stats.MaxBatchSize));
        Assert.Equal([1, 10, 3, 2], answers.Select(a => a.Ids.Count));
        // The widest request is decoded as wide as it asked, as if alone.
        using var alone = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), new InferenceOptions { Workers = 1, MaxBatchSize = 1 }, NullLogger.Instance);
        var expected = await alone.GenerateAsync(History(1), 10);
        Assert.Equal(expected.Ids.Select(g => g.ItemId).Order(StringComparer.Ordinal), answers[1].Ids.Select(g => g.ItemId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Without_a_worker_count_a_cpu_engine_runs_one_worker_per_group_of_its_threads()
    {
        static int Workers(InferenceOptions options)
        {
            using var engine = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), options, NullLogger.Instance);
            return engine.WorkerCount;
        }

        Assert.Equal(Environment.ProcessorCount, Workers(new InferenceOptions()));
        Assert.Equal(Math.Max(1, Environment.ProcessorCount / 2), Workers(new InferenceOptions { ThreadsPerWorker = 2 }));
        Assert.Equal(3, Workers(new InferenceOptions { Workers = 3, ThreadsPerWorker = 2 }));
    }

    [Fact]
    public void The_approximate_index_needs_a_dense_head_and_a_threshold_above_zero_and_is_kept_only_where_told()
    {
        int items;
        using (var probe = ServingBundle.Load(TestServingBundle.DenseDirectory))
            items = probe.Bundle.Model.Config.SourceItemCount;
        using (var exact = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory), new InferenceOptions { Workers = 1, ApproximateDenseAbove = 0 }, NullLogger.Instance))
            Assert.False(exact.RanksApproximately);   // 0 keeps dense ranking exact
        using (var beams = new InferenceEngine(ServingBundle.Load(TestServingBundle.Directory), new InferenceOptions { Workers = 1, ApproximateDenseAbove = 1 }, NullLogger.Instance))
            Assert.False(beams.RanksApproximately);   // no dense head, nothing to index

        var folder = Path.Combine(Path.GetTempPath(), "lmindexer-tests", $"unsaved-index-{Guid.NewGuid():N}");
        using (var unsaved = new InferenceEngine(ServingBundle.Load(TestServingBundle.DenseDirectory),
            new InferenceOptions { Workers = 1, ApproximateDenseAbove = items, SaveApproximateIndex = false, ApproximateIndexDirectory = folder }, NullLogger.Instance))
        {
            Assert.True(unsaved.RanksApproximately);
            Assert.Null(unsaved.ApproximateIndexOrigin);
            Assert.False(Directory.Exists(folder));
        }
        using var bundle = ServingBundle.Load(TestServingBundle.DenseDirectory);
        Assert.Equal(Path.Combine(bundle.Directory, "approximate-index"), InferenceEngine.ApproximateIndexDirectory(bundle, new InferenceOptions()));
        Assert.Equal(folder, InferenceEngine.ApproximateIndexDirectory(bundle, new InferenceOptions { ApproximateIndexDirectory = folder }));
    }

    [Fact]
    public void Trained_items_have_their_vectors_before_anything_is_added_unknown_ones_none_and_null_arguments_are_refused()
    {
        var serving = ServingBundle.Load(TestServingBundle.DenseDirectory);
        var first = serving.Table.ItemIds[0];
        var expected = serving.Bundle.Model.SourceItems!.weight![0].data<float>().ToArray();
        using var engine = new InferenceEngine(serving, new InferenceOptions { Workers = 1 }, NullLogger.Instance);

        var trained = engine.VectorOf(first);
        var unknown = engine.VectorOf("no-such-item");

        Assert.Equal((serving.Version, ItemVector.Trained), (trained.Version, trained.Source));
        Assert.Equal(expected, trained.Values);
        Assert.Equal(ItemVector.None, unknown.Source);
        Assert.Empty(unknown.Values);
        Assert.Throws<ArgumentNullException>(() => engine.VectorOf(null!));
        Assert.Throws<ArgumentNullException>(() => engine.AddItems(null!));
    }
}
