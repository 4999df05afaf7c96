"""The `symgrad` command, run as a subprocess: output and exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]


def symgrad(*arguments):
    return subprocess.run(
        [sys.executable, "-m", "symgrad", *arguments], capture_output=True, text=True, timeout=300, cwd=REPOSITORY
    )


def test_list_shows_every_registered_derivation_one_line_each():
    import symgrad as package

    result = symgrad("list")
    assert result.returncode == 0
    lines = result.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == [d.name for d in package.all_derivations()]
    assert any(line.startswith("polynomial") and "x1^3 + 5 x1 x2 - 3 x2 x3^2" in line for line in lines)


def test_derive_prints_objective_gradient_lecture_form_and_verdict():
    result = symgrad("derive", "polynomial")
    assert result.returncode == 0
    for label in ("objective:", "derived gradient (sympy.diff):", "lecture form:", "proved: derived gradient == lecture form"):
        assert label in result.stdout
    assert "-6⋅x₂⋅x₃" in result.stdout


def test_derive_latex():
    result = symgrad("derive", "bowl_2d", "--latex")
    assert result.returncode == 0
    assert r"$$w_{1}^{2} + w_{2}^{2}$$" in result.stdout


def test_derive_a_user_formula_and_prove_it():
    result = symgrad("derive", "--expr", "w1**2 + 3*w1*w2", "--wrt", "w1,w2", "--expect", "2*w1 + 3*w2, 3*w1")
    assert result.returncode == 0, result.stderr
    assert "2⋅w₁ + 3⋅w₂" in result.stdout and "proved" in result.stdout


def test_a_user_formula_whose_expected_gradient_is_wrong_exits_1():
    result = symgrad("derive", "--expr", "w^2", "--wrt", "w", "--expect", "3*w")
    assert result.returncode == 1
    assert "NOT proved" in result.stdout and "not proved: user" in result.stderr


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("derive", "--expr", "w1**2 +", "--wrt", "w1"), "expression: not a formula"),
        (("derive", "--expr", "__import__('os')", "--wrt", "w"), "unknown function"),
        (("derive", "--expr", "w**2"), "--expr needs --wrt"),
        (("derive", "nope"), "name: no derivation called 'nope'"),
        (("derive",), "give exactly one of"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_code_2(arguments, message):
    result = symgrad(*arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_check_passes_at_smooth_points_and_at_kinks_for_every_kink_value():
    result = symgrad("check", "svm_hinge", "--points", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("smooth point") == 2
    for kink_value in ("0", "0.5", "1"):
        assert f"H0 = {kink_value}: " in result.stdout
    assert "kink met: checked as a subgradient" in result.stdout and "all checks passed" in result.stdout


def test_check_every_registered_derivation():
    result = symgrad("check", "--all", "--points", "1")
    assert result.returncode == 0, result.stdout
    assert "FAIL" not in result.stdout


def test_check_flags_a_wrong_gradient_of_a_user_formula_with_exit_code_1(tmp_path):
    # The user's formula is differentiated by SymPy, so its own gradient is right; a wrong one is planted by
    # registering a derivation whose objective is |w| but whose compiled gradient is that of 2|w|.
    module = tmp_path / "planted.py"
    module.write_text(
        "import sympy as sp, symgrad\n"
        "from symgrad.cli import main\n"
        "w = sp.Symbol('w', real=True)\n"
        "d = symgrad.Derivation('planted', '|w| with the gradient of 2|w|', sp.Abs(w), (w,), None)\n"
        "object.__setattr__(d, 'gradient', (2 * sp.sign(w),))\n"
        "symgrad.register(d)\n"
        "raise SystemExit(main(['check', 'planted', '--points', '1']))\n"
    )
    result = subprocess.run([sys.executable, str(module)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL smooth point 1" in result.stdout and "analytic" in result.stdout


@pytest.mark.parametrize("optimizer", ["gd", "minibatch"])
def test_train_on_digits_reports_accuracy(optimizer):
    result = symgrad("train", "--dataset", "digits", "--loss", "svm", "--optimizer", optimizer)
    assert result.returncode == 0, result.stderr
    test_line = [line for line in result.stdout.splitlines() if line.startswith("test accuracy: ")]
    assert len(test_line) == 1 and float(test_line[0].split(": ")[1]) >= 0.93


def test_train_with_a_search_strategy_runs_on_the_dev_split():
    result = symgrad("train", "--optimizer", "random-search", "--steps", "50")
    assert result.returncode == 0, result.stderr
    assert "random search, svm loss: 50 steps" in result.stdout


def test_train_on_cifar_without_a_folder_is_a_clear_error():
    missing = symgrad("train", "--dataset", "cifar")
    assert missing.returncode == 2 and "--dataset cifar needs --cifar-dir" in missing.stderr
    wrong = symgrad("train", "--dataset", "cifar", "--cifar-dir", "/no/such/folder")
    assert wrong.returncode == 2 and "/no/such/folder" in wrong.stderr and "Traceback" not in wrong.stderr


def test_landscape_writes_both_slices_and_says_where(tmp_path):
    result = symgrad("landscape", "--loss", "softmax", "--resolution", "21", "--output", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ("landscape_1d_softmax.png", "landscape_2d_softmax.png"):
        path = tmp_path / name
        assert f"wrote {path}" in result.stdout
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_subcommand_has_help():
    for command in ("list", "derive", "check", "train", "landscape"):
        result = symgrad(command, "--help")
        assert result.returncode == 0 and "usage: symgrad" in result.stdout


def test_derivations_md_is_the_current_output_of_derive_all_markdown():
    result = symgrad("derive", "--all", "--markdown")
    assert result.returncode == 0
    assert (REPOSITORY / "DERIVATIONS.md").read_text() == result.stdout, (
        "DERIVATIONS.md is stale: regenerate it with `symgrad derive --all --markdown > DERIVATIONS.md`"
    )
