"""What Jupyter shows for a derivation (LaTeX) and a gradient report (a Markdown table), through the display
methods Jupyter calls."""

import numpy as np
import sympy as sp

import symgrad
from symgrad.verification.checker import check_gradient


def balanced(text: str) -> bool:
    depth = 0
    for position, character in enumerate(text):
        if character in "{}" and text[position - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(character, 0)
        if depth < 0:
            return False
    return depth == 0


def test_a_derivation_renders_as_one_latex_display_with_objective_gradient_closed_form_and_verdict():
    derivation = symgrad.get_derivation("polynomial")
    latex = derivation._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$") and latex.count("$$") == 2
    assert balanced(latex)
    for part in (derivation.objective, sp.Matrix(derivation.gradient), sp.Matrix(derivation.lecture_gradient)):
        assert sp.latex(part) in latex
    assert r"\text{proved: derived gradient == lecture form}" in latex
    assert r"\text{Lecture 4, section 4.2}" in latex


def test_the_latex_of_a_derivation_without_a_closed_form_says_there_is_nothing_to_prove():
    w = sp.Symbol("w_1", real=True)
    derivation = symgrad.Derivation("my_loss_1", "my_loss: {w}^2 & 100%", w**2, (w,), None, source="#1_a")
    latex = derivation._repr_latex_()
    assert r"\mathtt{my\_loss\_1}" in latex and r"\text{\#1\_a}" in latex
    assert "closed form" not in latex and "nothing to prove" in latex
    assert balanced(latex)


def report_table(report) -> dict[str, str]:
    lines = report._repr_markdown_().splitlines()
    assert lines[:2] == ["| gradient check | |", "|---|---|"]
    return dict(line.strip("|").split(" | ", 1) for line in lines[2:])


def test_a_passing_report_renders_as_a_small_table():
    report = check_gradient(lambda x: float(np.sum(x**2)), lambda x: 2 * x, np.array([1.0, -2.0]), seed=0)
    table = {name.strip(): value.strip() for name, value in report_table(report).items()}
    assert table["verdict"] == "**passed**"
    assert table["mode"].startswith("full: float64 gradient vs float64 reference")
    assert table["max relative error"].endswith("<= tolerance 1.0e-07")
    counts = report.counts
    assert table["reason"] == report.reason
    assert table["probes"] == f"{counts.checked}: {counts.checked} passed, 0 failed, 0 inconclusive; no kink met"


def test_a_failing_report_table_shows_the_worst_probe_and_a_kink():
    report = check_gradient(lambda x: float(np.maximum(x, 0).sum()), lambda x: 2 * np.heaviside(x, 1.0), np.zeros(2),
                            seed=0)
    table = {name.strip(): value.strip() for name, value in report_table(report).items()}
    assert table["verdict"] == "**FAILED**"
    assert "> tolerance" in table["max relative error"]
    assert "kink met" in table["probes"] and "no kink" not in table["probes"]
    assert table["worst probe"].startswith("`") and "analytic" in table["worst probe"]
