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


def run_in_process(arguments, capsys):
    """(exit code, stdout, stderr) of ``symgrad ARGUMENTS`` run in this process (argparse exits by SystemExit)."""
    from symgrad.cli import main

    try:
        status = main(list(arguments))
    except SystemExit as exit:
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_usage_error(status, stderr, command, message):
    assert status == 2, stderr
    assert stderr.count("\n") == 1 and stderr.startswith(f"symgrad {command}: "), stderr
    assert message in stderr, stderr


@pytest.mark.parametrize(
    "arguments, message",
    [
        (("landscape", "--resolution", "1"), "argument --resolution: expected an integer in 2 ... 1001, got '1'"),
        (("landscape", "--resolution", "0"), "argument --resolution: expected an integer in 2 ... 1001"),
        (("landscape", "--resolution", "1002"), "argument --resolution: expected an integer in 2 ... 1001"),
        (("landscape", "--examples", "0"), "argument --examples: expected an integer >= 1, got '0'"),
        (("landscape", "--scale", "nan"), "argument --scale: expected a finite number > 0, got 'nan'"),
        (("landscape", "--scale", "-0.001"), "argument --scale: expected a finite number > 0"),
        (("check", "bowl_1d", "--points", "0"), "argument --points: expected an integer >= 1, got '0'"),
        (("check", "bowl_1d", "--points", "-1"), "argument --points: expected an integer >= 1, got '-1'"),
        (("check", "bowl_1d", "--seed", "-1"), "argument --seed: expected an integer >= 0"),
        (("train", "--steps", "0"), "argument --steps: expected an integer >= 1"),
        (("train", "--steps", "ten"), "argument --steps: expected an integer >= 1, got 'ten'"),
        (("train", "--learning-rate", "inf"), "argument --learning-rate: expected a finite number > 0"),
        (("train", "--learning-rate", "0"), "argument --learning-rate: expected a finite number > 0"),
        (("train", "--reg", "-1"), "argument --reg: expected a finite number >= 0"),
        (("train", "--batch-size", "0"), "argument --batch-size: expected an integer >= 1"),
        (("train", "--seed", "-1"), "argument --seed: expected an integer >= 0"),
        (("train", "--optimizer", "adam"), "argument --optimizer: invalid choice: 'adam'"),
        (("train", "--optimizer", "sgd", "--batch-size", "32"), "--batch-size goes with --optimizer minibatch"),
        (("train", "--optimizer", "gd", "--batch-size", "32"), "--batch-size goes with --optimizer minibatch"),
        (("train", "--optimizer", "random-search", "--learning-rate", "0.1"), "--learning-rate goes with"),
        (("train", "--optimizer", "local-search", "--learning-rate", "0.1"), "--learning-rate goes with"),
        (("train", "--cifar-dir", "/tmp"), "--cifar-dir goes with --dataset cifar (the dataset is digits)"),
        (("train", "--dataset", "cifar", "--cifar-dir", ""), "--dataset cifar needs --cifar-dir PATH"),
        (("train", "--batch-size", "5000"), "--batch-size: 5000 exceeds the 1167 training examples"),
        (("landscape", "--examples", "5000"), "--examples: 5000 exceeds the 1167 training examples of digits"),
        (("landscape", "--output", ""), "--output: expected a folder, got an empty name"),
        (("landscape", "--output", "/proc/symgrad_no_such"), "--output: cannot write to /proc/symgrad_no_such"),
    ],
)
def test_every_non_formula_option_out_of_range_or_unused_is_one_line_and_exit_2(arguments, message, capsys):
    status, _, stderr = run_in_process(arguments, capsys)
    assert_one_line_usage_error(status, stderr, arguments[0], message)


def test_an_output_folder_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    blocker = tmp_path / "figures"
    blocker.write_text("")
    status, stdout, stderr = run_in_process(("landscape", "--output", str(blocker)), capsys)
    assert_one_line_usage_error(status, stderr, "landscape", "a file stands where the folder should be")
    assert stdout == ""


def test_landscape_with_a_huge_scale_names_the_overflow(tmp_path, capsys):
    status, _, stderr = run_in_process(
        ("landscape", "--scale", "1e307", "--resolution", "3", "--examples", "5", "--output", str(tmp_path)), capsys
    )
    assert_one_line_usage_error(status, stderr, "landscape", "cannot compute the slices at --scale 1e+307: ")
    assert "overflows" in stderr


def test_landscape_honours_examples_and_resolution(tmp_path, capsys, monkeypatch):
    from symgrad.training import landscape

    seen = []
    slice_2d = landscape.loss_slice_2d

    def recording_slice_2d(loss, W, W1, W2, alphas, betas, X, y, **options):
        seen.append((len(alphas), len(betas), len(X)))
        return slice_2d(loss, W, W1, W2, alphas, betas, X, y, **options)

    monkeypatch.setattr(landscape, "loss_slice_2d", recording_slice_2d)
    status, stdout, _ = run_in_process(
        ("landscape", "--examples", "7", "--resolution", "4", "--output", str(tmp_path)), capsys
    )
    assert status == 0 and stdout.count("wrote ") == 2
    assert seen == [(4, 4, 1), (4, 4, 7)]


def test_train_honours_batch_size_for_minibatch(capsys):
    status, stdout, _ = run_in_process(("train", "--batch-size", "32", "--steps", "5"), capsys)
    assert status == 0 and "mini-batch gradient descent (B = 32), svm loss: 5 steps" in stdout


def test_a_training_run_that_diverges_is_one_line_naming_the_learning_rate(monkeypatch, capsys):
    from symgrad import cli
    from symgrad.training.descent import TrainingDiverged

    def diverging_loss(W, X, y, reg=0.0):
        raise TrainingDiverged("gradient descent diverged at step 3: the loss is inf; try a smaller learning rate")

    monkeypatch.setattr(cli, "loss_function", lambda name: diverging_loss)
    status, _, stderr = run_in_process(("train", "--optimizer", "gd", "--learning-rate", "1e6", "--steps", "5"), capsys)
    assert_one_line_usage_error(status, stderr, "train", "diverged at step 3: the loss is inf; try a smaller ")
    assert stderr.rstrip().endswith("(--learning-rate 1e+06)")


@pytest.mark.skipif(
    not hasattr(__import__("symgrad.training.strategies").training.strategies, "TrainingDiverged"),
    reason="the strategies raise TrainingDiverged once the training-speed branch lands",
)
def test_train_with_a_huge_learning_rate_says_it_diverged_not_that_the_weights_are_bad_input(capsys):
    status, _, stderr = run_in_process(("train", "--optimizer", "gd", "--learning-rate", "1e6", "--steps", "50"), capsys)
    assert_one_line_usage_error(status, stderr, "train", "diverged at step")
    assert "must be finite" not in stderr


def test_version_is_the_installed_distribution_version(capsys):
    from importlib.metadata import version

    status, stdout, _ = run_in_process(("--version",), capsys)
    assert status == 0 and stdout == f"symgrad {version('symgrad')}\n"


@pytest.mark.parametrize("command", [("list",), ("derive", "--all")])
def test_a_closed_pipe_is_one_line_on_stderr_and_exit_2(command):
    process = subprocess.Popen(
        [sys.executable, "-m", "symgrad", *command], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPOSITORY
    )
    process.stdout.close()  # the reader goes away before the first line is written, as `| head -0` would
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=300) == 2
    assert stderr == f"symgrad {command[0]}: standard output was closed before the output was complete\n"


MISSING = "import sys\nsys.modules[{module!r}] = None\nfrom symgrad.cli import main\nraise SystemExit(main({arguments!r}))\n"


@pytest.mark.parametrize(
    "module, arguments, extra",
    [
        ("sklearn", ["train", "--steps", "1"], "data"),
        ("sklearn", ["landscape", "--resolution", "2"], "data"),
        ("matplotlib", ["landscape", "--resolution", "2"], "plot"),
    ],
)
def test_a_missing_extra_is_one_line_naming_it(tmp_path, module, arguments, extra):
    code = MISSING.format(module=module, arguments=[*arguments, *(["--output", str(tmp_path)] if "landscape" in arguments else [])])
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPOSITORY)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and f"pip install 'symgrad[{extra}]'" in result.stderr, result.stderr
    assert result.stderr.startswith(f"symgrad {arguments[0]}: ") and f"{module} is not installed" in result.stderr
    assert list(tmp_path.iterdir()) == []
