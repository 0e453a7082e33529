using System.Reflection;
using LMIndexer.Abstractions;
using LMIndexer.Grains.Inference;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace LMIndexer.Grains.Tests;

/// <summary>Replica choice, deadline and the one retry of <see cref="InferenceRoute"/>, against replicas that fail on cue.</summary>
public sealed class InferenceRouteTests
{
    /// <summary>A replica whose answer the test decides; it records that it was asked, and what.</summary>
    private sealed class Replica(string key, Func<Task<GenerationResult>> answer, List<string> asked, List<string> calls) : IIndexerInferenceGrain
    {
        private Task<GenerationResult> Answer(string call)
        {
            lock (asked)
            {
                asked.Add(key);
                calls.Add(call);
            }
            return answer();
        }

        public Task<GenerationResult> GenerateAsync(IReadOnlyList<ItemRecord> history, int beams) =>
            Answer($"records {string.Join(",", history.Select(h => $"{h.ItemId}:{h.Title}"))} beams {beams}");
        public Task<GenerationResult> GenerateFromItemIdsAsync(IReadOnlyList<string> history, int beams) =>
            Answer($"ids {string.Join(",", history)} beams {beams}");
        public Task<GenerationResult> SearchAsync(string query, int beams) => Answer($"query {query} beams {beams}");
        public Task<InferenceStats> GetStatsAsync() => throw new NotSupportedException();
        public Task WarmUpAsync() => throw new NotSupportedException();
        public Task UnloadAsync() => throw new NotSupportedException();
        public Task<int> AddItemsAsync(IReadOnlyList<PrefixEntry> entries) => throw new NotSupportedException();
        public Task<ItemVector> GetItemVectorAsync(string itemId) => throw new NotSupportedException();
    }

    /// <summary>An <see cref="IGrainFactory"/> that hands out <see cref="Replica"/>s by key and nothing else.</summary>
    public class Factory : DispatchProxy
    {
        public Func<string, IIndexerInferenceGrain> Replicas { get; set; } = _ => throw new InvalidOperationException();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true } && args is [string key, null]
                ? Replicas(key)
                : throw new NotSupportedException(targetMethod?.Name);
    }

    private static readonly GenerationResult Answered = new("v1", [new GeneratedId([1, 2], -0.5, "item-a")]);

    private static (InferenceRoute Route, List<string> Asked) Route(int replicas, Func<string, Task<GenerationResult>> answer) =>
        Route(replicas, answer, [], NullLogger<InferenceRoute>.Instance);

    private static (InferenceRoute Route, List<string> Asked) Route(int replicas, Func<string, Task<GenerationResult>> answer, List<string> calls, ILogger<InferenceRoute> logger)
    {
        var asked = new List<string>();
        var factory = DispatchProxy.Create<IGrainFactory, Factory>();
        ((Factory)(object)factory).Replicas = key => new Replica(key, () => answer(key), asked, calls);
        return (new InferenceRoute(factory, Options.Create(new InferenceOptions { Replicas = replicas }), logger), asked);
    }

    private static readonly IndexVersionInfo V1 = new("v1", "/bundles/v1", DateTimeOffset.UnixEpoch, 10, ItemText: false);

    [Fact]
    public async Task A_replica_that_fails_fast_is_retried_once_on_the_next_and_a_user_keeps_one_replica()
    {
        var first = InferenceRoute.Replica("user-7", 3);
        var (route, asked) = Route(3, key => key == $"v1/{first}" ? Task.FromException<GenerationResult>(new SiloUnavailableException("gone")) : Task.FromResult(Answered));
        var result = await route.RecommendAsync(V1, "user-7", [new ItemRecord("a", "A")], 5, DateTime.UtcNow.AddSeconds(5));
        Assert.Same(Answered, result);
        Assert.Equal([$"v1/{first}", $"v1/{(first + 1) % 3}"], asked);

        Assert.Equal(first, InferenceRoute.Replica("user-7", 3));
        Assert.Equal(0, InferenceRoute.Replica("user-7", 1));
        Assert.Equal(3, Enumerable.Range(0, 60).Select(i => InferenceRoute.Replica($"user-{i}", 3)).Distinct().Count());
    }

    [Fact]
    public async Task A_replica_that_runs_out_of_time_is_not_retried_and_a_second_failure_surfaces()
    {
        var never = new TaskCompletionSource<GenerationResult>();
        var (slow, askedSlow) = Route(2, _ => never.Task);
        await Assert.ThrowsAsync<TimeoutException>(() => slow.SearchAsync("v1", "lipstick", 5, DateTime.UtcNow.AddMilliseconds(50)));
        Assert.Single(askedSlow);

        var (broken, askedBroken) = Route(2, key => Task.FromException<GenerationResult>(new SiloUnavailableException(key)));
        var error = await Assert.ThrowsAsync<SiloUnavailableException>(() => broken.SearchAsync("v1", "lipstick", 5, DateTime.UtcNow.AddSeconds(5)));
        Assert.Equal(2, askedBroken.Count);
        Assert.Contains(askedBroken[1], error.Message, StringComparison.Ordinal);   // the retry's failure is the one reported

        var (late, askedLate) = Route(2, _ => Task.FromException<GenerationResult>(new SiloUnavailableException("gone")));
        await Assert.ThrowsAsync<SiloUnavailableException>(() => late.SearchAsync("v1", "lipstick", 5, DateTime.UtcNow.AddMilliseconds(-1)));
        Assert.Single(askedLate);   // past the deadline: no retry
    }

    [Fact]
    public async Task A_model_that_reads_only_ids_gets_item_ids_and_one_that_reads_text_gets_the_records()
    {
        var calls = new List<string>();
        var (route, _) = Route(1, _ => Task.FromResult(Answered), calls, NullLogger<InferenceRoute>.Instance);
        ItemRecord[] history = [new("a", "Lipstick"), new("b", "Mascara")];

        await route.RecommendAsync(V1, "user-1", history, 5, DateTime.UtcNow.AddSeconds(5));
        await route.RecommendAsync(V1 with { ItemText = true }, "user-1", history, 7, DateTime.UtcNow.AddSeconds(5));
        await route.SearchAsync("v1", "red lipstick", 3, DateTime.UtcNow.AddSeconds(5));

        Assert.Equal(["ids a,b beams 5", "records a:Lipstick,b:Mascara beams 7", "query red lipstick beams 3"], calls);
    }

    [Fact]
    public async Task A_refused_argument_or_a_cancelled_call_is_not_retried()
    {
        var (refusing, askedRefusing) = Route(2, _ => Task.FromException<GenerationResult>(new ArgumentException("beams")));
        await Assert.ThrowsAsync<ArgumentException>(() => refusing.SearchAsync("v1", "lipstick", 5, DateTime.UtcNow.AddSeconds(5)));
        Assert.Single(askedRefusing);

        var (cancelled, askedCancelled) = Route(2, _ => Task.FromException<GenerationResult>(new OperationCanceledException()));
        await Assert.ThrowsAsync<OperationCanceledException>(() => cancelled.SearchAsync("v1", "lipstick", 5, DateTime.UtcNow.AddSeconds(5)));
        Assert.Single(askedCancelled);
    }

    [Fact]
    public async Task A_retry_is_logged_as_a_warning_naming_both_replicas()
    {
        var lines = new LoggedLines<InferenceRoute>();
        var first = InferenceRoute.Replica("lipstick", 2);
        var (route, _) = Route(2, key => key == $"v1/{first}" ? Task.FromException<GenerationResult>(new SiloUnavailableException("gone")) : Task.FromResult(Answered), [], lines);

        await route.SearchAsync("v1", "lipstick", 5, DateTime.UtcNow.AddSeconds(5));

        var (level, text) = Assert.Single(lines.Logged);
        Assert.Equal(LogLevel.Warning, level);
        Assert.StartsWith($"Inference replica v1/{first} failed (", text, StringComparison.Ordinal);
        Assert.EndsWith($"retrying on replica {(first + 1) % 2}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_version_or_history_is_refused()
    {
        var (route, asked) = Route(1, _ => Task.FromResult(Answered));

        await Assert.ThrowsAsync<ArgumentNullException>("version", () => route.RecommendAsync(null!, "u", [], 5, DateTime.UtcNow.AddSeconds(5)));
        await Assert.ThrowsAsync<ArgumentNullException>("history", () => route.RecommendAsync(V1, "u", null!, 5, DateTime.UtcNow.AddSeconds(5)));
        Assert.Empty(asked);
    }
}
