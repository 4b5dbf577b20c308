using SketchService.Core.Latent;
using SketchService.Core.Model;
using SketchService.Export;
using SketchService.Runtime.Models;

namespace SketchService.Libraries.Tests.Latent;

public sealed class LatentPriorTests
{
    // A correlated 3-d Gaussian: mean (1, -2, 0.5), L = [[2,0,0],[1,1,0],[0,-0.5,0.3]].
    private static readonly float[] Mean = [1, -2, 0.5f];
    private static readonly float[] L = [2, 0, 0, 1, 1, 0, 0, -0.5f, 0.3f];

    [Fact]
    public void A_fitted_prior_recovers_the_mean_and_covariance_it_was_fitted_to_and_samples_them_back()
    {
        var truth = new LatentPrior { Mean = Mean, Cholesky = L };
        var rng = new Random(1);
        var codes = Enumerable.Range(0, 20_000).Select(_ => truth.Sample(rng)).ToArray();
        var fitted = LatentPrior.Fit(codes);
        Assert.Null(fitted.Problem(3));
        for (var i = 0; i < 3; i++) Assert.Equal(Mean[i], fitted.Mean[i], 0.05);
        for (var i = 0; i < 9; i++) Assert.Equal(L[i], fitted.Cholesky[i], 0.05);

        var again = Enumerable.Range(0, 20_000).Select(_ => fitted.Sample(rng)).ToArray();
        var cov01 = again.Average(z => (z[0] - Mean[0]) * (z[1] - Mean[1]));
        Assert.Equal(2.0, cov01, 0.1); // (L·Lᵀ)[0,1] = 2·1
    }

    [Fact]
    public void Whitening_and_back_is_the_identity()
    {
        var prior = new LatentPrior { Mean = Mean, Cholesky = L };
        float[] z = [3, 1, -2];
        var w = prior.Whiten(z);
        Assert.Equal((z[0] - 1) / 2, w[0], 1e-5); // L₀₀ w₀ = z₀ − m₀
        var back = prior.Unwhiten(w);
        for (var i = 0; i < 3; i++) Assert.Equal(z[i], back[i], 1e-5);
    }

    [Fact]
    public void A_prior_that_does_not_fit_says_why()
    {
        Assert.Contains("latent size is 4", new LatentPrior { Mean = Mean, Cholesky = L }.Problem(4));
        Assert.Contains("diagonal must be positive", new LatentPrior { Mean = Mean, Cholesky = [1, 0, 0, 0, 0, 0, 0, 0, 1] }.Problem(3));
        Assert.Contains("lower-triangular", new LatentPrior { Mean = Mean, Cholesky = [1, 1, 0, 0, 1, 0, 0, 0, 1] }.Problem(3));
        Assert.Contains("not finite", new LatentPrior { Mean = [float.NaN, 0, 0], Cholesky = L }.Problem(3));
    }

    [Fact]
    public void A_model_folder_carries_its_prior_checked_at_load()
    {
        using var root = new TempFolder();
        var folder = Path.Combine(root.Path, "m");
        var manifest = TestModels.Write(folder, TestWeights.Random(5, vae: true));
        var z = manifest.LatentSize;
        var prior = new LatentPrior { Mean = new float[z], Cholesky = [.. Enumerable.Range(0, z * z).Select(i => i % (z + 1) == 0 ? 0.5f : 0f)], Drawings = 2 };
        ModelWriter.WritePrior(folder, prior);
        using (var model = SketchModel.Load(folder)) Assert.Equal(prior.Cholesky, model.Prior!.Cholesky);

        // Changed after it was written: its sha256 no longer matches.
        File.AppendAllText(Path.Combine(folder, ModelFolder.PriorFile), " ");
        Assert.StartsWith("prior.json sha256 is ", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
        // Present but not listed.
        var listed = ModelManifest.Read(folder);
        (listed with { Sha256 = listed.Sha256.Where(kv => kv.Key != ModelFolder.PriorFile).ToDictionary() }).Write(folder);
        Assert.Equal("model.json has no sha256 for prior.json", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
        // Of another latent size (listed with its right hash).
        File.WriteAllText(Path.Combine(folder, ModelFolder.PriorFile), System.Text.Json.JsonSerializer.Serialize(new { mean = new float[z + 1], cholesky = new float[(z + 1) * (z + 1)] }));
        listed = ModelManifest.Read(folder);
        (listed with { Sha256 = new(listed.Sha256) { [ModelFolder.PriorFile] = FileHash.Sha256Hex(Path.Combine(folder, ModelFolder.PriorFile)) } }).Write(folder);
        Assert.StartsWith($"prior.json: its mean has {z + 1} numbers", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
    }
}
