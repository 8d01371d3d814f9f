"""Tuning constants: how work is cut into pieces (working-set sizes, slicing thresholds).

They decide the size of the arrays a step holds and how a batch is split over threads, never
what is computed: the tests run with them patched small and get the same numbers. The defaults
were measured on a 2-core CPU; the measurements behind them are in `benchmarks/README.md`
("Tuning constants").

A backend overrides one with an attribute of the same name in lower case (e.g.
`TorchBackend.min_slice_samples`; a GPU backend, whose calls cost more and whose memory is
larger, would raise the working sets); `setting(backend, name)` reads it, falling back to the
default here. This module imports only `sys`, so every layer may read it.
"""

import sys

# -- batches split over threads (`core.batches`), in samples of the signals as the core pads them
MIN_SLICE_SAMPLES = 2**15  # a thread's slice pays for itself from about this much work
MAX_SLICE_SAMPLES = 2**18  # `map_batches_into` slices hold at most this much: a few signals

# -- `Backend.multiply_periodize`
SLAB_BYTES = 2**20  # accumulator of one slab: about a core's cache
MAX_BLOCKS = 16  # loops over at most this many blocks (factor 4 in 2D); beyond, sums in one call

# -- 1D scattering (`core.scattering1d`)
SCATTERING1D_WORKING_BYTES = 2**22  # largest complex working array of one batched step ...
SCATTERING1D_SIMD_BYTES = 64  # ... unless its FFTs fill fewer SIMD lanes (bytes per frequency)
SCATTERING1D_GATHER_BYTES = 2**18  # second-order spectra under this wait to run with others

# -- 2D scattering (`core.scattering2d`)
SCATTERING2D_WORKING_BYTES = 2**22  # cap on one complex intermediate (else split over angles)

# -- 3D solid-harmonic scattering (`core.harmonic3d`), counted as complex128
HARMONIC3D_WORKING_BYTES = 2**27  # cap on the arrays one batch chunk keeps
HARMONIC3D_GROUP_BYTES = 2**20  # target size of one filter group's product / inverse FFT

# -- joint time-frequency scattering (`core.time_frequency_steps`)
TIME_FREQUENCY_STEP_BYTES = 2**24  # complex rows of one frequency product (B, [n2s,] rows, time)
# signals per product: the time slice's width is planned for a group of this many signals,
# never for the batch, so that a signal's coefficients do not depend on the batch it came in
# (BLAS rounds a product's columns differently with their number)
TIME_FREQUENCY_STEP_SIGNALS = 16


_DEFAULTS = sys.modules[__name__]  # read at call time (tests patch them); not `globals()`,
# which torch.compile cannot trace


def setting(backend, name):
    """The tuning constant `name` for `backend`: its lower-case attribute where it has one
    (not None), else the default of this module."""
    value = getattr(backend, name.lower(), None)
    return getattr(_DEFAULTS, name) if value is None else value
