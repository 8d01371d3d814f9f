"""The scattering algorithms, one module per transform, written once against a backend.

Every core class follows the same contract, so one frontend serves them all:

* ``Core(**validated_parameters)`` computes padding and the path list; it builds no filter.
* ``core.paths``: tuple of `scatflow.core.paths.Path`, in Kymatio's output order.
* ``core.input_shape``: the trailing shape the input must have.
* ``core.padded_shape``: the shape of each signal as the core works on it (after padding).
* ``core.array_shape``: the shape of the `out_type='array'` output after the batch dims, or
  ``None`` when paths have different shapes (1D with ``T=0``; 2D and 3D with ``average=False``,
  whose maps a frontend gives as a list or dict only).
* ``core.output_grid``: per signal axis, ``(offset, step)``: output sample k stands for input
  sample ``offset + k * step`` (it is centred there); ``None`` where outputs have no position
  (3D integrals, 1D ``T='global'``) or no common one (1D ``T=0``; 2D ``average=False``, whose
  maps lie on ``core.map_grid(j)``).
* ``core.key_fields``: the path fields that identify a path (scikit-learn's feature names).
* ``core.output_axes``: what each axis of the array output holds, a tuple of
  `scatflow.core.paths.OutputAxis` aligned with ``array_shape`` (paths, signal samples, a
  dropped singleton, or a named axis with its coords); ``None`` with ``array_shape``.
* ``core.halo_filters()``: Fourier filters whose spatial supports, added up, are what one output
  sample depends on (`scatflow.dask`'s ``chunking="halo"``), and ``core.halo_inexact``: None
  where chunk-wise results equal whole-signal ones, else why not (a warning's text). Cores
  whose outputs have no positions (3D) have neither; their registry entry says why.
  Those that have them also have ``core.padding_modes``: the boundary condition of each signal
  axis (`scatflow.core.padding`), which the halo's windows follow past the ends.
* ``core.filters()``: the NumPy filter bank, a nested tuple/dict of arrays, cached by parameters.
* ``core(x, backend, filters)``: `x` has shape ``(B, *input_shape)`` and the core's dtype, and
  `filters` is ``filters()`` converted by the backend; returns a list with one array
  ``(B, *coefficient_shape)`` per path, in path order. `B` may be None (a symbolic batch): cores
  size their working arrays with `planning_batch(x)`.
* ``core(x, backend, filters, zeroth_only=True)`` (cores with a low-pass: 1D, 2D, JTFS): the
  order-0 coefficient alone, ``[S0]`` (also where an output leaves it out: a joint JTFS array),
  the input padded and low-passed as every averaged coefficient is, onto their grid;
  ``nan_policy="mask"`` low-passes the valid mask with it (`scatflow.core.masking`).

Cores import no framework, frontend or backend module.
"""


def planning_batch(x):
    """The batch size to plan working memory for: `x.shape[0]`, or 1 where it is unknown (None:
    a framework tracing with a symbolic batch, e.g. TensorFlow's graph mode). Cores use it for
    sizes only and pass `x.shape[0]` itself to `backend.reshape`."""
    size = x.shape[0]
    return 1 if size is None else size
