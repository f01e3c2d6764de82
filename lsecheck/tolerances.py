r"""Every tolerance of ``lsecheck numeric``, in one place (printed in the report).

Errors are measured against the mpmath oracle, per reduced slice, in units
of the input dtype's machine epsilon :math:`\varepsilon`:

* forward: :math:`|f - f^*| \le` ``FWD`` :math:`\cdot\,\varepsilon\,(1 + |f^*| + \sum_i p_i |z_i|)`
  — the condition of :math:`f` (:math:`\sum_i p_i |z_i|`) plus one rounding
  of the result;
* gradient (VJP :math:`v = \bar f\, p`), normwise on the slice
  :math:`e = \max_i |v_i - v_i^*| / \max_i |v_i^*|`:

  - *tight* ``GRAD_TIGHT`` :math:`\cdot\,\varepsilon\,(1 + \log_2 K)`: what the
    softmax form :math:`e^{z-m}/\Sigma` reaches (one exp, a sum of
    :math:`K` terms, one division) — above it the result is *flagged* for
    precision loss (a failure under ``--strict``);
  - *loose* ``GRAD_LOOSE`` :math:`\cdot\,\varepsilon\,(1 + |f^*| + \sum_i p_i |z_i| + \log_2 K)`,
    at most ``GRAD_CAP``: what :math:`e^{z - f}` reaches, since :math:`f`
    carries an absolute error of about :math:`\varepsilon |f|` — above it the
    result *fails*;
  - elementwise, on entries well above the underflow threshold:
    :math:`|v_i - v_i^*| / |v_i^*| \le`
    ``ELEM`` :math:`\cdot\,\varepsilon\,(2 + |z_i| + |f^*| + \log_2 K)`
    (:math:`e^{z_i - m}` inherits the rounding of :math:`z_i - m`).

The loose and elementwise bounds are never below ``GRAD_FLOOR`` (a relative
error of 1e-11, :math:`4.5 \times 10^4\,\varepsilon` in float64; float32's
bounds are far above it): a float64 gradient off by 1e-12 relative, less
careful than the softmax form but not wrong, is *flagged* (12 bits lost), not
failed.  An implementation off by 1e-9 relative at ordinary inputs in float64
is :math:`4.5 \times 10^6\,\varepsilon` off: 100× above the floor, so it
fails.  float64 computed in float32 is :math:`\sim 10^8\,\varepsilon` off.
"""

from __future__ import annotations

import numpy as np

FWD = 8.0
GRAD_TIGHT = 8.0
GRAD_LOOSE = 32.0
GRAD_CAP = 0.5  # beyond 50 % relative error a gradient is wrong, whatever the form
ELEM = 64.0
# no relative gradient error below this fails (flagged at most): 1e-12 is flagged,
# 1e-9 fails (100× above it); float32's eps-based bounds are always above it
GRAD_FLOOR = 1e-11

# Central finite differences (JVP check along random unit directions, float64):
# h = FD_STEP · max(1, |f|)^(1/3); FD_STEP = ε^(1/3) balances the truncation error
# O(h²·|f‴|) (softmax's derivatives are O(1) in units of z) against the rounding
# error O(ε·|f|/h) of evaluating f near |f|.
FD_STEP = float(np.finfo(np.float64).eps) ** (1 / 3)
FD_DIRECTIONS = 2
FD_SAFETY = 8.0  # the tolerance is FD_SAFETY × the estimated error of the difference quotient

CALL_TIMEOUT = 10.0  # seconds for one call of a user's forward or gradient


def eps(dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def table() -> list[tuple[str, str]]:
    """The constants as (name, value) pairs for the report's notes."""
    return [
        ("eps float32 / float64", f"{eps(np.float32):.3g} / {eps(np.float64):.3g}"),
        ("forward", f"{FWD:g} eps (1 + |f| + Σ p|z|)"),
        ("gradient tight (else flagged)", f"{GRAD_TIGHT:g} eps (1 + log2 K)"),
        ("gradient loose (else failed)",
         f"{GRAD_LOOSE:g} eps (1 + |f| + Σ p|z| + log2 K), at least {GRAD_FLOOR:g}, "
         f"at most {GRAD_CAP:g}"),
        ("gradient elementwise",
         f"{ELEM:g} eps (2 + |z_i| + |f| + log2 K), at least {GRAD_FLOOR:g}"),
        ("finite differences", f"h = {FD_STEP:.2g}·max(1, |f|)^(1/3), {FD_DIRECTIONS} "
                               "random unit directions, "
                               f"tolerance {FD_SAFETY:g}× the estimated error"),
        ("time limit per call", f"{CALL_TIMEOUT:g} s"),
    ]
