using LMIndexer.Abstractions;

namespace LMIndexer.Grains.Popularity;

/// <summary>
/// A silo counter's copy of the top popular items, so that fallback answers do not each call the
/// ranking singleton: read again when older than <paramref name="freshFor"/> or when asked for more
/// items than it holds while the ranking may have more.
/// </summary>
/// <param name="size">Items asked for at least: fallback answers ask for a few, so most are served from one copy.</param>
/// <param name="freshFor">How long a copy serves.</param>
internal sealed class PopularTopCopy(int size, TimeSpan freshFor)
{
    private IReadOnlyList<PopularItem>? items;
    private DateTime read;
    private int asked;

    /// <summary>When the copy was read (UTC).</summary>
    public DateTime ReadAt => read;

    /// <summary>How many items to ask the ranking for before answering a request for <paramref name="count"/>, or null when the copy serves.</summary>
    public int? ToAsk(int count, DateTime now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var serves = items is not null && now - read <= freshFor && (count <= asked || items.Count < asked);
        return serves ? null : Math.Max(count, size);
    }

    /// <summary>Keeps the ranking's answer to a request for <paramref name="askedFor"/> items.</summary>
    public void Store(IReadOnlyList<PopularItem> ranked, int askedFor, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        (items, asked, read) = (ranked, askedFor, now);
    }

    /// <summary>True when a copy exists (an older one is a better fallback than none when the ranking is unreachable).</summary>
    public bool HasCopy => items is not null;

    /// <summary>The first <paramref name="count"/> items of the copy.</summary>
    public IReadOnlyList<PopularItem> Take(int count) =>
        items is null ? throw new InvalidOperationException("No copy of the popular items has been read yet.") : [.. items.Take(count)];
}
