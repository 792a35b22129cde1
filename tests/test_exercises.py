"""Exercises (issue 15): every starter fails naming the wrong part, every solution passes,
deliberate mistakes are caught and located (the output, the gate, the time step)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_rnn import exercises
from tinygrad_rnn.exercises import EXERCISES, e10_echo_k2

# what a starter's failure must name: the function or output the learner has to write
WRONG_PART = {
    1: "Tanh.backward: dx",
    2: "Sigmoid.backward: dx",
    3: "rnn_step_backward: dx",
    4: "term_3",
    5: "jacobian_column(r=0.5, steps=6)",
    6: "the total norm",
    7: "weight_hh.grad",
    8: "lstm_step_backward: dc_prev",
    9: "gru_step_backward: dh_prev",
    10: "ANSWER is None",
    11: "count_dead",
}


def _check(tmp_path, number, source, name="mine.py"):
    path = tmp_path / name
    path.write_text(source)
    return exercises.check(number, str(path))


def test_exercises_ten_or_more_in_the_lecture_order_with_both_languages():
    numbers = [e.number for e in EXERCISES]
    assert numbers == list(range(1, len(EXERCISES) + 1)) and len(numbers) >= 10
    slugs = [e.slug for e in EXERCISES]
    # the lecture's order: activations, one step, BPTT, vanishing, clipping, truncation,
    # LSTM, GRU, long dependencies, ReLU
    order = ["tanh", "sigmoid", "rnn_step", "bptt_sum", "jacobian_column", "clip", "tbptt"]
    assert slugs[: len(order)] == order
    assert slugs.index("lstm_step") < slugs.index("gru_step") < slugs.index("echo_k2")
    for e in EXERCISES:
        assert "=" in e.text_en and "=" in e.text_zh  # the formulas
        assert any("\u4e00" <= ch <= "\u9fff" for ch in e.text_zh)
        assert e.topic and e.teaches and e.title_zh and e.teaches_zh
        assert e.filename.endswith(".py") and f"check {e.number}" in e.starter


@pytest.mark.parametrize("number", sorted(WRONG_PART))
def test_exercise_starter_fails_naming_the_wrong_part(tmp_path, number):
    result = _check(tmp_path, number, exercises.get(number).starter)
    assert not result.passed
    assert result.lines[0].endswith("not yet")
    assert WRONG_PART[number].split(":")[0] in result.text()
    assert WRONG_PART[number] in result.text()


@pytest.mark.parametrize("number", [e.number for e in EXERCISES])
def test_exercise_solution_passes(tmp_path, number):
    result = _check(tmp_path, number, exercises.get(number).solution)
    assert result.passed, result.text()
    assert result.text().endswith("correct")


@pytest.mark.parametrize(
    "gate, old, new",
    [
        ("i", "di * i * (1.0 - i)", "-di * i * (1.0 - i)"),
        ("f", "df = dc * c_prev", "df = -dc * c_prev"),
        ("g", "dg * (1.0 - g * g)", "-dg * (1.0 - g * g)"),
        ("o", "do * o * (1.0 - o)", "-do * o * (1.0 - o)"),
    ],
)
def test_exercise_lstm_sign_flip_in_one_gate_is_located(tmp_path, gate, old, new):
    source = exercises.get(8).solution
    assert old in source
    result = _check(tmp_path, 8, source.replace(old, new, 1))
    text = result.text()
    assert not result.passed
    H = 2
    k = "ifgo".index(gate)
    name = {"i": "input gate", "f": "forget gate", "g": "candidate g", "o": "output gate"}[gate]
    assert f"only the rows of gate {gate} ({name}, rows {k * H}:{(k + 1) * H}) are wrong" in text
    assert f"all in gate {gate} ({name})" in text
    for other in set("ifgo") - {gate}:
        assert f"gate {other} " not in text
    assert "first departs from the true one at time step t=3" in text


@pytest.mark.parametrize(
    "gate, old, new",
    [
        ("r", "dar, daz = dr * r * (1.0 - r)", "dar, daz = -dr * r * (1.0 - r)"),
        ("z", "dz = dh_next * (h_prev - n)", "dz = dh_next * (n - h_prev)"),
    ],
)
def test_exercise_gru_sign_flip_in_one_gate_is_located(tmp_path, gate, old, new):
    source = exercises.get(9).solution
    assert old in source
    text = _check(tmp_path, 9, source.replace(old, new, 1)).text()
    assert f"only the rows of gate {gate} " in text


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_exercise_bptt_missing_time_step_is_located(tmp_path, k):
    source = exercises.get(4).solution
    loop = "for k in range(len(s) - 1, -1, -1):\n"
    skipped = source.replace(loop, loop + f"        if k == {k}:\n            continue\n")
    result = _check(tmp_path, 4, skipped)
    assert not result.passed
    assert f"first depart from the engine's at time step k={k}" in result.text()
    assert f"did your loop skip k={k}?" in result.text()


def test_exercise_bptt_dropped_factor_is_located_where_it_first_matters(tmp_path):
    # forgetting tanh' when passing delta back: term 3 is still right, term 2 is not
    source = exercises.get(4).solution.replace("delta = W.T @ da", "delta = W.T @ delta")
    result = _check(tmp_path, 4, source)
    assert "at time step k=2" in result.text() and "term_2" in result.text()


def test_exercise_step_departure_names_the_first_wrong_time_step(tmp_path):
    # a backward that goes wrong on its 4th call only: the single-step check is call 1,
    # then the unrolled walk calls it for t = 3, 2, 1: t = 1 is where it departs
    source = exercises.get(3).solution.replace(
        "    return dx, dh_prev, dW_ih, dW_hh, db\n",
        "    CALLS.append(1)\n"
        "    if len(CALLS) == 4:\n"
        "        dW_hh = dW_hh * 2.0\n"
        "    return dx, dh_prev, dW_ih, dW_hh, db\n\n\nCALLS = []\n",
    )
    result = _check(tmp_path, 3, source)
    assert not result.passed
    assert "first departs from the true one at time step t=1" in result.text()
    assert "dW_hh of step 1" in result.text()


OUTPUTS_3 = ["dx", "dh_prev", "dW_ih", "dW_hh", "db"]


@settings(max_examples=10, deadline=None)
@given(
    which=st.sampled_from(OUTPUTS_3),
    factor=st.sampled_from([-1.0, 0.0, 0.5, 2.0]),
    element=st.integers(0, 100),
)
def test_exercise_any_wrong_element_of_any_output_is_named(
    tmp_path_factory, which, factor, element
):
    source = exercises.get(3).solution.replace(
        "    return dx, dh_prev, dW_ih, dW_hh, db\n",
        f"    {which} = np.array({which}, dtype=float)\n"
        f"    flat = {which}.reshape(-1)\n"
        f"    flat[{element} % flat.size] = flat[{element} % flat.size] * {factor} + 0.5\n"
        "    return dx, dh_prev, dW_ih, dW_hh, db\n",
    )
    result = _check(tmp_path_factory.mktemp("h"), 3, source)
    assert not result.passed
    assert f"rnn_step_backward: {which} is wrong: 1 of" in result.text()
    for other in set(OUTPUTS_3) - {which}:
        assert f"rnn_step_backward: {other} is wrong" not in result.text()


@pytest.mark.parametrize(
    "source, words",
    [
        ("def f(:\n", ["mine.py:1: SyntaxError"]),
        ("import not_a_module_anywhere\n", ["mine.py:1: ModuleNotFoundError", "loading"]),
        ("x = 1\n", ["does not define rnn_step_forward"]),
        ("import sys\n\nsys.exit(3)\n", ["mine.py:3: SystemExit(3)", "called exit()"]),
    ],
)
def test_exercise_file_that_does_not_load_is_one_line(tmp_path, source, words):
    result = _check(tmp_path, 3, source)
    assert not result.passed and len(result.lines) == 2
    for w in words:
        assert w in result.lines[1]


def test_exercise_learner_exception_names_function_and_line(tmp_path):
    source = exercises.get(3).solution.replace("db = da.sum(axis=0)", "db = da.sum(axis=5)")
    result = _check(tmp_path, 3, source)
    line = source.splitlines().index("    db = da.sum(axis=5)") + 1
    assert "rnn_step_backward raised AxisError" in result.text()
    assert f"mine.py:{line}" in result.text()


def test_exercise_wrong_number_or_shape_of_gradients(tmp_path):
    few = exercises.get(3).solution.replace("return dx, dh_prev, dW_ih, dW_hh, db", "return dx, db")
    assert "returned 2 value(s); expected 5" in _check(tmp_path, 3, few).text()
    bad = exercises.get(3).solution.replace("db = da.sum(axis=0)", "db = da")
    assert (
        "rnn_step_backward: db has shape (2, 2), expected (2,)" in _check(tmp_path, 3, bad).text()
    )
    function = exercises.get(1).solution.replace(
        "return grad_out * (1.0 - y * y)", "return grad_out[0]"
    )
    text = _check(tmp_path, 1, function).text()
    assert "Tanh.backward: the gradient for input 0 (x) has shape (4,), expected (3, 4)" in text


def test_exercise_numeric_answers(tmp_path):
    assert (
        "count_dead returned 0"
        in _check(tmp_path, 11, "def count_dead(W, b, X):\n    return 0\n").text()
    )
    column = "def jacobian_column(r, steps):\n    return [r ** k for k in range(steps)]\n"
    assert "WRONG" in _check(tmp_path, 5, column).text()
    assert "must be an integer" in _check(tmp_path, 10, "ANSWER = 2.5\n").text()


def test_exercise_echo_answer_logic(tmp_path, monkeypatch):
    # the training itself runs in test_exercise_solution_passes[10]; here its verdicts
    learned = {1: 0.5, 2: 0.52, 3: 0.95, 4: 1.0, 5: 1.0}
    monkeypatch.setattr(e10_echo_k2, "accuracy", lambda k2: learned[k2])
    assert _check(tmp_path, 10, "ANSWER = 3\n").passed
    assert "does not learn" in _check(tmp_path, 10, "ANSWER = 2\n").text()
    assert "is not the smallest" in _check(tmp_path, 10, "ANSWER = 4\n").text()


def test_exercise_start_refuses_to_overwrite(tmp_path):
    path = tmp_path / "start.py"
    assert exercises.write_file(3, str(path)) == str(path)
    assert path.read_text() == exercises.get(3).starter
    path.write_text("my work")
    with pytest.raises(FileExistsError, match="--force"):
        exercises.write_file(3, str(path))
    assert path.read_text() == "my work"
    exercises.write_file(3, str(path), force=True, solution=True)
    assert path.read_text() == exercises.get(3).solution
    assert np.all([not p.name.startswith(".") for p in tmp_path.iterdir()])


@settings(max_examples=12, deadline=None)
@given(number=st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 9, 11]), seed=st.integers(0, 10**6))
def test_exercise_solution_passes_and_starter_fails_for_any_seed(tmp_path_factory, number, seed):
    folder = tmp_path_factory.mktemp("seed")
    for kind, passes in (("solution", True), ("starter", False)):
        path = folder / f"{kind}.py"
        path.write_text(getattr(exercises.get(number), kind))
        result = exercises.check(number, str(path), seed=seed)
        assert result.passed is passes, result.text()


def test_exercise_exit_inside_the_learners_backward_is_reported(tmp_path):
    source = exercises.get(1).solution.replace(
        "return grad_out * (1.0 - y * y)", "raise SystemExit(2)"
    )
    result = _check(tmp_path, 1, source)
    assert not result.passed and "Tanh.backward raised SystemExit(2)" in result.text()


def test_exercise_learner_changing_the_folder_does_not_move_ours(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.py").write_text("import os\n\nos.chdir(os.sep)\nANSWER = None\n")
    assert not exercises.check(10, "mine.py").passed
    assert exercises.os.getcwd() == str(tmp_path)
