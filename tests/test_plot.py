"""lsecheck.plot: the figure is drawn, and bad paths or a missing extra are one clear line."""

import sys

import pytest
from conftest import need

from lsecheck import accuracy as acc
from lsecheck.errors import LseError


@pytest.fixture(scope="module")
def report():
    return acc.run(forms=("naive", "stable", "exp-f", "exp-max"), dtypes=("float64", "float16"),
                   magnitudes=(1, 1e4, 1e300), lengths=(4,), samples=3)


@pytest.mark.parametrize("suffix,magic", [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                          (".pdf", b"%PDF")])
def test_plot_writes_the_figure(report, tmp_path, suffix, magic):
    need("matplotlib")
    from lsecheck.plot import plot

    out = plot(report, tmp_path / f"acc{suffix}")
    assert out.read_bytes().startswith(magic) and out.stat().st_size > 5000


def test_plot_has_labelled_axes_and_a_legend_per_panel(report, tmp_path, monkeypatch):
    need("matplotlib")
    import matplotlib.pyplot as plt

    from lsecheck.plot import plot

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to look at it
    plot(report, tmp_path / "acc.svg")
    (fig,) = figures
    axes = fig.get_axes()
    assert len(axes) == 2 * 2  # (float64, float16) × (f, ∇f)
    for ax in axes:
        assert ax.get_xlabel() and "bits lost" in ax.get_ylabel()
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels, ax.get_title()
    f_labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    g_labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert f_labels == ["naive", "stable"]
    assert g_labels[:2] == ["exp(z − f)", "exp(z − max)/Σ"] and "log2|f|" in g_labels[2]
    ticks = [t.get_text() for t in axes[0].get_xticklabels()]
    assert ticks == ["−1e300", "−1e4", "−1", "1", "1e4", "1e300"]
    plt.close(fig)


@pytest.mark.parametrize("name,words", [
    ("acc.jpg", "unknown format '.jpg'"),
    ("no-such-dir/acc.png", "does not exist"),
    ("", "unknown format"),
])
def test_bad_paths_are_refused_before_any_work(tmp_path, name, words):
    from lsecheck.plot import check_path

    with pytest.raises(LseError) as e:
        check_path(tmp_path / name if name else tmp_path)
    msg = str(e.value)
    assert msg.startswith("--plot ") and words in msg and "\n" not in msg


def test_unwritable_place_is_refused(tmp_path):
    from lsecheck.plot import check_path

    # /proc accepts no new files, even from root (os.access would say yes)
    with pytest.raises(LseError, match="cannot write there"):
        check_path("/proc/acc.png")
    ok = check_path(tmp_path / "fresh.png")
    assert not ok.exists()  # the probe leaves nothing behind


def test_missing_matplotlib_names_the_extra(report, tmp_path, monkeypatch):
    from lsecheck import plot

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    with pytest.raises(LseError) as e:
        plot.check_path(tmp_path / "acc.png")
    assert "pip install 'lsecheck[plot]'" in str(e.value)
    with pytest.raises(LseError, match=r"lsecheck\[plot\]"):
        plot._pyplot()


def test_predicted_loss_is_log2_f_not_log2_m():
    """At z ≈ ±1 with n = 128, |f| ≈ ln 128 ± 1: the guide must not drop to 0 there."""
    import math

    from lsecheck.plot import predicted

    assert predicted(1.0, 128, 54) == pytest.approx(math.log2(1 + math.log(128) + 0.5))
    assert predicted(-1.0, 128, 54) == pytest.approx(math.log2(-1 + math.log(128) + 0.5))
    assert predicted(1e4, 8, 54) == pytest.approx(math.log2(1e4), abs=0.01)
    assert predicted(1e300, 8, 54) == 54  # capped at the precision
    assert predicted(-0.5, 1, 54) == 0.0  # f ≈ 0: nothing to lose, not −inf


def test_a_length_outside_the_sweep_is_refused_not_drawn_empty(report, tmp_path):
    need("matplotlib")
    from lsecheck.plot import plot

    with pytest.raises(LseError, match=r"n=7 is not a length of the sweep \(4\)"):
        plot(report, tmp_path / "acc.png", n=7)
    assert not (tmp_path / "acc.png").exists()
