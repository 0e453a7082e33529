using LMIndexer.Abstractions;
using LMIndexer.Grains.Versions;

namespace LMIndexer.Grains.Tests;

/// <summary>The version registry's rules, on its state alone (the grain persists it and warms models up).</summary>
public sealed class IndexVersionRulesTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static IndexVersionInfo Version(string name, int day, bool ready = true, string task = IndexVersionRules.Recommendation) =>
        new(name, "/bundles/" + name, Start.AddDays(day), 100, task, ready);

    private static (IndexVersionRules Rules, IndexVersionRegistry Registry) Registry(params IndexVersionInfo[] versions)
    {
        var registry = new IndexVersionRegistry();
        var rules = new IndexVersionRules(registry);
        foreach (var version in versions)
            rules.Register(version);
        return (rules, registry);
    }

    private static string[] Names(IndexVersionRegistry registry) => [.. registry.Versions.Select(v => v.Version)];

    [Theory]
    [InlineData("", IndexVersionRules.Recommendation, "version")]
    [InlineData("  ", IndexVersionRules.Recommendation, "version")]
    [InlineData("v1/a", IndexVersionRules.Recommendation, "cannot contain '/'")]
    [InlineData("v1", "retrieval", "Only recommendation and search bundles")]
    public void A_bad_name_or_task_is_refused_and_nothing_registered(string name, string task, string expected)
    {
        var (rules, registry) = Registry();

        var error = Assert.ThrowsAny<ArgumentException>(() => rules.Register(new IndexVersionInfo(name, "/b", Start, 1, task)));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Empty(registry.Versions);
    }

    [Fact]
    public void Registering_a_name_again_replaces_the_entry()
    {
        var (rules, registry) = Registry(Version("v1", 1, ready: false));

        rules.Register(Version("v1", 2));

        var only = Assert.Single(registry.Versions);
        Assert.True(only.Ready);
        Assert.Equal(Start.AddDays(2), only.Registered);
    }

    [Theory]
    [InlineData(IndexVersionRules.Recommendation)]
    [InlineData(IndexVersionRules.Search)]
    public void A_served_version_cannot_be_backfilled_again_under_its_name(string task)
    {
        var (rules, registry) = Registry(Version("v1", 1, task: task));
        rules.Activate(rules.Activatable("v1"), retain: 5);

        var error = Assert.Throws<DomainConflictException>(() => rules.Register(Version("v1", 2, ready: false, task: task)));

        Assert.Contains("is being served", error.Message, StringComparison.Ordinal);
        Assert.True(Assert.Single(registry.Versions).Ready);
        // Registered ready (an embedded host publishing its own bundle again) is allowed.
        rules.Register(Version("v1", 3, task: task));
    }

    [Fact]
    public void A_version_is_ready_once()
    {
        var (rules, registry) = Registry(Version("v1", 1, ready: false));

        Assert.True(rules.MarkReady("v1"));
        Assert.False(rules.MarkReady("v1"));

        Assert.True(registry.Versions[0].Ready);
        Assert.Contains("'v9' is not registered", Assert.Throws<KeyNotFoundException>(() => rules.MarkReady("v9")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_registered_and_completed_version_can_be_activated()
    {
        var (rules, registry) = Registry(Version("v1", 1, ready: false));

        Assert.Contains("'v9' is not registered", Assert.Throws<KeyNotFoundException>(() => rules.Activatable("v9")).Message, StringComparison.Ordinal);
        var error = Assert.Throws<DomainConflictException>(() => rules.Activatable("v1"));
        Assert.Contains("before its backfill has completed", error.Message, StringComparison.Ordinal);
        Assert.Null(registry.Active);

        rules.MarkReady("v1");
        Assert.Equal("v1", rules.Activatable("v1").Version);
    }

    [Fact]
    public void Activating_keeps_the_replaced_version_for_rollback_and_the_same_version_again_changes_nothing()
    {
        var (rules, registry) = Registry(Version("v1", 1), Version("v2", 2));
        rules.Activate(rules.Activatable("v1"), 5);

        rules.Activate(rules.Activatable("v2"), 5);
        Assert.Equal(("v2", "v1"), (registry.Active, registry.Previous));

        rules.Activate(rules.Activatable("v2"), 5);
        Assert.Equal(("v2", "v1"), (registry.Active, registry.Previous));
    }

    [Fact]
    public void A_search_version_replaces_only_the_search_version()
    {
        var (rules, registry) = Registry(Version("v1", 1), Version("s1", 2, task: IndexVersionRules.Search), Version("s2", 3, task: IndexVersionRules.Search));
        rules.Activate(rules.Activatable("v1"), 5);

        rules.Activate(rules.Activatable("s1"), 5);
        rules.Activate(rules.Activatable("s2"), 5);

        Assert.Equal(("v1", (string?)null, "s2"), (registry.Active, registry.Previous, registry.ActiveSearch));
    }

    [Fact]
    public void Rollback_swaps_the_active_and_previous_versions()
    {
        var (rules, registry) = Registry(Version("v1", 1), Version("v2", 2));
        rules.Activate(rules.Activatable("v1"), 5);
        Assert.Contains("no previous version", Assert.Throws<DomainConflictException>(() => rules.Rollback()).Message, StringComparison.Ordinal);

        rules.Activate(rules.Activatable("v2"), 5);

        Assert.Equal("v1", rules.Rollback());
        Assert.Equal(("v1", "v2"), (registry.Active, registry.Previous));
        Assert.Equal("v2", rules.Rollback());
    }

    [Fact]
    public void Retirement_drops_the_oldest_completed_versions_beyond_the_limit_and_never_a_served_one()
    {
        // Registered out of age order; v0 (oldest) is active, v1 the rollback target, s0 the search version, v2 still backfilling.
        var (rules, registry) = Registry(Version("v3", 3), Version("v0", 0), Version("v2", 2, ready: false), Version("v1", 1),
            Version("s0", -1, task: IndexVersionRules.Search), Version("v4", 4), Version("v5", 5));
        registry.Active = "v0";
        registry.Previous = "v1";
        registry.ActiveSearch = "s0";

        var retired = rules.Retire(retain: 5);

        Assert.Equal(["v3", "v4"], retired.Select(v => v.Version));
        Assert.Equal(["v0", "v2", "v1", "s0", "v5"], Names(registry));
    }

    [Fact]
    public void Nothing_is_retired_within_the_limit_or_when_only_protected_versions_are_left()
    {
        var (rules, registry) = Registry(Version("v1", 1), Version("v2", 2), Version("v3", 3, ready: false));
        registry.Active = "v2";
        registry.Previous = "v1";

        Assert.Empty(rules.Retire(retain: 3));
        Assert.Empty(rules.Retire(retain: 1));
        Assert.Equal(3, registry.Versions.Count);
    }

    [Fact]
    public void Activation_retires_what_the_switch_leaves_beyond_the_limit()
    {
        // Each version backfilled, then activated, as a retraining cycle goes.
        var (rules, registry) = Registry(Version("v1", 1));
        rules.Activate(rules.Activatable("v1"), 2);
        rules.Register(Version("v2", 2));
        Assert.Empty(rules.Activate(rules.Activatable("v2"), 2));
        rules.Register(Version("v3", 3));

        var retired = rules.Activate(rules.Activatable("v3"), 2);

        Assert.Equal(["v1"], retired.Select(v => v.Version));
        Assert.Equal(["v2", "v3"], Names(registry));
    }

    [Fact]
    public void A_missing_version_is_refused()
    {
        var (rules, registry) = Registry();

        Assert.Throws<ArgumentNullException>(() => rules.Register(null!));
        Assert.Throws<ArgumentNullException>(() => rules.Activate(null!, 5));
        Assert.Empty(registry.Versions);
    }
}
