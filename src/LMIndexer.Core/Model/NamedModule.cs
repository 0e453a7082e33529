using static TorchSharp.torch;

namespace LMIndexer.Core.Model;

/// <summary>
/// A module whose parameters and children are only those registered by name. TorchSharp would
/// otherwise also register every field by reflection, giving each weight a second (C#-style) name
/// in the state dict: checkpoints would hold duplicates and stop matching Hugging Face's names.
/// </summary>
public abstract class NamedModule(string name) : nn.Module(name)
{
    protected override void RegisterComponents()
    {
    }
}

/// <inheritdoc cref="NamedModule"/>
public abstract class NamedModule<TInput, TResult>(string name) : nn.Module<TInput, TResult>(name)
{
    protected override void RegisterComponents()
    {
    }
}

/// <inheritdoc cref="NamedModule"/>
public abstract class NamedModule<TInput1, TInput2, TResult>(string name) : nn.Module<TInput1, TInput2, TResult>(name)
{
    protected override void RegisterComponents()
    {
    }
}
