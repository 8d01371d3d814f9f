"""Boundary conditions of the transforms with positions (`padding_mode=`).

"reflect" (Kymatio's, the default) mirrors the signal without repeating the edge sample,
"symmetric" mirrors it repeating the edge sample (NumPy's names for both), "zero" pads with
zeros; all three pad to the transform's usual padded size. "periodic" does not pad: the
convolutions are circular on the input grid, so the filters are designed on the input's size,
which every decimation of the transform must divide.
"""

PADDING_MODES = ("reflect", "symmetric", "zero", "periodic")


def check_periodic_size(name, n, step, coarsest):
    """Raise a ValueError unless the axis `name` of size `n` is a multiple of `step` (the
    coarsest decimation, `coarsest` saying of what), naming the nearest sizes that are."""
    if n % step == 0:
        return
    lower, upper = n - n % step, n - n % step + step
    sizes = f"{lower} or {upper}" if lower else f"{upper}"
    raise ValueError(
        f"padding_mode='periodic' subsamples the input grid exactly, so {name} must be a "
        f"multiple of {step} ({coarsest}); got {n}: use a size such as {sizes}, or another "
        f"padding_mode")
