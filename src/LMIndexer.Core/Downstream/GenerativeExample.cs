namespace LMIndexer.Core.Downstream;

/// <summary>A source sequence and the items that answer it (indices into the ID table's item order).</summary>
public sealed record GenerativeExample(int[] Source, int[] Targets);
