"""symgrad.cs231n against the assignment's conventions: its losses written out in NumPy here (W (D, C), scores
X.dot(W), reg * sum(W**2), mean over N), its training loop, its in-place numerical gradients, and its printed
gradient-check lines followed by symgrad's verdict."""

import random
import re
import subprocess
import sys

import numpy as np
import pytest

from symgrad.cs231n import (
    LinearClassifier,
    LinearSVM,
    Softmax,
    eval_numerical_gradient,
    eval_numerical_gradient_array,
    grad_check_sparse,
    softmax_loss_naive,
    softmax_loss_vectorized,
    svm_loss_naive,
    svm_loss_vectorized,
)


def assignment_svm(W, X, y, reg):
    """The assignment's vectorized SVM, written independently: W (D, C), X (N, D)."""
    number_of_examples = X.shape[0]
    rows = np.arange(number_of_examples)
    scores = X.dot(W)
    margins = np.maximum(0, scores - scores[rows, y][:, np.newaxis] + 1.0)
    margins[rows, y] = 0
    loss = margins.sum() / number_of_examples + reg * np.sum(W * W)
    counts = (margins > 0).astype(W.dtype)
    counts[rows, y] = -counts.sum(axis=1)
    return loss, X.T.dot(counts) / number_of_examples + 2 * reg * W


def assignment_softmax(W, X, y, reg):
    """The assignment's vectorized softmax, written independently: W (D, C), X (N, D)."""
    number_of_examples = X.shape[0]
    rows = np.arange(number_of_examples)
    scores = X.dot(W)
    scores -= scores.max(axis=1, keepdims=True)
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    loss = -np.log(probabilities[rows, y]).sum() / number_of_examples + reg * np.sum(W * W)
    probabilities[rows, y] -= 1
    return loss, X.T.dot(probabilities) / number_of_examples + 2 * reg * W


def relative(a, b):
    """max |a - b| / max |b|: the error relative to the reference's scale."""
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


def problem(examples, features, classes, seed=0, pixels=False):
    rng = np.random.default_rng(seed)
    X = np.ones((examples, features))
    if pixels:  # CIFAR-like: raw pixels minus a mean, then the bias 1
        X[:, :-1] = rng.integers(0, 256, size=(examples, features - 1)) - 127.5
        W = 1e-4 * rng.standard_normal((features, classes))
    else:
        X[:, :-1] = rng.standard_normal((examples, features - 1))
        W = rng.standard_normal((features, classes))
    return W, X, rng.integers(0, classes, size=examples)


LOSSES = [
    (svm_loss_vectorized, assignment_svm),
    (svm_loss_naive, assignment_svm),
    (softmax_loss_vectorized, assignment_softmax),
    (softmax_loss_naive, assignment_softmax),
]
SHAPES = {"small": (7, 4, 3), "CIFAR-shaped": (500, 3073, 10)}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reg", [0.0, 2.5e4])
@pytest.mark.parametrize("ours, reference", LOSSES, ids=lambda f: f.__name__)
def test_losses_equal_the_assignment_formulas_to_1e_12_in_float64(ours, reference, reg, shape):
    W, X, y = problem(*SHAPES[shape], pixels=shape == "CIFAR-shaped")
    loss, dW = ours(W, X, y, reg)
    expected_loss, expected_dW = reference(W, X, y, reg)
    assert dW.shape == W.shape and dW.dtype == np.float64 and dW.flags.c_contiguous
    assert abs(loss - expected_loss) <= 1e-12 * abs(expected_loss)
    assert relative(dW, expected_dW) <= 1e-12


@pytest.mark.parametrize("loss", [svm_loss_vectorized, softmax_loss_vectorized])
def test_float32_weights_give_a_float32_gradient(loss):
    W, X, y = problem(20, 5, 3)
    assert loss(W.astype(np.float32), X.astype(np.float32), y, 0.1)[1].dtype == np.float32


@pytest.mark.parametrize("loss", [f for f, _ in LOSSES], ids=lambda f: f.__name__)
def test_a_weight_matrix_in_symgrads_layout_is_refused_with_the_fix(loss):
    W, X, y = problem(6, 4, 3)
    with pytest.raises(ValueError, match=r"W: got shape \(3, 4\), symgrad's \(C, D\) layout.*pass W\.T"):
        loss(W.T.copy(), X, y, 0.0)
    with pytest.raises(ValueError, match=r"W: expected \(D, C\) with D = 4 rows"):
        loss(np.zeros((5, 3)), X, y, 0.0)


def test_when_D_equals_C_the_weights_are_read_in_the_assignments_layout():
    W, X, y = problem(6, 3, 3)
    assert svm_loss_vectorized(W, X, y, 0.0)[0] == pytest.approx(assignment_svm(W, X, y, 0.0)[0], rel=1e-12)
    assert svm_loss_vectorized(W, X, y, 0.0)[0] != pytest.approx(assignment_svm(W.T, X, y, 0.0)[0], rel=1e-3)


def test_eval_numerical_gradient_perturbs_x_in_place_and_restores_it(capsys):
    W, X, y = problem(8, 3, 3)
    params = {"W": W}
    original = W.copy()
    # The two-layer notebook's style: f ignores its argument and reads the array being perturbed.
    numerical = eval_numerical_gradient(lambda _: softmax_loss_vectorized(params["W"], X, y, 0.1)[0], W, verbose=True)
    assert np.array_equal(W, original)
    assert relative(numerical, assignment_softmax(W, X, y, 0.1)[1]) < 1e-8
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == W.size and printed[0].startswith("x[0, 0]: ")


def test_eval_numerical_gradient_array_contracts_with_the_upstream_gradient():
    rng = np.random.default_rng(1)
    x, A, df = rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal((4, 5))
    # f(x) = x A, so d sum(df * f) / dx = df A^T.
    assert relative(eval_numerical_gradient_array(lambda z: z.dot(A), x, df), df.dot(A.T)) < 1e-8
    with pytest.raises(ValueError, match="df: has shape"):
        eval_numerical_gradient_array(lambda z: z.dot(A), x, df[:, :2])


def printed_lines(output):
    pattern = r"numerical: (-?\d+\.\d+) analytic: (-?\d+\.\d+), relative error: (\S+)"
    return [tuple(float(v) for v in match) for match in re.findall(pattern, output)]


def test_grad_check_sparse_prints_the_assignment_lines_then_symgrads_verdict(capsys):
    W, X, y = problem(30, 6, 4, pixels=False)
    W *= 1e-2
    loss, grad = svm_loss_naive(W, X, y, 5e1)
    random.seed(0)
    report = grad_check_sparse(lambda w: svm_loss_naive(w, X, y, 5e1)[0], W, grad, num_checks=7)
    output = capsys.readouterr().out
    lines = printed_lines(output)
    assert len(lines) == 7
    assert all(error < 1e-7 for _, _, error in lines)
    assert report.ok and "symgrad: gradient check passed" in output


def test_grad_check_sparse_catches_a_missing_regularization_gradient(capsys):
    W, X, y = problem(30, 6, 4)
    _, grad = softmax_loss_vectorized(W, X, y, 0.5)
    missing = grad - 2 * 0.5 * W
    report = grad_check_sparse(lambda w: softmax_loss_vectorized(w, X, y, 0.5)[0], W, missing, num_checks=5)
    assert not report.ok
    assert "FAILED" in capsys.readouterr().out


def test_grad_check_sparse_relative_error_is_the_assignments_formula(capsys):
    # f(x) = 3 sum(x): numerical 3 everywhere; a claimed 1 gives |3 - 1| / (3 + 1) = 0.5 (symgrad's: 2 / 3).
    x = np.zeros((2, 2))
    grad_check_sparse(lambda z: 3.0 * float(np.sum(z)), x, np.ones((2, 2)), num_checks=3)
    assert [error for _, _, error in printed_lines(capsys.readouterr().out)] == pytest.approx([0.5] * 3, rel=1e-6)


def test_grad_check_sparse_passes_a_subgradient_at_a_kink_where_the_assignment_lines_show_error_1(capsys):
    # One example with label 0 and s = (1, 0): the margin of class 1 is exactly 0 along every coordinate.
    X, y = np.array([[1.0, 1.0]]), np.array([0])
    W = np.array([[1.0, 0.0], [0.0, 0.0]])
    loss, grad = svm_loss_vectorized(W, X, y, 0.0)
    assert loss == 0.0 and not grad.any()  # the lecture's indicator 1(margin > 0) is 0 at the kink
    report = grad_check_sparse(lambda w: svm_loss_vectorized(w, X, y, 0.0)[0], W, grad, num_checks=4)
    output = capsys.readouterr().out
    assert [error for _, _, error in printed_lines(output)] == [1.0] * 4     # centered difference 1/2 vs 0
    assert report.ok and "kink" in output


def test_grad_check_sparse_judges_a_float32_gradient_at_float32_tolerance(capsys):
    W, X, y = problem(40, 6, 4)
    W32, X32 = W.astype(np.float32), X.astype(np.float32)
    _, grad = softmax_loss_vectorized(W32, X32, y, 0.1)
    report = grad_check_sparse(lambda w: softmax_loss_vectorized(w, X32, y, 0.1)[0], W32, grad, num_checks=5)
    assert report.ok
    assert "float32 gradient" in " ".join(capsys.readouterr().out.split())     # the verdict, wrapped to the terminal


def test_the_verdict_fits_the_terminal(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    W, X, y = problem(30, 6, 4)
    grad_check_sparse(lambda w: svm_loss_vectorized(w, X, y, 0.1)[0], W, svm_loss_vectorized(W, X, y, 0.1)[1], 2)
    output = capsys.readouterr().out
    verdict = output[output.index("symgrad: "):].splitlines()      # the assignment's own lines keep its format
    assert len(verdict) > 3 and max(len(line) for line in verdict) <= 60


def test_the_checks_refuse_an_x_they_cannot_perturb_in_place():
    with pytest.raises(TypeError, match="x: the assignment's checks perturb x in place"):
        eval_numerical_gradient(lambda z: 0.0, [1.0, 2.0])


def assignment_training(loss, X, y, learning_rate, reg, num_iters, batch_size):
    """The assignment's LinearClassifier.train, written out: global NumPy random state, batches with replacement."""
    W = 0.001 * np.random.randn(X.shape[1], np.max(y) + 1)
    history = []
    for _ in range(num_iters):
        batch = np.random.choice(X.shape[0], batch_size)
        value, grad = loss(W, X[batch], y[batch], reg)
        history.append(value)
        W -= learning_rate * grad
    return W, history


@pytest.mark.parametrize("classifier, reference", [(LinearSVM, assignment_svm), (Softmax, assignment_softmax)])
def test_training_follows_the_assignments_loop_step_for_step(classifier, reference):
    W, X, y = problem(60, 5, 3, seed=2)
    np.random.seed(7)
    expected_W, expected_history = assignment_training(reference, X, y, 0.05, 1e-3, 40, 200)
    np.random.seed(7)
    model = classifier()
    history = model.train(X, y, learning_rate=0.05, reg=1e-3, num_iters=40, batch_size=200)
    assert isinstance(history, list) and len(history) == 40   # batch 200 > N = 60: drawn with replacement
    assert relative(history, np.array(expected_history)) < 1e-12
    assert relative(model.W, expected_W) < 1e-12
    assert np.array_equal(model.predict(X), np.argmax(X.dot(model.W), axis=1))


def test_training_on_the_digits_reaches_the_assignments_accuracy():
    from symgrad import load_digits_dataset

    data = load_digits_dataset(rng=0)
    model = LinearSVM()
    history = model.train(data.X_train, data.y_train, learning_rate=0.1, reg=1e-3, num_iters=600, rng=0)
    assert history[-1] < 0.1 * history[0]
    assert np.mean(model.predict(data.X_val) == data.y_val) > 0.9


def test_predict_and_loss_need_weights_and_the_base_class_needs_a_loss():
    with pytest.raises(ValueError, match="W: the classifier has no weights yet"):
        LinearSVM().predict(np.ones((2, 3)))
    model = LinearClassifier()
    model.W = np.zeros((3, 2))
    with pytest.raises(NotImplementedError):
        model.loss(np.ones((2, 3)), np.array([0, 1]), 0.0)
    model = Softmax()
    model.W = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"pass W\.T"):
        model.predict(np.ones((4, 3)))


def test_the_vectorized_losses_the_check_and_training_import_no_sympy():
    code = (
        "import sys, numpy as np\n"
        "from symgrad.cs231n import svm_loss_vectorized, grad_check_sparse, Softmax\n"
        "rng = np.random.default_rng(0)\n"
        "W, X, y = rng.normal(size=(5, 3)), rng.normal(size=(20, 5)), rng.integers(0, 3, 20)\n"
        "grad_check_sparse(lambda w: svm_loss_vectorized(w, X, y, 0.1)[0], W, svm_loss_vectorized(W, X, y, 0.1)[1])\n"
        "Softmax().train(X, y, num_iters=3, rng=0)\n"
        "print('sympy' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip().splitlines()[-1] == "False"
