"""Kymatio tests that run.py deselects, each with the reason. Keys are pytest node ids (a
function's id deselects all its parameters), relative to the Kymatio checkout.

Kinds:
* "internals": the test calls Kymatio's own backend, filter-bank or utility functions, or reads
  its private attributes; scatflow has its own (tests/ covers the same ground).
* "difference": the test expects a behaviour scatflow changes on purpose (README, "Coming from
  Kymatio").
* "environment": the test needs what this environment's libraries no longer have.
"""

INTERNALS = "internals"
DIFFERENCE = "difference"
ENVIRONMENT = "environment"

_3D_TORCH = "tests/scattering3d/test_torch_scattering3d.py"
_JTFS = "tests/scattering1d/test_timefrequency_scattering.py"
_3D_BACKEND = ("calls Kymatio's torch 3D backend functions ({}) directly; scatflow's backends "
               "are tested in tests/frontends/test_torch.py")

DESELECTED = {
    "0.3.0": {
        "tests/scattering1d/test_numpy_scattering1d.py::TestScattering1DNumpy"
        "::test_Scattering1D_filter_factory_T": (
            INTERNALS, "calls kymatio.scattering1d.filter_bank.scattering_filter_factory"),
        "tests/scattering1d/test_keras_scattering1d.py::test_Scattering1D": (
            ENVIRONMENT, "builds keras.Input(shape=512) (an int, not a tuple), which Keras 3 "
                         "refuses: 'Cannot convert '512' to a shape'"),
        "tests/scattering2d/test_torch_scattering2d.py::TestScatteringTorch2D"
        "::test_scattering2d_errors": (
            DIFFERENCE, "expects a non-contiguous tensor (x[::2, ::2]) to be refused ('must be "
                        "contiguous', a limitation of Kymatio's torch backend); scatflow "
                        "computes on it. Its other checks are in scatflow's "
                        "tests/frontends/test_torch.py (test_kymatios_input_errors)"),
        "tests/scattering2d/test_torch_scattering2d.py::TestScatteringTorch2D"
        "::test_input_size_agnostic": (
            INTERNALS, "reads the private attributes _M_padded and _N_padded (scatflow: the "
                       "documented M_padded and N_padded)"),
        "tests/scattering3d/test_numpy_scattering3d.py::test_against_standard_computations": (
            INTERNALS, "computes order 0 with Kymatio's backend.compute_integrals"),
        "tests/scattering3d/test_numpy_scattering3d.py::test_scattering_batch_shape_agnostic": (
            DIFFERENCE, "expects float32 output for float64 input; scatflow's 3D computes "
                        "float64 input in float64"),
        "tests/scattering3d/test_tensorflow_scattering3d.py"
        "::test_scattering_batch_shape_agnostic": (
            DIFFERENCE, "expects float32 output for float64 input; scatflow's 3D computes "
                        "float64 input in float64"),
        f"{_3D_TORCH}::test_FFT3d_central_freq_batch": (
            INTERNALS, _3D_BACKEND.format("rfft")),
        f"{_3D_TORCH}::test_fft3d_error": (INTERNALS, _3D_BACKEND.format("rfft, ifft")),
        f"{_3D_TORCH}::test_cdgmm3d": (INTERNALS, _3D_BACKEND.format("cdgmm3d")),
        f"{_3D_TORCH}::test_complex_modulus": (INTERNALS, _3D_BACKEND.format("modulus")),
        f"{_3D_TORCH}::test_against_standard_computations": (
            INTERNALS, "computes order 0 with Kymatio's backend.compute_integrals"),
        f"{_3D_TORCH}::test_solid_harmonic_scattering": (
            INTERNALS, "builds its input with kymatio.scattering3d.utils."
                       "generate_weighted_sum_of_gaussians (scatflow's "
                       "tests/core/test_harmonic3d.py checks the same closed form)"),
    },
    "main": {
        "tests/scattering1d/test_numpy_scattering1d.py::TestScattering1DNumpy"
        "::test_Scattering1D_filter_factory_T": (
            INTERNALS, "calls kymatio.scattering1d.filter_bank.scattering_filter_factory and "
                       "anden_generator"),
        **{f"{_JTFS}::{test}": (INTERNALS, reason) for test, reason in (
            ("test_jtfs_build", "builds Kymatio's TimeFrequencyScatteringBase with backend "
                                "names, calls its build() and reads _N_padded_fr"),
            ("test_Q", "builds Kymatio's TimeFrequencyScatteringBase and calls build(); "
                       "scatflow's Q_fr checks are in "
                       "tests/frontends/test_time_frequency_parameters.py"),
            ("test_check_runtime_args", "calls Kymatio's TimeFrequencyScatteringBase "
                                        "._check_runtime_args"),
            ("test_jtfs_create_filters", "calls Kymatio's TimeFrequencyScatteringBase "
                                         ".create_filters (scatflow: filters_fr, tested in "
                                         "tests/core/test_time_frequency.py)"),
            ("test_time_scattering_widthfirst", "runs Kymatio's core (time_scattering_widthfirst, "
                                                "scattering1d) on its backends"),
            ("test_frequency_scattering", "runs Kymatio's core (frequency_scattering) on its "
                                          "backends"),
            ("test_joint_timefrequency_scattering", "runs Kymatio's core functions on its "
                                                    "backends"),
            ("test_differentiability_jtfs_torch", "runs Kymatio's core generator on its torch "
                                                  "backend (scatflow's gradients: tests/"
                                                  "frontends/test_time_frequency_parameters.py)"),
            ("test_differentiability_jtfs_tensorflow", "runs Kymatio's core generator on its "
                                                       "TensorFlow backend"),
            ("test_986", "builds Kymatio's TimeFrequencyScatteringBase and calls create_filters"),
        )},
        f"{_JTFS}::test_jtfs_jax_frontend": (
            INTERNALS, "reads S.backend.name, Kymatio's backend object (scatflow's `backend` "
                       "attribute is the argument as given; its JAX frontend's numbers: "
                       "tests/core/test_time_frequency.py::test_jax_matches_kymatio)"),
    },
}
