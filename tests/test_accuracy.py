"""lsecheck.accuracy: the measure, the forms, and that the measure can fail."""

import json
import math

import numpy as np
import pytest
from conftest import need

from lsecheck import accuracy as acc
from lsecheck.errors import LseError
from lsecheck.render import to_json

SMALL = {"lengths": (8,), "samples": 6}


def cells(report, form, output, dtype="float64"):
    """{signed magnitude: cell} of one form's output."""
    return {c["sign"] * c["magnitude"]: c for c in report.meta["cells"]
            if c["form"] == form and c["output"] == output and c["dtype"] == dtype}


# --- the measure ----------------------------------------------------------------

@pytest.mark.parametrize("dtype,width", [("float64", 64), ("float32", 32), ("float16", 16)])
def test_bits_of_neighbours_nan_and_inf(dtype, width):
    dt = np.dtype(dtype)
    x = np.array([1.0, -3.5, 0.0, 1e-3], dtype=dt)
    assert np.all(acc.bits_lost(x, x) == 0)
    up = np.nextafter(x, np.array(np.inf, dtype=dt))
    assert np.allclose(acc.bits_lost(up, x), 1.0)  # one float apart: log2(2)
    up3 = np.nextafter(np.nextafter(np.nextafter(x, 9), 9), 9).astype(dt)
    assert np.allclose(acc.bits_lost(up3, x), 2.0)  # three apart: log2(4)
    assert acc.bits_lost(np.array([np.nan], dt), np.array([1.0], dt))[0] == width
    # the infinities sit one step past the largest finite float
    big = np.array([np.finfo(dt).max], dt)
    assert acc.bits_lost(np.array([np.inf], dt), big)[0] == 1.0
    # a sign error on 1.0 crosses every float in between: nearly all bits
    assert acc.bits_lost(np.array([-1.0], dt), np.array([1.0], dt))[0] > width - 3


def test_exact_values_are_correctly_rounded_truth():
    z = np.array([[0.0, 0.0, 0.0, 0.0], [1000.0, 0.0, -1000.0, 1000.0]])
    truth = acc.exact(z)
    assert truth["f"][0] == np.log(4.0)
    assert truth["f"][1] == 1000.0 + np.log(2.0)
    assert np.all(truth["∇f"][0] == 0.25)
    assert truth["∇f"][1].tolist() == [0.5, 0.0, 0.0, 0.5]


# --- the forms: the known facts, measured ------------------------------------------

@pytest.fixture(scope="module")
def numpy_forms():
    return acc.run(forms=("naive", "stable", "exp-f", "exp-max", "reference"),
                   dtypes=("float64", "float32"), lengths=(8,), samples=12,
                   magnitudes=(1, 1e2, 1e3, 1e4, 1e8, 1e15, 1e16, 1e300))


def test_exp_z_minus_f_loses_about_log2_f_bits(numpy_forms):
    lossy = cells(numpy_forms, "exp-f", "∇f")
    for m in (1e4, 1e8, 1e15):
        for s in (1, -1):
            worst = lossy[s * m]["worst"]
            assert math.log2(m) - 3 <= worst <= math.log2(m) + 2, (s * m, worst)
    # past 2^53 the offsets are below one ulp: exp(0) = 1 instead of 1/n, no bit left
    assert lossy[1e16]["worst"] >= 50 and lossy[1e300]["worst"] >= 53


def test_softmax_form_and_stable_forward_stay_accurate(numpy_forms):
    for form, output in (("exp-max", "∇f"), ("stable", "f"), ("reference", "f"),
                         ("reference", "∇f")):
        for dtype in ("float64", "float32"):
            worst = max(c["worst"] for c in cells(numpy_forms, form, output, dtype).values())
            assert worst <= 3, (form, output, dtype, worst)


def test_naive_overflows_and_underflows_where_expected(numpy_forms):
    f64 = cells(numpy_forms, "naive", "f")
    assert f64[1e2]["worst"] <= 1 and f64[-1e2]["worst"] <= 1  # e^100 fits a float64
    for m in (1e3, -1e3, 1e300, -1e300):  # e^1000 = inf; e^-1000 = 0, log 0 = −inf
        assert f64[m]["nonfinite"] > 0 and f64[m]["worst"] > 50
    f32 = cells(numpy_forms, "naive", "f", "float32")
    assert f32[1e2]["nonfinite"] > 0 and f32[1e2]["worst"] > 25  # e^100 > float32 max


def test_verdicts_flag_the_lossy_forms(numpy_forms):
    rows = {(r.group, r.name): r for r in numpy_forms.results}
    assert rows["naive: f, n=8", "±1e2"].verdict == "flagged"  # float32 overflows at 1e2
    assert rows["naive: f, n=8", "±1e2"].detail == "inf/NaN: float32"
    assert rows["naive: f, n=8", "±1e3"].detail == "inf/NaN: every dtype"
    assert rows["naive: f, n=8", "±1"].verdict == "passed"
    assert rows["exp(z − f): ∇f, n=8", "±1"].verdict == "passed"
    assert rows["exp(z − f): ∇f, n=8", "±1e4"].verdict == "flagged"
    assert rows["exp(z − f): ∇f, n=8", "±1e4"].detail == ">8 bits: every dtype"
    assert all(r.verdict == "passed" for (g, _), r in rows.items()
               if g.startswith(("exp(z − max)/Σ", "stable")))
    assert numpy_forms.exit_code == 0  # a measurement, not a refutation


def test_cells_merge_both_signs_and_match_the_json_numbers(numpy_forms):
    row = next(r for r in numpy_forms.results
               if r.group == "exp(z − f): ∇f, n=8" and r.name == "±1e8")
    both = [c for c in numpy_forms.meta["cells"] if c["form"] == "exp-f"
            and c["dtype"] == "float64" and c["magnitude"] == 1e8]
    assert sorted(c["sign"] for c in both) == [-1, 1]
    mean = sum(c["mean"] for c in both) / 2
    worst = max(c["worst"] for c in both)
    assert row.info["float64"] == f"{acc._fmt_bits(mean)}/{acc._fmt_bits(worst)}"


def test_a_deliberately_bad_form_is_caught():
    """An implementation off by 1e-9 relative: ~23 bits lost, flagged."""
    off = acc.Form("off", "off by 1e-9", rule=lambda z: {"f": acc._stable(z) * (1 + 1e-9)})
    rep = acc.run(forms=(off, "stable"), dtypes=("float64",), magnitudes=(1e2, 1e4), **SMALL)
    bad = cells(rep, "off", "f")
    assert all(20 <= c["mean"] <= 26 for c in bad.values()), bad
    assert all(c["worst"] <= 1 for c in cells(rep, "stable", "f").values())
    verdicts = {(r.group, r.name): r.verdict for r in rep.results}
    assert verdicts == {("off by 1e-9: f, n=8", "±1e2"): "flagged",
                        ("off by 1e-9: f, n=8", "±1e4"): "flagged",
                        ("stable: f, n=8", "±1e2"): "passed",
                        ("stable: f, n=8", "±1e4"): "passed"}


def test_a_form_that_crashes_is_an_error_not_a_silent_pass():
    def boom(z):
        raise RuntimeError("no float16 here")

    rep = acc.run(forms=(acc.Form("boom", "boom", rule=boom),), dtypes=("float16",),
                  magnitudes=(1,), **SMALL)
    assert {r.verdict for r in rep.results} == {"error"}
    assert rep.results[0].group == "boom"
    assert rep.results[0].detail.startswith("float16: RuntimeError: no float16 here")
    assert rep.exit_code == 1


# --- the frameworks: each lies on the line of the formula it uses --------------------

@pytest.mark.parametrize("name", ["reference", "torch", "jax", "autograd", "scipy"])
def test_each_framework_lands_on_its_gradient_form(name):
    from lsecheck.backends import EXP_Z_MINUS_F, get

    b = get(name)
    need(b.module)
    rep = acc.run(forms=(name,), dtypes=("float64",), magnitudes=(1, 1e8), **SMALL)
    grad = cells(rep, name, "∇f")
    fwd = cells(rep, name, "f")
    assert all(c["worst"] <= 2 for c in fwd.values())  # every forward is stable
    if b.grad_form == EXP_Z_MINUS_F:  # PyTorch, HIPS autograd
        assert grad[1e8]["worst"] >= math.log2(1e8) - 3
    else:
        assert grad[1e8]["worst"] <= 3


def test_missing_framework_is_skipped_with_the_install_line(monkeypatch):
    from lsecheck.backends import get

    monkeypatch.setattr(type(get("jax")), "available", lambda self: False)
    rep = acc.run(forms=("jax",), dtypes=("float64",), magnitudes=(1,), **SMALL)
    assert {r.verdict for r in rep.results} == {"skipped"}
    assert "pip install 'lsecheck[jax]'" in rep.results[0].detail


# --- the report -------------------------------------------------------------------------

def test_report_table_json_and_sweep_shape():
    rep = acc.run(forms=("stable", "exp-f"), dtypes=("float64", "float16"),
                  magnitudes=(1, 1e4, 1e8), lengths=(4, 16), samples=3, seed=7)
    assert rep.columns == ("float64", "float16")  # dtypes as columns: narrow tables
    groups = [r.group for r in rep.results]
    assert list(dict.fromkeys(groups)) == ["stable: f, n=4", "stable: f, n=16",
                                           "exp(z − f): ∇f, n=4", "exp(z − f): ∇f, n=16"]
    assert [r.name for r in rep.results if r.group == "stable: f, n=4"] == ["±1", "±1e4", "±1e8"]
    big = [r for r in rep.results if r.name == "±1e8"]
    assert all(r.info["float16"] is None and r.info["float64"] for r in big)  # 1e8 > 65504
    obj = json.loads(to_json(rep))
    assert obj["command"] == "accuracy" and obj["meta"]["seed"] == 7
    # 2 forms × (3 + 3 + 2 + 2 magnitudes over dtype × sign) × 2 lengths
    assert len(obj["meta"]["cells"]) == 2 * (3 + 3 + 2 + 2) * 2
    again = acc.run(forms=("stable", "exp-f"), dtypes=("float64", "float16"),
                    magnitudes=(1, 1e4, 1e8), lengths=(4, 16), samples=3, seed=7)
    assert again.meta["cells"] == rep.meta["cells"]  # the seed fixes everything


@pytest.mark.parametrize("kwargs,culprit", [
    ({"forms": ("bogus",)}, "--forms"),
    ({"dtypes": ("float128",)}, "--dtype"),
    ({"magnitudes": (0.5,)}, "--magnitudes"),
    ({"magnitudes": (float("inf"),)}, "--magnitudes"),
    ({"lengths": (0,)}, "--lengths"),
    ({"samples": 0}, "--samples"),
    ({"samples": 10_000, "lengths": (1000,)}, "--samples/--lengths"),  # hours of mpmath
    ({"dtypes": ("float16",), "magnitudes": (1e8,)}, "--magnitudes"),  # nothing would run
])
def test_bad_arguments_name_the_culprit(kwargs, culprit):
    with pytest.raises(LseError) as e:
        acc.run(**kwargs)
    assert str(e.value).startswith(culprit) and "\n" not in str(e.value)


def test_default_sweep_table_fits_80_columns():
    """Every form, dtype and magnitude of the default sweep: no line past 80 columns."""
    import io

    from lsecheck.render import console, render

    rep = acc.run(forms=("naive", "exp-f", "exp-max"), lengths=(8,), samples=2)
    out = io.StringIO()
    con = console(file=out)
    con.width = 80
    render(rep, con)
    text = out.getvalue()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("┏") == 3  # one table a form
    # no cell folded onto a second line: every table row starts with a magnitude
    body = [ln for ln in text.splitlines() if ln.startswith("│")]
    assert all(ln.split("│")[1].strip() for ln in body), text


def test_detail_says_every_dtype_only_when_no_column_is_missing():
    rep = acc.run(forms=("exp-f",), magnitudes=(1e8,), lengths=(4,), samples=2)
    (row,) = rep.results
    assert row.info["float16"] is None  # 1e8 does not fit a float16
    assert row.detail == ">8 bits: float64, float32"
