using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace SketchService.Libraries.Tests.Onnx;

/// <summary>A test-side wrapper over an ORT session: named float/int inputs in, named float outputs out.</summary>
internal sealed class OrtGraph : IDisposable
{
    private readonly InferenceSession session;

    public OrtGraph(ModelProto model) => session = new InferenceSession(model.ToByteArray());

    public OrtGraph(string path) => session = new InferenceSession(path);

    public IReadOnlyList<string> InputNames => session.InputNames;

    public static OrtValue Tensor(float[] data, params long[] shape) => OrtValue.CreateTensorValueFromMemory(data, shape);

    public static OrtValue Tensor(int[] data, params long[] shape) => OrtValue.CreateTensorValueFromMemory(data, shape);

    public Dictionary<string, (float[] Data, long[] Shape)> Run(params (string Name, OrtValue Value)[] inputs)
    {
        try
        {
            var outputNames = session.OutputNames.ToArray();
            using var options = new RunOptions();
            using var results = session.Run(options, inputs.Select(i => i.Name).ToArray(), inputs.Select(i => i.Value).ToArray(), outputNames);
            var outputs = new Dictionary<string, (float[], long[])>();
            for (int k = 0; k < outputNames.Length; k++)
                outputs[outputNames[k]] = (results[k].GetTensorDataAsSpan<float>().ToArray(), results[k].GetTensorTypeAndShape().Shape);
            return outputs;
        }
        finally
        {
            foreach (var (_, value) in inputs) value.Dispose();
        }
    }

    public void Dispose() => session.Dispose();
}
