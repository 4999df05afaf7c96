"""The two-layer ReLU network the optimization lecture foreshadows, and backpropagation through it by the chain rule.

Per example x (D,), hidden width H, C classes, any classifier loss l of the scores:

    z = W1 x + b1              W1 (H, D), b1 (H,): the hidden pre-activations
    h = relu(z) = max(0, z)    elementwise, (H,)
    s = W2 h + b2              W2 (C, H), b2 (C,): the scores
    L = 1/N sum_i l(s_i) + lambda (sum(W1^2) + sum(W2^2))

Backpropagation, one layer at a time, with g = dl/ds (C,) the loss's per-example score gradient:

    dL/dW2 = g h^T                 (C, 1)(1, H)
    dL/db2 = g
    dL/dh  = W2^T g                (H, C)(C, 1)
    dL/dz  = dL/dh * H(z)          elementwise; H(0) = relu'(0) is the parameter H0 in [0, 1]
    dL/dW1 = (dL/dz) x^T           (H, 1)(1, D)
    dL/db1 = dL/dz

For a batch the examples are the columns: X (N, D) holds them as rows, Z = W1 X^T + b1 1^T (H, N),
A = relu(Z) (H, N), S = W2 A + b2 1^T (C, N), and G (C, N) stacks g_i. Summed over the examples (the mean's 1/N
carried along):

    dL/dW2 = G A^T / N + 2 lambda W2       dL/db2 = G 1 / N           (row sums of G)
    dL/dA  = W2^T G / N                    dL/dZ  = dL/dA * H(Z)
    dL/dW1 = (dL/dZ) X + 2 lambda W1       dL/db1 = (dL/dZ) 1         (row sums of dL/dZ)

Each linear step is derived by SymPy's matrix calculus on MatrixSymbols of symbolic sizes from its first-order
term (``Derivative(...).doit()``, as in :mod:`symgrad.symbolic.objectives.linear_layer`); the elementwise ReLU step
in index notation for symbolic N and H; and :func:`prove_chain_rule` differentiates the whole network, every
entry a symbol and ReLU written as Max(0, z), at small explicit sizes with an arbitrary loss l. The proofs are
:func:`prove_output_layer`, :func:`prove_relu_layer`, :func:`prove_hidden_layer`, :func:`prove_regularizer`,
:func:`prove_chain_rule`, and all of them together :func:`prove_two_layer_gradient`.
"""

import sympy as sp

from symgrad.symbolic.derivation import Derivation, is_identically_zero
from symgrad.symbolic.index_form import drop_range_guards
from symgrad.symbolic.notation import C as classes
from symgrad.symbolic.objectives import svm_hinge
from symgrad.symbolic.objectives.linear_layer import examples, features, inputs, regularization_strength
from symgrad.symbolic.registry import register

hidden_width = sp.Symbol("H", integer=True, positive=True)
relu_kink_value = sp.Symbol("H0", real=True)
"""relu'(0) = Heaviside(0): 0 is the lecture's 1(z > 0); any value in [0, 1] is a subgradient."""

first_weights = sp.MatrixSymbol("W1", hidden_width, features)
first_biases = sp.MatrixSymbol("b1", hidden_width, 1)
second_weights = sp.MatrixSymbol("W2", classes, hidden_width)
second_biases = sp.MatrixSymbol("b2", classes, 1)
hidden_activations = sp.MatrixSymbol("A", hidden_width, examples)
pre_activations = sp.MatrixSymbol("Z", hidden_width, examples)
score_gradients = sp.MatrixSymbol("G", classes, examples)
"""G (C, N): column i is dl/ds at example i, as the loss's generated code returns it."""
activation_gradients = sp.MatrixSymbol("dA", hidden_width, examples)
pre_activation_gradients = sp.MatrixSymbol("dZ", hidden_width, examples)
_ones_row = sp.OneMatrix(1, examples)


def matrix_derivative(objective: sp.Expr, wrt: sp.MatrixSymbol):
    """d objective / d wrt for a sum of (scaled) traces, one trace at a time: SymPy's matrix calculus returns 0 for
    ``.diff`` of a sum of traces (sympy#26585) and raises for ``Derivative(Trace(...)).doit()``; the proofs below
    catch a silent 0."""
    return sp.Add(*[term.diff(wrt) for term in sp.Add.make_args(objective)])


# The forward pass, one column per example.

hidden_pre_activations = first_weights * inputs.T + first_biases * _ones_row
"""Z = W1 X^T + b1 1^T, shape (H, N): column i is the lecture's z = W1 x_i + b1."""

relu_input = sp.Symbol("z", real=True)
relu = sp.Max(0, relu_input)
"""relu(z) = max(0, z), applied to every entry of Z."""

scores = second_weights * hidden_activations + second_biases * _ones_row
"""S = W2 A + b2 1^T, shape (C, N): column i is the lecture's s = W2 h_i + b2."""


# The backward pass, one layer at a time.

output_first_order = (
    sp.Trace(score_gradients.T * second_weights * hidden_activations) / examples
    + sp.Trace(score_gradients.T * second_biases * _ones_row) / examples
)
"""tr(G^T S)/N, the data loss's first-order term in S with G held fixed (a sum of traces: the trace of a sum is
not differentiated by SymPy)."""

second_weights_gradient = matrix_derivative(output_first_order, second_weights)
"""dL/dW2 = G A^T / N (C, H), as SymPy derives it."""

second_biases_gradient = matrix_derivative(output_first_order, second_biases)
"""dL/db2 = G 1 / N (C, 1), as SymPy derives it."""

hidden_gradient = matrix_derivative(output_first_order, hidden_activations)
"""dL/dA = W2^T G / N (H, N), as SymPy derives it."""

mean_score_gradients = sp.MatrixSymbol("G_mean", classes, examples)
"""G / N, the score gradients with the mean's 1/N applied once, to the (C, N) array."""

output_layer_gradients_as_computed = (
    sp.Transpose(hidden_activations * mean_score_gradients.T),
    *(gradient.subs(score_gradients, examples * mean_score_gradients).doit()
      for gradient in (second_biases_gradient, hidden_gradient)),
)
"""(dL/dW2, dL/db2, dL/dA) in G / N: (A (G/N)^T)^T, (G/N) 1, W2^T (G/N). The 1/N scales the small (C, N) array
instead of the (H, N) one, and dL/dW2 is computed transposed: at N = 49000, H = 100, C = 10 (OpenBLAS),
A @ (G/N).T took 12 ms against 1.25 s for (G/N) @ A.T. :func:`prove_output_layer` proves the three equal to the
derived gradients."""

relu_derivative = sp.diff(relu, relu_input).replace(sp.Heaviside, lambda z, *_: sp.Heaviside(z, relu_kink_value))
"""relu'(z) = Heaviside(z) with Heaviside(0) = H0, from ``diff(Max(0, z), z)``."""

upstream_gradient = sp.Symbol("dA", real=True)
pre_activation_gradient = upstream_gradient * relu_derivative
"""dL/dz = dL/dh * H(z) for one entry: the ReLU step applied to every entry of dA and Z (see :func:`prove_relu_layer`)."""

hidden_first_order = (
    sp.Trace(pre_activation_gradients.T * first_weights * inputs.T)
    + sp.Trace(pre_activation_gradients.T * first_biases * _ones_row)
)
"""tr(dZ^T Z), the first-order term in Z with dL/dZ held fixed."""

first_weights_gradient = matrix_derivative(hidden_first_order, first_weights)
"""dL/dW1 = dZ X (H, D), as SymPy derives it."""

first_biases_gradient = matrix_derivative(hidden_first_order, first_biases)
"""dL/db1 = dZ 1 (H, 1), as SymPy derives it."""

first_weights_gradient_as_computed = sp.Transpose(inputs.T * pre_activation_gradients.T)
"""dZ X computed as (X^T dZ^T)^T, the same product with the operands in the order BLAS runs fastest here: at
N = 49000, D = 3073, H = 100 in float32 it took 0.43 s against 1.32 s for dZ @ X (OpenBLAS, equal in float64);
the transpose of the (D, H) result is a view. :func:`prove_hidden_layer` proves it equal to the derived dZ X."""

l2_penalty = (
    regularization_strength * sp.Trace(first_weights * first_weights.T)
    + regularization_strength * sp.Trace(second_weights * second_weights.T)
)
"""lambda (sum(W1^2) + sum(W2^2))."""

l2_penalty_gradients = tuple(matrix_derivative(l2_penalty, w) for w in (first_weights, second_weights))
"""(2 lambda W1, 2 lambda W2), as SymPy derives them."""


# The lecture's closed forms.

_ones_column = sp.OneMatrix(examples, 1)
lecture_second_weights_gradient = score_gradients * hidden_activations.T / examples
lecture_second_biases_gradient = score_gradients * _ones_column / examples
lecture_hidden_gradient = second_weights.T * score_gradients / examples
lecture_first_weights_gradient = pre_activation_gradients * inputs
lecture_first_biases_gradient = pre_activation_gradients * _ones_column


def _equal(derived, closed_form) -> bool:
    difference = sp.simplify(derived - closed_form)
    return difference == 0 or difference == sp.ZeroMatrix(*closed_form.shape)


def prove_output_layer() -> bool:
    """Prove dL/dW2 = G A^T / N, dL/db2 = G 1 / N and dL/dA = W2^T G / N for symbolic C, H, N, and the forms the code
    computes in G / N (:data:`output_layer_gradients_as_computed`) equal to them."""
    derived = (second_weights_gradient, second_biases_gradient, hidden_gradient)
    as_computed = (form.subs(mean_score_gradients, score_gradients / examples).doit()
                   for form in output_layer_gradients_as_computed)
    return (
        _equal(second_weights_gradient, lecture_second_weights_gradient)
        and _equal(second_biases_gradient, lecture_second_biases_gradient)
        and _equal(hidden_gradient, lecture_hidden_gradient)
        and all(_equal(form, gradient) for form, gradient in zip(as_computed, derived, strict=True))
    )


def prove_hidden_layer() -> bool:
    """Prove dL/dW1 = dZ X (and = (X^T dZ^T)^T, the form the code computes) and dL/db1 = dZ 1 for symbolic H, D,
    N."""
    return (
        _equal(first_weights_gradient, lecture_first_weights_gradient)
        and _equal(first_weights_gradient_as_computed.doit(), first_weights_gradient)
        and _equal(first_biases_gradient, lecture_first_biases_gradient)
    )


def prove_regularizer() -> bool:
    """Prove d/dW1, d/dW2 of lambda (sum(W1^2) + sum(W2^2)) = 2 lambda W1, 2 lambda W2."""
    return all(
        _equal(derived, 2 * regularization_strength * w)
        for derived, w in zip(l2_penalty_gradients, (first_weights, second_weights), strict=True)
    )


def prove_relu_layer() -> bool:
    """Prove d/dZ[p, q] sum_{k, i} dA[k, i] max(0, Z[k, i]) = dA[p, q] H(Z[p, q]) for symbolic H and N.

    The index-notation form of dL/dZ = dL/dA * H(Z): the first-order term of the loss in the activations, pulled
    back through the elementwise ReLU, with H(0) = H0.
    """
    k, i, p, q = sp.symbols("k i p q", integer=True, nonnegative=True)
    Z = sp.IndexedBase("Z", real=True)
    dA = sp.IndexedBase("dA", real=True)
    first_order = sp.Sum(dA[k, i] * relu.subs(relu_input, Z[k, i]), (k, 0, hidden_width - 1), (i, 0, examples - 1))
    derived = drop_range_guards(sp.diff(first_order, Z[p, q]).doit(), {p, q, hidden_width, examples})
    derived = derived.replace(sp.Heaviside, lambda z, *_: sp.Heaviside(z, relu_kink_value))
    closed_form = pre_activation_gradient.subs({upstream_gradient: dA[p, q], relu_input: Z[p, q]})
    return sp.simplify(derived - closed_form) == 0


def prove_chain_rule(number_of_examples: int = 2, number_of_features: int = 2, hidden: int = 2,
                     number_of_classes: int = 2) -> bool:
    """Prove the whole backward pass for an arbitrary loss l of C scores, every entry a real symbol.

    L = 1/N sum_i l(W2 max(0, W1 x_i + b1) + b2): SymPy differentiates it by every entry of W1, b1, W2, b2 (its
    derivative of Max(0, z) is Heaviside(z), pinned to H(0) = H0), and each entry must equal the closed form
    built from g_i = dl/ds at s_i: G A^T / N, G 1 / N, (W2^T G / N * H(Z)) X and its row sums.
    """
    def matrix(name, rows, columns):
        return sp.Matrix(rows, columns, lambda r, c: sp.Symbol(f"{name}_{r}{c}", real=True))

    X = matrix("x", number_of_examples, number_of_features)
    W1, b1 = matrix("w1", hidden, number_of_features), matrix("b1", hidden, 1)
    W2, b2 = matrix("w2", number_of_classes, hidden), matrix("b2", number_of_classes, 1)
    loss = sp.Function("l")
    score_symbols = sp.symbols(f"s0:{number_of_classes}", real=True)
    ones = sp.ones(1, number_of_examples)
    Z = W1 * X.T + b1 * ones
    A = Z.applyfunc(lambda z: relu.subs(relu_input, z))
    S = W2 * A + b2 * ones
    columns = [S[:, i] for i in range(number_of_examples)]
    objective = sum(loss(*column) for column in columns) / number_of_examples

    def score_gradient(column):
        at_scores = dict(zip(score_symbols, column, strict=True))
        return [sp.diff(loss(*score_symbols), s).subs(at_scores) for s in score_symbols]

    G = sp.Matrix([score_gradient(column) for column in columns]).T
    mask = Z.applyfunc(lambda z: relu_derivative.subs(relu_input, z))
    dZ = (W2.T * G / number_of_examples).multiply_elementwise(mask)
    closed_forms = (
        (W1, dZ * X), (b1, dZ * ones.T), (W2, G * A.T / number_of_examples), (b2, G * ones.T / number_of_examples),
    )
    for parameters, closed_form in closed_forms:
        for r in range(parameters.rows):
            for c in range(parameters.cols):
                derived = sp.diff(objective, parameters[r, c]).doit()
                derived = derived.replace(sp.Heaviside, lambda z, *_: sp.Heaviside(z, relu_kink_value))
                if not is_identically_zero(derived - sp.sympify(closed_form[r, c]).doit()):
                    return False
    return True


def prove_two_layer_gradient() -> bool:
    """Every step of backpropagation through the two-layer network, proved (see the module docstring)."""
    return (
        prove_output_layer() and prove_relu_layer() and prove_hidden_layer() and prove_regularizer()
        and prove_chain_rule()
    )


def _entries(name: str, rows: int, columns: int) -> sp.Matrix:
    return sp.Matrix(rows, columns, lambda r, c: sp.Symbol(f"{name}{r}{c}" if columns > 1 else f"{name}{r}", real=True))


_W1, _b1, _W2, _b2 = _entries("u", 2, 2), _entries("a", 2, 1), _entries("v", 2, 2), _entries("c", 2, 1)
_x = sp.Matrix(sp.symbols("x0:2", real=True))
_onehot = sp.symbols("t0:2", real=True)
_z = _W1 * _x + _b1
_h = _z.applyfunc(lambda entry: sp.Max(0, entry))
_scores = list(_W2 * _h + _b2)
_g = sp.Matrix(svm_hinge.hinge_lecture_score_gradient(_scores, _onehot))
_dz = (_W2.T * _g).multiply_elementwise(_z.applyfunc(lambda entry: sp.Heaviside(entry, svm_hinge.kink_value)))

two_layer_network = register(
    Derivation(
        name="two_layer_network",
        title="L = sum_{j != y} max(0, s_j - s_y + Delta), s = W2 relu(W1 x + b1) + b2; W1 = (u), b1 = (a), "
              "W2 = (v), b2 = (c), D = H = C = 2",
        objective=svm_hinge.hinge_loss(_scores, _onehot),
        variables=(*_W1, *_b1, *_W2, *_b2),
        lecture_gradient=(*(_dz * _x.T), *_dz, *(_g * _h.T), *_g),
        parameters=(*_x, *_onehot, svm_hinge.margin, svm_hinge.kink_value),
        defaults={"x0": 1.0, "x1": -1.0, "t0": 1.0, "t1": 0.0, "Delta": 1.0, "H0": 0.0},
        shape=(12,),
        source="backpropagation: dL/dW2 = g h^T, dL/db2 = g, dL/dW1 = (W2^T g * H(z)) x^T, dL/db1 = W2^T g * H(z); "
               "H(0) = H0 for the ReLU and the hinge alike",
        kink_value=svm_hinge.kink_value,
        convex=False,
    )
)
"""The network for one example under the SVM hinge, every weight a symbol: derived by ``sympy.diff`` through Max(0, .)
and proved equal to backpropagation's closed forms case by case."""
