"""Mini-batches of arrays on the training device, reshuffled every epoch."""
import math

from .. import backend as K


class ArrayIterator:
    """One pass over ``(x, y)`` per ``iter()``, in batches, on the active device.

    x: (N, ...) of any dtype, y: (N, ...) or None. Both are copied to the
    device once; integer images (uint8) stay integers there, four times
    smaller than float32, and each batch is converted to ``dtype`` (floatx) on
    the device, never on the host. With ``shuffle`` the order is a fresh
    permutation each epoch, drawn on the device (Keras 2 shuffles the index
    array every epoch, then cuts it into ceil(N / batch_size) batches).

    Yields ``(x_batch, y_batch)``, or ``x_batch`` when y is None.
    """

    def __init__(self, x, y=None, batch_size=32, shuffle=True, dtype=None):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"ArrayIterator: batch_size must be a positive int, received {batch_size!r}")
        if y is not None and len(x) != len(y):
            raise ValueError(
                f"ArrayIterator: x and y must have the same length, received {len(x)} and {len(y)}")
        self.x = K.asarray(x)
        self.y = None if y is None else K.asarray(y)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.dtype = dtype or K.floatx()

    @property
    def n(self):
        return len(self.x)

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def _batch(self, index):
        xb = self.x[index]
        if xb.dtype != self.dtype:
            xb = xb.astype(self.dtype)
        return xb if self.y is None else (xb, self.y[index])

    def __iter__(self):
        order = K.permutation(self.n) if self.shuffle else None
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            yield self._batch(slice(start, stop) if order is None else order[start:stop])
