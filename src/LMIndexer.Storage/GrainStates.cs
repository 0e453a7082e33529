namespace LMIndexer.Storage;

/// <summary>Filling an <see cref="IGrainState{T}"/> the way Orleans expects after a read, write or clear.</summary>
public static class GrainStates
{
    /// <summary>No record: a fresh state, no etag.</summary>
    public static void SetMissing<T>(IGrainState<T> grainState)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>A stored record: its state (from <see cref="GrainStateJson"/>) and etag.</summary>
    public static void SetLoaded<T>(IGrainState<T> grainState, string json, string etag)
    {
        ArgumentNullException.ThrowIfNull(grainState);
        grainState.State = GrainStateJson.Deserialize<T>(json) ?? Activator.CreateInstance<T>();
        grainState.ETag = etag;
        grainState.RecordExists = true;
    }
}
