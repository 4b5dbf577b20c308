namespace SketchService.Runtime.Models;

/// <summary>One input or output of a graph, for GET /models/{id}: dims are symbolic names ("B", "T") or sizes ("512").</summary>
public sealed record TensorDescription(string Name, string ElementType, IReadOnlyList<string> Dims);

/// <summary>The inputs and outputs of one ONNX file of a model.</summary>
public sealed record GraphDescription(string File, IReadOnlyList<TensorDescription> Inputs, IReadOnlyList<TensorDescription> Outputs);
