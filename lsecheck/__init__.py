"""lsecheck: verify the gradient of the numerically stable LogSumExp.

.. math::

    f(z) = \\log \\sum_i \\exp(z_i - \\max z) + \\max z, \\qquad
    \frac{\\partial f}{\\partial z_j} = \\operatorname{softmax}(z)_j = \\exp(z_j - f)

This package imports nothing heavy at import time: SymPy, lark and the
reference frameworks are imported by the modules that use them.
"""

__version__ = "0.1.0"

from lsecheck.errors import LseError  # noqa: E402  (light: no dependencies)

__all__ = ["LseError", "__version__"]
