using System.Globalization;

namespace SketchService.Core.Latent;

/// <summary>A parse or evaluation error in a latent expression. <see cref="Position"/> is 0-based, when known.</summary>
public sealed class LatentExpressionException(string message, int? position = null) : Exception(message)
{
    public int? Position { get; } = position;
}

/// <summary>
/// Latent arithmetic such as <c>cat_head + (pig_body - pig_head)</c> or <c>0.5*a + 0.5*b</c>.
/// Grammar (usual precedence, left-associative):
/// <code>
/// expr    = term (("+" | "-") term)*
/// term    = unary (("*" | "/") unary)*
/// unary   = "-" unary | primary
/// primary = number | name | "(" expr ")"        name = [A-Za-z_][A-Za-z0-9_]*
/// </code>
/// Names are operands (latent vectors) supplied at evaluation; numbers are scalars. Allowed: vector ± vector of the
/// same size, scalar·vector, vector·scalar, vector / scalar, and any scalar arithmetic. The result must be a vector.
/// </summary>
public sealed class LatentExpression
{
    /// <summary>
    /// Bounds on what parsing and evaluation recurse over, whatever the text's length: parentheses and minus signs
    /// nested, and operands, numbers and operators in all (a tree's depth is at most its nodes).
    /// </summary>
    public const int MaxNesting = 64, MaxNodes = 1024;

    private readonly Node root;

    private LatentExpression(string text, Node root, IReadOnlyList<string> operands)
    {
        Text = text;
        this.root = root;
        Operands = operands;
    }

    public string Text { get; }

    /// <summary>The distinct operand names, in order of first appearance: what the caller has to look up or encode.</summary>
    public IReadOnlyList<string> Operands { get; }

    public static LatentExpression Parse(string text)
    {
        var parser = new Parser(text);
        var root = parser.ParseAll();
        return new LatentExpression(text, root, parser.Names);
    }

    /// <summary>Evaluates with the given operand values; throws <see cref="LatentExpressionException"/> on any error.</summary>
    public float[] Evaluate(IReadOnlyDictionary<string, float[]> operands)
    {
        var value = Eval(root, operands);
        if (value.Vector is not { } vector)
            throw new LatentExpressionException("the expression is a number, not a latent vector: it needs at least one operand");
        var result = new float[vector.Length];
        for (int i = 0; i < vector.Length; i++)
        {
            result[i] = (float)vector[i];
            if (!float.IsFinite(result[i]))
                throw new LatentExpressionException($"the result is not finite (element {i} is {result[i]})");
        }
        return result;
    }

    private abstract record Node(int Position);
    private sealed record NumberNode(int Position, double Value) : Node(Position);
    private sealed record NameNode(int Position, string Name) : Node(Position);
    private sealed record NegateNode(int Position, Node Operand) : Node(Position);
    private sealed record BinaryNode(int Position, char Op, Node Left, Node Right) : Node(Position);

    /// <summary>A scalar (Vector null) or a vector, in double precision while evaluating.</summary>
    private readonly record struct Value(double Scalar, double[]? Vector);

    private static Value Eval(Node node, IReadOnlyDictionary<string, float[]> operands) => node switch
    {
        NumberNode n => new Value(n.Value, null),
        NameNode n => operands.TryGetValue(n.Name, out var v)
            ? new Value(0, [.. v.Select(x => (double)x)])
            : throw new LatentExpressionException($"unknown operand '{n.Name}' at position {n.Position}", n.Position),
        NegateNode n => Scale(Eval(n.Operand, operands), -1),
        BinaryNode b => Apply(b, Eval(b.Left, operands), Eval(b.Right, operands)),
        _ => throw new InvalidOperationException(node.GetType().Name),
    };

    private static Value Scale(Value v, double s) =>
        v.Vector is { } vec ? new Value(0, [.. vec.Select(x => x * s)]) : new Value(v.Scalar * s, null);

    private static Value Apply(BinaryNode b, Value left, Value right)
    {
        string at = $"at position {b.Position}";
        switch (b.Op)
        {
            case '+' or '-':
                double sign = b.Op == '+' ? 1 : -1;
                if (left.Vector is null && right.Vector is null) return new Value(left.Scalar + sign * right.Scalar, null);
                if (left.Vector is not { } l || right.Vector is not { } r)
                    throw new LatentExpressionException($"cannot {(b.Op == '+' ? "add" : "subtract")} a number and a vector {at}", b.Position);
                if (l.Length != r.Length)
                    throw new LatentExpressionException($"vector sizes differ {at}: {l.Length} and {r.Length}", b.Position);
                return new Value(0, [.. l.Zip(r, (x, y) => x + sign * y)]);
            case '*':
                if (left.Vector is not null && right.Vector is not null)
                    throw new LatentExpressionException($"cannot multiply two vectors {at}: one side must be a number", b.Position);
                return left.Vector is not null ? Scale(left, right.Scalar) : Scale(right, left.Scalar);
            case '/':
                if (right.Vector is not null)
                    throw new LatentExpressionException($"cannot divide by a vector {at}", b.Position);
                if (right.Scalar == 0)
                    throw new LatentExpressionException($"division by zero {at}", b.Position);
                return Scale(left, 1 / right.Scalar);
            default:
                throw new InvalidOperationException($"operator {b.Op}");
        }
    }

    /// <summary>Recursive descent over the grammar above; <see cref="pos"/> always points at the next non-space character.</summary>
    private sealed class Parser(string text)
    {
        private int pos, nesting, nodes;

        public List<string> Names { get; } = [];

        public Node ParseAll()
        {
            SkipSpaces();
            var node = Expr();
            if (pos < text.Length) throw Expected("an operator or the end of the expression");
            return node;
        }

        private Node Expr()
        {
            var node = Term();
            while (Peek() is '+' or '-')
            {
                int at = pos;
                char op = Next();
                node = Count(new BinaryNode(at, op, node, Term()));
            }
            return node;
        }

        private Node Term()
        {
            var node = Unary();
            while (Peek() is '*' or '/')
            {
                int at = pos;
                char op = Next();
                node = Count(new BinaryNode(at, op, node, Unary()));
            }
            return node;
        }

        private Node Unary()
        {
            if (Peek() != '-') return Primary();
            int at = pos;
            Next();
            Nest(at);
            var operand = Unary();
            nesting--;
            return Count(new NegateNode(at, operand));
        }

        private void Nest(int at)
        {
            if (++nesting > MaxNesting) throw new LatentExpressionException($"nested more than {MaxNesting} deep at position {at}", at);
        }

        private T Count<T>(T node) where T : Node =>
            ++nodes > MaxNodes ? throw new LatentExpressionException($"more than {MaxNodes} operands and operators at position {node.Position}", node.Position) : node;

        private Node Primary()
        {
            int start = pos;
            char c = Peek();
            if (c == '(')
            {
                Next();
                Nest(start);
                var inner = Expr();
                if (Peek() != ')') throw Expected("')'");
                Next();
                nesting--;
                return inner;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (pos < text.Length && (char.IsAsciiLetterOrDigit(text[pos]) || text[pos] == '_')) pos++;
                var name = text[start..pos];
                if (!Names.Contains(name)) Names.Add(name);
                SkipSpaces();
                return Count(new NameNode(start, name));
            }
            if (char.IsAsciiDigit(c) || (c == '.' && pos + 1 < text.Length && char.IsAsciiDigit(text[pos + 1])))
                return Number(start);
            throw Expected("an operand");
        }

        /// <summary>digits [. digits] [e [+-] digits], or . digits.</summary>
        private NumberNode Number(int start)
        {
            while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
            if (pos < text.Length && text[pos] == '.')
            {
                pos++;
                while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
            }
            if (pos < text.Length && text[pos] is 'e' or 'E')
            {
                int mark = pos++;
                if (pos < text.Length && text[pos] is '+' or '-') pos++;
                if (pos >= text.Length || !char.IsAsciiDigit(text[pos])) { pos = mark; throw Expected("digits of an exponent", mark + 1); }
                while (pos < text.Length && char.IsAsciiDigit(text[pos])) pos++;
            }
            double value = double.Parse(text.AsSpan(start, pos - start), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (!double.IsFinite(value)) throw new LatentExpressionException($"number out of range at position {start}", start);
            SkipSpaces();
            return Count(new NumberNode(start, value));
        }

        /// <summary>The current character, or '\0' at the end.</summary>
        private char Peek() => pos < text.Length ? text[pos] : '\0';

        private char Next()
        {
            char c = text[pos++];
            SkipSpaces();
            return c;
        }

        private void SkipSpaces()
        {
            while (pos < text.Length && char.IsWhiteSpace(text[pos])) pos++;
        }

        private LatentExpressionException Expected(string what, int? at = null)
        {
            int where = at ?? pos;
            string found = where < text.Length ? $"'{text[where]}'" : "the end";
            return new LatentExpressionException($"expected {what} at position {where}, found {found}", where);
        }
    }
}
