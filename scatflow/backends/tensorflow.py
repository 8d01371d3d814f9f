"""TensorFlow backend: tf.signal FFTs on complex tensors, eager or inside tf.function.

TensorFlow multiplies only tensors of one dtype, so filters are kept complex here (real filters
get a zero imaginary part; `matmul` takes a real-valued filter matrix by its real part). In
graph mode the batch size may be unknown: `reshape` accepts one None (the batch) in a shape. `tf.abs` has gradient 0 at 0 for complex input; `sqrt` and fractional
`power` are written to have gradient 0 at 0 too.
"""

import numpy
import tensorflow as tf

from .base import Backend

_FFT = {1: tf.signal.fft, 2: tf.signal.fft2d, 3: tf.signal.fft3d}
_IFFT = {1: tf.signal.ifft, 2: tf.signal.ifft2d, 3: tf.signal.ifft3d}
_IRFFT = {1: tf.signal.irfft, 2: tf.signal.irfft2d, 3: tf.signal.irfft3d}
_COMPLEX = {tf.float32: tf.complex64, tf.float64: tf.complex128}


class TensorFlowBackend(Backend):
    name = "tensorflow"

    # -- conversion ----------------------------------------------------------------------------
    def is_array(self, x):
        return isinstance(x, (tf.Tensor, tf.Variable))

    def input_dtype(self, x):
        return x.dtype.name

    def asarray(self, a, dtype=None, device=None):
        """`a` as a tensor with NumPy dtype `dtype`."""
        a = tf.convert_to_tensor(a)
        return a if dtype is None else tf.cast(a, tf.as_dtype(numpy.dtype(dtype).name))

    def filter_array(self, a, single, device=None):
        """A NumPy filter as a complex constant in single or double precision, made eagerly
        (`tf.init_scope`) even when first asked for inside a `tf.function` trace, so that the
        cached constant can be captured by every later trace and used eagerly."""
        with tf.init_scope():
            return tf.constant(a, dtype=tf.complex64 if single else tf.complex128)

    # -- Fourier transforms over the trailing `ndim` axes --------------------------------------
    def fft(self, x, ndim):
        if not x.dtype.is_complex:
            x = tf.cast(x, _COMPLEX[x.dtype])
        return _FFT[ndim](x)

    def ifft(self, x, ndim, overwrite=False):
        return _IFFT[ndim](x)

    def irfft(self, x, shape):
        return _IRFFT[len(shape)](x, fft_length=tuple(shape))

    # -- pointwise -----------------------------------------------------------------------------
    def modulus(self, x):
        return tf.abs(x)

    def modulus_squared(self, x):
        return tf.square(tf.math.real(x)) + tf.square(tf.math.imag(x))

    def sqrt(self, x):
        """sqrt with gradient 0 (not NaN) where x == 0."""
        positive = x > 0
        return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.ones_like(x))), tf.zeros_like(x))

    def power(self, x, p):
        """x ** p; for 0 < p < 1 the gradient at x == 0 is 0 (not inf * 0 = NaN)."""
        if p >= 1:
            return x**p
        positive = x > 0
        return tf.where(positive, tf.where(positive, x, tf.ones_like(x)) ** p, tf.zeros_like(x))

    def isnan(self, x):
        return tf.math.is_nan(x)

    def where(self, condition, x, y):
        """x where `condition`, else y (tensors or Python numbers, in the tensors' dtype:
        tf.where takes operands of one dtype)."""
        dtype = (x if tf.is_tensor(x) else y).dtype
        return tf.where(condition, tf.cast(x, dtype), tf.cast(y, dtype))

    # -- shape ---------------------------------------------------------------------------------
    def reshape(self, x, shape):
        """tf.reshape; a None in `shape` (an unknown batch size, at most one) becomes -1."""
        return tf.reshape(x, [-1 if n is None else n for n in shape])

    def pad_zeros(self, x, pads):
        """Zero-pad the trailing len(pads) axes by `pads` ((before, after) per axis)."""
        return tf.pad(x, [(0, 0)] * (len(x.shape) - len(pads)) + [tuple(p) for p in pads])

    def zeros_along(self, like, n):
        """Zeros of `like`'s dtype and shape, but n long on the last axis (the batch size may
        be unknown while tracing)."""
        return tf.zeros(tf.concat([tf.shape(like)[:-1], [n]], 0), like.dtype)

    def concatenate(self, arrays, axis):
        return tf.concat(arrays, axis=axis)

    def stack(self, arrays, axis):
        return tf.stack(arrays, axis=axis)

    def take(self, x, indices, axis):
        return tf.gather(x, indices, axis=axis)

    def sum(self, x, axes):
        return tf.reduce_sum(x, axis=axes)

    def matmul(self, a, b):
        """Matrix product over the trailing two axes, broadcasting the leading ones. Filters
        are complex here: a real-valued filter matrix meeting a real tensor is used by its real
        part."""
        if a.dtype.is_complex and not b.dtype.is_complex:
            a = tf.math.real(a)
        if b.dtype.is_complex and not a.dtype.is_complex:
            b = tf.math.real(b)
        if a.shape.rank <= 3 and b.shape.rank <= 3:
            return tf.linalg.matmul(a, b)
        # TF 2.21's oneDNN kernel crashes broadcasting a matrix against a rank >= 4 tensor:
        # the stacked operand is flattened to rank 3 and back
        stacked = a if a.shape.rank > 2 else b
        lead = tf.shape(stacked)[:-2]
        flat = tf.reshape(stacked, tf.concat([[-1], tf.shape(stacked)[-2:]], 0))
        product = tf.linalg.matmul(flat, b) if stacked is a else tf.linalg.matmul(a, flat)
        return tf.reshape(product, tf.concat([lead, tf.shape(product)[-2:]], 0))


backend = TensorFlowBackend()
