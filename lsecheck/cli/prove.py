"""`lsecheck prove`: SymPy proves the LogSumExp gradient theorems."""

from __future__ import annotations

import click

from lsecheck.cli.common import emit, export_option, json_option, max_n_option, timeout_option


@click.command("prove")
@max_n_option(8, "Also prove at every concrete n = 1..N by exact arithmetic "
                 "(N from 1 to 512; time grows about as N²).")
@click.option("--theorem", "theorems", multiple=True, metavar="NAME",
              help="Prove only this theorem (repeatable); names: shift, grad-non-max, "
                   "grad-max, ties, ties-direct, exp-form, hessian, softmax-sum, hessian-ones, "
                   "tensor.")
@timeout_option(10.0)
@json_option
@export_option((".md", ".tex"))
def prove(max_n, theorems, timeout, as_json, export):
    """Prove the gradient of the stable LogSumExp is softmax = exp(z − f).

    Each theorem is proved for symbolic n (Sum, KroneckerDelta, indices in 1..n)
    and at every n = 1..N (exact rational arithmetic in w = exp(z)); the tensor
    form for shapes (2,3), (1,2,3), (2,2,2), every axes choice, with each slice's
    maximum at every entry. 'proved' only when the difference reduced to exactly
    0; 'refuted' comes with a counterexample; anything else is 'undecided'. The
    output lists what each row assumes rather than proves.
    """
    import gc

    # SymPy's import and the proofs make many objects and few cycles: no collector passes,
    # and once done, freeze the heap so that the exit does not walk it once more (~0.15 s).
    gc.disable()
    try:
        from lsecheck import prove as prover

        report = prover.run(names=theorems, max_n=max_n, timeout=timeout,
                            latex=export is not None)
        return emit(report, as_json, export)
    finally:
        gc.enable()
        gc.freeze()


COMMANDS = (prove,)
