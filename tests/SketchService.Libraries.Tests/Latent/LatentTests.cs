using SketchService.Core.Latent;

namespace SketchService.Libraries.Tests.Latent;

public sealed class LatentTests
{
    private static readonly float[] A = [1, 2, -3, 0.5f];
    private static readonly float[] B = [-0.25f, 4, 1, 2];
    private static readonly Dictionary<string, float[]> Operands = new() { ["a"] = A, ["b"] = B, ["cat_head"] = A, ["pig_body"] = B, ["pig_head"] = [0, 1, 0, 1] };

    private static float[] Eval(string text) => LatentExpression.Parse(text).Evaluate(Operands);

    private static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tol = 1e-6f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void Sum_then_difference_gives_back_the_first_operand() => Close(A, Eval("a + b - b"));

    [Fact]
    public void Half_and_half_equals_lerp() => Close(LatentMath.Lerp(A, B, 0.5), Eval("0.5*a + 0.5*b"));

    [Fact]
    public void Analogy_precedence_parentheses_and_unary_minus()
    {
        Close([.. A.Select((x, i) => x + (B[i] - Operands["pig_head"][i]))], Eval("cat_head + (pig_body - pig_head)"));
        Close([.. A.Select((x, i) => -x * 2 + B[i] / 4)], Eval("-a*2 + b/4"));
        Close([.. A.Select(x => x * 3)], Eval("(1 + 2) * a"));
        Close([.. A.Select(x => x * 0.25f)], Eval("a / 2 / 2"));
        Close([.. A.Select((x, i) => x - B[i] + A[i])], Eval("a - b + a"));
        Close([.. A.Select(x => x * 1.5e-1f)], Eval("a*1.5e-1"));
        Close([.. A.Select(x => -(-x))], Eval("--a"));
        Assert.Equal(["cat_head", "pig_body", "pig_head"], LatentExpression.Parse("cat_head + (pig_body - pig_head) * 1 + cat_head").Operands);
    }

    [Theory]
    [InlineData("a + ", 4, "an operand")]
    [InlineData("cat + * b", 6, "an operand")]
    [InlineData("(a + b", 6, "')'")]
    [InlineData("a b", 2, "an operator or the end of the expression")]
    [InlineData("", 0, "an operand")]
    [InlineData("a + $", 4, "an operand")]
    [InlineData("2e+ * a", 2, "digits of an exponent")]
    [InlineData("a)", 1, "an operator or the end of the expression")]
    public void Parse_errors_report_position_and_what_was_expected(string text, int position, string expected)
    {
        var e = Assert.Throws<LatentExpressionException>(() => LatentExpression.Parse(text));
        Assert.Equal(position, e.Position);
        Assert.StartsWith($"expected {expected} at position {position}", e.Message);
    }

    [Theory]
    [InlineData("a + zebra", "unknown operand 'zebra' at position 4")]
    [InlineData("a * b", "cannot multiply two vectors at position 2")]
    [InlineData("a / (1 - 1)", "division by zero at position 2")]
    [InlineData("2 / a", "cannot divide by a vector at position 2")]
    [InlineData("a + 1", "cannot add a number and a vector at position 2")]
    [InlineData("1 + 2", "the expression is a number")]
    [InlineData("a * 1e300 * 1e300", "the result is not finite")]
    public void Evaluation_errors_have_clear_messages(string text, string message)
    {
        var e = Assert.Throws<LatentExpressionException>(() => Eval(text));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Size_mismatch_is_reported()
    {
        var e = Assert.Throws<LatentExpressionException>(() => LatentExpression.Parse("a - c").Evaluate(new Dictionary<string, float[]> { ["a"] = A, ["c"] = [1, 2] }));
        Assert.Equal("vector sizes differ at position 2: 4 and 2", e.Message);
    }

    [Fact]
    public void Deep_or_long_expressions_are_refused_before_they_can_overflow_the_stack()
    {
        const int nesting = LatentExpression.MaxNesting, nodes = LatentExpression.MaxNodes;
        // At the bounds: parsed and evaluated. -a+a+…+a: a negation, then a name and an operator for each a.
        Close(A, Eval(new string('(', nesting) + "a" + new string(')', nesting)));
        Close(A, Eval(new string('-', nesting) + "a"));
        var longest = "-a" + string.Concat(Enumerable.Repeat("+a", nodes / 2 - 1));
        Close([.. A.Select(x => x * (nodes / 2 - 2))], Eval(longest), 1e-3f);
        // Past them, whatever the text's length (a setting may allow 100 000 characters): a clear error, not a crash.
        var parens = Assert.Throws<LatentExpressionException>(() => LatentExpression.Parse(new string('(', 50_000) + "a" + new string(')', 50_000)));
        Assert.Equal($"nested more than {nesting} deep at position {nesting}", parens.Message);
        var minus = Assert.Throws<LatentExpressionException>(() => LatentExpression.Parse(new string('-', nesting + 1) + "a"));
        Assert.StartsWith($"nested more than {nesting} deep", minus.Message);
        var chain = Assert.Throws<LatentExpressionException>(() => LatentExpression.Parse(longest + "+a"));
        Assert.StartsWith($"more than {nodes} operands", chain.Message);
    }

    [Fact]
    public void Slerp_hits_the_endpoints_and_keeps_the_norm_between_equal_norm_codes()
    {
        Close(A, LatentMath.Slerp(A, B, 0));
        Close(B, LatentMath.Slerp(A, B, 1), 1e-5f);
        float[] x = [1, 0, 0], y = [0, 1, 0];
        var mid = LatentMath.Slerp(x, y, 0.5);
        Close([MathF.Sqrt(0.5f), MathF.Sqrt(0.5f), 0], mid);
    }

    [Fact]
    public void Slerp_of_parallel_or_zero_vectors_falls_back_to_lerp()
    {
        float[] x = [1, 2, 3], twice = [2, 4, 6], zero = [0, 0, 0];
        Close(LatentMath.Lerp(x, twice, 0.3), LatentMath.Slerp(x, twice, 0.3));
        Close(LatentMath.Lerp(x, zero, 0.3), LatentMath.Slerp(x, zero, 0.3));
        Assert.All(LatentMath.Slerp(x, [-1, -2, -3], 0.5), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Interpolate_includes_both_ends()
    {
        var path = LatentMath.Interpolate(A, B, 5, InterpolationMode.Linear);
        Assert.Equal(5, path.Length);
        Close(A, path[0]);
        Close(B, path[^1]);
        Close(LatentMath.Lerp(A, B, 0.25), path[1]);
        var sphere = LatentMath.Interpolate(A, B, 3, InterpolationMode.Spherical);
        Close(LatentMath.Slerp(A, B, 0.5), sphere[1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => LatentMath.Interpolate(A, B, 1, InterpolationMode.Linear));
    }
}
