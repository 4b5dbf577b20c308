namespace SketchService.Core.Model;

/// <summary>
/// The one contract between the trainer and the service: a model is a folder holding these files.
/// The trainer's exporter and the Magenta importer write it (SketchService.Export); the service reads it (SketchService.Runtime's SketchModel).
/// </summary>
public static class ModelFolder
{
    public const string ManifestFile = "model.json";
    public const string EncoderFile = "encoder.onnx";
    public const string DecoderInitFile = "decoder_init.onnx";
    public const string DecoderStepFile = "decoder_step.onnx";

    /// <summary>
    /// prior.json (optional, VAE only): where the training drawings encode (<see cref="Latent.LatentPrior"/>: a mixture
    /// of their posteriors, and a Gaussian over their μ), from which /generate samples z; listed with its sha256 in
    /// model.json when present.
    /// </summary>
    public const string PriorFile = "prior.json";

    /// <summary>Bumped whenever file names, graph inputs/outputs or the manifest change incompatibly (2: decoder_step takes z_gates, not z).</summary>
    public const int FormatVersion = 2;

    /// <summary>
    /// encoder.onnx: strokes [T, B, 5] float (stroke-5, time-major) + lengths [B] int32 → mu, presig [B, Z]. A model
    /// trained with the partial flag also takes partial [B] float: 1 where the sketch is only the start of a drawing
    /// (what /complete sends), 0 where it is whole.
    /// </summary>
    public static class Encoder
    {
        public const string Strokes = "strokes";
        public const string Lengths = "lengths";
        public const string Partial = "partial";
        public const string Mu = "mu";
        public const string Presig = "presig";
    }

    /// <summary>
    /// decoder_init.onnx (VAE only): z [B, Z] → h, c [B, H] = split(tanh(W z + b)), c first as in Magenta; and z_gates
    /// [B, 4H], z's part of the decoder LSTM's input projection (z W_zᵀ), which stays the same at every step of a row.
    /// </summary>
    public static class DecoderInit
    {
        public const string Z = "z";
        public const string H = "h";
        public const string C = "c";
        public const string ZGates = "z_gates";
    }

    /// <summary>
    /// decoder_step.onnx: x [B, 5] (previous stroke-5 point), z_gates [B, 4H] (VAE only: decoder_init's), h, c [B, H]
    /// → params [B, 6M+3] raw (pen logits 3, then M each of π logits, μx, μy, log σx, log σy, atanh ρ),
    /// h_out, c_out [B, H].
    /// </summary>
    public static class DecoderStep
    {
        public const string X = "x";
        public const string ZGates = "z_gates";
        public const string H = "h";
        public const string C = "c";
        public const string Params = "params";
        public const string HOut = "h_out";
        public const string COut = "c_out";
    }
}
