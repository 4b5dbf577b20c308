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
    private static readonly LatentPrior.PosteriorSample One = new([0, 0, 0], [1, 1, 1]);

    [Fact]
    public void A_fitted_prior_recovers_the_mean_and_covariance_of_the_means_and_keeps_a_seeded_sample_of_the_posteriors()
    {
        var gaussian = new LatentPrior { Mean = Mean, Cholesky = L, Encodings = One, Drawings = 1 };
        var rng = new Random(1);
        var codes = Enumerable.Range(0, 20_000).Select(_ => new LatentCode(gaussian.Unwhiten(LatentMath.SamplePrior(3, rng)), [0.1f, 0.2f, 0.3f])).ToArray();
        var fitted = LatentPrior.Fit(codes, keep: 100, seed: 4);
        Assert.Null(fitted.Problem(3));
        Assert.Equal(20_000, fitted.Drawings);
        for (var i = 0; i < 3; i++) Assert.Equal(Mean[i], fitted.Mean[i], 0.05);
        for (var i = 0; i < 9; i++) Assert.Equal(L[i], fitted.Cholesky[i], 0.05); // of the μ: σ does not widen it

        Assert.Equal(100, fitted.Encodings.Count(3));
        for (var n = 0; n < 100; n++)
        {
            var mu = fitted.Encodings.Mu[(n * 3)..(n * 3 + 3)];
            Assert.Contains(codes, c => c.Mu.SequenceEqual(mu));
            Assert.Equal([0.1f, 0.2f, 0.3f], fitted.Encodings.Sigma[(n * 3)..(n * 3 + 3)]);
        }
        Assert.Equal(fitted.Encodings.Mu, LatentPrior.Fit(codes, keep: 100, seed: 4).Encodings.Mu);
        Assert.NotEqual(fitted.Encodings.Mu, LatentPrior.Fit(codes, keep: 100, seed: 5).Encodings.Mu);
        Assert.Equal(2, LatentPrior.Fit(codes[..2]).Encodings.Count(3)); // fewer drawings than it keeps: all of them
    }

    [Fact]
    public void Samples_come_from_the_mixture_of_the_kept_posteriors_not_from_the_gaussian_between_them()
    {
        // Two drawings far apart: the Gaussian over them has its mass in between, where no drawing encodes.
        var prior = new LatentPrior
        {
            Mean = [0, 0, 0], Cholesky = [10, 0, 0, 0, 1, 0, 0, 0, 1],
            Encodings = new([-10, 0, 0, 10, 0, 0], [0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f]),
        };
        var rng = new Random(2);
        var z = Enumerable.Range(0, 10_000).Select(_ => prior.Sample(rng)).ToArray();
        Assert.All(z, v => Assert.InRange(Math.Abs(v[0]), 7.5, 12.5)); // 5 σ from either centre
        Assert.Equal(0.5, z.Count(v => v[0] > 0) / 10_000.0, 0.03);
        Assert.Equal(0.25, z.Where(v => v[0] > 0).Average(v => (v[0] - 10) * (v[0] - 10)), 0.03); // σ²
        Assert.Equal(z.Select(v => v[1]), new Func<float[][]>(() => { var again = new Random(2); return [.. Enumerable.Range(0, 10_000).Select(_ => prior.Sample(again))]; })().Select(v => v[1]));
    }

    [Fact]
    public void Whitening_and_back_is_the_identity()
    {
        var prior = new LatentPrior { Mean = Mean, Cholesky = L, Encodings = One, Drawings = 1 };
        float[] z = [3, 1, -2];
        var w = prior.Whiten(z);
        Assert.Equal((z[0] - 1) / 2, w[0], 1e-5); // L₀₀ w₀ = z₀ − m₀
        var back = prior.Unwhiten(w);
        for (var i = 0; i < 3; i++) Assert.Equal(z[i], back[i], 1e-5);
    }

    [Fact]
    public void A_prior_that_does_not_fit_says_why()
    {
        Assert.Contains("latent size is 4", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = One, Drawings = 1 }.Problem(4));
        Assert.Contains("diagonal must be positive", new LatentPrior { Mean = Mean, Cholesky = [1, 0, 0, 0, 0, 0, 0, 0, 1], Encodings = One, Drawings = 1 }.Problem(3));
        Assert.Contains("lower-triangular", new LatentPrior { Mean = Mean, Cholesky = [1, 1, 0, 0, 1, 0, 0, 0, 1], Encodings = One, Drawings = 1 }.Problem(3));
        Assert.Contains("not finite", new LatentPrior { Mean = [float.NaN, 0, 0], Cholesky = L, Encodings = One, Drawings = 1 }.Problem(3));
        Assert.Contains("not finite", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = new([0, float.PositiveInfinity, 0], [1, 1, 1]), Drawings = 1 }.Problem(3));
        Assert.Contains("N × 3 means and as many sigmas", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = new([0, 0, 0, 0], [1, 1, 1, 1]), Drawings = 1 }.Problem(3));
        Assert.Contains("N × 3 means and as many sigmas", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = new([0, 0, 0], [1, 1]), Drawings = 1 }.Problem(3));
        Assert.Contains("N × 3 means and as many sigmas", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = new([], []) }.Problem(3));
        Assert.Contains("sigmas must be finite and not negative", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = new([0, 0, 0], [1, -1, 1]), Drawings = 1 }.Problem(3));
        Assert.Contains("it keeps 2 encodings of the 1 drawings", new LatentPrior { Mean = Mean, Cholesky = L, Encodings = new([0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1]), Drawings = 1 }.Problem(3));
    }

    [Fact]
    public void A_model_folder_carries_its_prior_checked_at_load()
    {
        using var root = new TempFolder();
        var folder = Path.Combine(root.Path, "m");
        var manifest = TestModels.Write(folder, TestWeights.Random(5, vae: true));
        var z = manifest.LatentSize;
        var rng = new Random(3);
        var prior = new LatentPrior
        {
            Mean = new float[z], Cholesky = [.. Enumerable.Range(0, z * z).Select(i => i % (z + 1) == 0 ? 0.5f : 0f)], Drawings = 2,
            Encodings = new([.. Enumerable.Range(0, 2 * z).Select(_ => (float)rng.NextDouble() - 0.5f)], [.. Enumerable.Range(0, 2 * z).Select(_ => (float)rng.NextDouble())]),
        };
        ModelWriter.WritePrior(folder, prior);
        using (var model = SketchModel.Load(folder))
        {
            Assert.Equal(prior.Cholesky, model.Prior!.Cholesky);
            Assert.Equal(prior.Encodings.Mu, model.Prior.Encodings.Mu); // base64 float32: exact
            Assert.Equal(prior.Encodings.Sigma, model.Prior.Encodings.Sigma);
        }

        // Changed after it was written: its sha256 no longer matches.
        File.AppendAllText(Path.Combine(folder, ModelFolder.PriorFile), " ");
        Assert.StartsWith("prior.json sha256 is ", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
        // Present but not listed.
        var listed = ModelManifest.Read(folder);
        (listed with { Sha256 = listed.Sha256.Where(kv => kv.Key != ModelFolder.PriorFile).ToDictionary() }).Write(folder);
        Assert.Equal("model.json has no sha256 for prior.json", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
        // A prior.json of its own, listed with its right hash, so that only its content is wrong.
        void WriteListed(object content)
        {
            File.WriteAllText(Path.Combine(folder, ModelFolder.PriorFile), System.Text.Json.JsonSerializer.Serialize(content));
            var manifest = ModelManifest.Read(folder);
            (manifest with { Sha256 = new(manifest.Sha256) { [ModelFolder.PriorFile] = FileHash.Sha256Hex(Path.Combine(folder, ModelFolder.PriorFile)) } }).Write(folder);
        }
        // Of another latent size.
        WriteListed(new { mean = new float[z + 1], cholesky = new float[(z + 1) * (z + 1)], encodings = new { mu = new byte[4 * (z + 1)], sigma = new byte[4 * (z + 1)] } });
        Assert.StartsWith($"prior.json: its mean has {z + 1} numbers", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
        // Written before the mixture (a Gaussian only): the reason says how to write it anew.
        WriteListed(new { mean = new float[z], cholesky = new float[z * z] });
        var old = Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason;
        Assert.Contains("'encodings'", old);
        Assert.EndsWith("sketch-trainer fit-prior writes it anew", old);
        using (var model = SketchModel.Load(folder, withPrior: false)) Assert.Null(model.Prior); // what fit-prior reads

        // Parts that are null or missing are named at load, and stop only this folder.
        foreach (var encodings in new object?[] { null, new { }, new { mu = Convert.ToBase64String(new byte[4 * z]) }, new { mu = (string?)null, sigma = Convert.ToBase64String(new byte[4 * z]) } })
        {
            WriteListed(new { mean = new float[z], cholesky = new float[z * z], encodings });
            Assert.StartsWith("prior.json is not a valid prior", Assert.Throws<ModelLoadException>(() => SketchModel.Load(folder)).Reason);
        }
    }
}
