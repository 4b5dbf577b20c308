using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace SketchService.Export;

/// <summary>A tensor dimension in a graph signature: a symbolic name ("B", "T") or a fixed size.</summary>
internal readonly record struct Dim(string? Param, long Value)
{
    public static implicit operator Dim(string param) => new(param, 0);
    public static implicit operator Dim(int value) => new(null, value);
}

/// <summary>Builds one ONNX graph by hand: inputs, outputs, constant initializers and nodes.</summary>
internal sealed class GraphBuilder(string name)
{
    /// <summary>Opset 17 and IR 8: everything used here is old and stable, and ORT 1.31 loads both.</summary>
    public const long OpsetVersion = 17;
    public const long IrVersion = 8;

    private readonly GraphProto graph = new() { Name = name };
    private int nodeCount;

    public void Input(string name, TensorProto.Types.DataType type, params Dim[] dims) => graph.Input.Add(Value(name, type, dims));

    public void Output(string name, TensorProto.Types.DataType type, params Dim[] dims) => graph.Output.Add(Value(name, type, dims));

    public string Constant(string name, float[] data, params long[] dims)
    {
        // raw_data is little-endian, which is what every platform ORT runs on uses in memory.
        AddInitializer(name, TensorProto.Types.DataType.Float, MemoryMarshal.AsBytes(data.AsSpan()), dims);
        return name;
    }

    public string Constant(string name, long[] data, params long[] dims)
    {
        AddInitializer(name, TensorProto.Types.DataType.Int64, MemoryMarshal.AsBytes(data.AsSpan()), dims);
        return name;
    }

    /// <summary>Adds a node; an empty string in <paramref name="outputs"/> skips an optional output.</summary>
    public void Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"{op}_{nodeCount++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
    }

    /// <summary>Single-output convenience form of <see cref="Node(string, string[], string[], AttributeProto[])"/>.</summary>
    public string Node(string op, string output, string[] inputs, params AttributeProto[] attributes)
    {
        Node(op, inputs, [output], attributes);
        return output;
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public ModelProto ToModel() => new()
    {
        IrVersion = IrVersion,
        ProducerName = "SketchService",
        OpsetImport = { new OperatorSetIdProto { Domain = "", Version = OpsetVersion } },
        Graph = graph,
    };

    private void AddInitializer(string name, TensorProto.Types.DataType type, ReadOnlySpan<byte> bytes, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(bytes) };
        t.Dims.AddRange(dims);
        graph.Initializer.Add(t);
    }

    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, Dim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d.Param is null
                ? new TensorShapeProto.Types.Dimension { DimValue = d.Value }
                : new TensorShapeProto.Types.Dimension { DimParam = d.Param });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
