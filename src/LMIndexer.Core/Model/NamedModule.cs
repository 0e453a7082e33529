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

/// <summary>A module that only names its children: a level of Hugging Face's nesting with no computation of its own, kept so that state-dict names match.</summary>
internal sealed class NamedContainer(string name) : NamedModule(name)
{
    public void Add(string childName, nn.Module child) => register_module(childName, child);
}
