"""Which samples each process trains on.

``batch_size`` is the global batch: all processes draw the same permutation
of the data each epoch (``minidl.backend.data_rng``, one stream seeded by
``minidl.seed`` and broadcast from rank 0), cut it into the same global
batches, and each process takes its contiguous slice of every batch, in
rank order. Put back together in rank order, the slices are the batch one
process would train on.
"""
import math

from .. import backend as K
from ..datasets.batches import ArrayIterator


def rank_slice(n, rank, size):
    """(start, stop): the part of ``n`` items that process ``rank`` of ``size``
    takes. Contiguous, in rank order; the first ``n % size`` processes take one
    more; empty (start == stop) for a rank >= n, e.g. a last batch of 2 on 3
    processes."""
    base, extra = divmod(int(n), size)
    start = rank * base + min(rank, extra)
    return start, start + base + (1 if rank < extra else 0)


def local_part(x, rank, size):
    """This process's slice of a batch ``x`` (an array or None), by ``rank_slice``."""
    if x is None:
        return None
    start, stop = rank_slice(len(x), rank, size)
    return x[start:stop]


class ShardedIterator(ArrayIterator):
    """An ``ArrayIterator`` over the whole data that yields, for every global
    batch, ``(x_local, y_local, n_global)``: this process's slice and the
    size of the global batch. The order comes from the shared data stream;
    only the local rows are gathered, so no process copies the others' samples.

    ``order`` holds the last epoch's permutation (a host array), for tests and
    for checking which samples a rank saw.
    """

    def __init__(self, x, y, batch_size, shuffle, rank, size, dtype=None):
        super().__init__(x, y, batch_size=batch_size, shuffle=shuffle, dtype=dtype)
        self.rank, self.size = rank, size
        self.order = None

    def __len__(self):
        return math.ceil(self.n / self.batch_size)

    def __iter__(self):
        order = None
        if self.shuffle:
            self.order = K.data_rng().permutation(self.n)
            order = K.asarray(self.order)   # one transfer per epoch
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            lo, hi = rank_slice(stop - start, self.rank, self.size)
            index = slice(start + lo, start + hi) if order is None else order[start + lo:start + hi]
            xb, yb = self._batch(index)
            yield xb, yb, stop - start

    # BackupAndRestore (minidl.training_state) saves the shared data stream through these
    def get_state(self):
        return {"data_rng": K.generator_state(K.data_rng())}

    def set_state(self, state):
        K.set_generator_state(K.data_rng(), state["data_rng"])


def shard_batches(batches, rank, size):
    """Global batches ``(x, y)`` (from a generator or a Sequence, the same on every
    process) -> ``(x_local, y_local, n_global)``."""
    for batch in batches:
        xb, yb = batch[0], batch[1]
        yield local_part(xb, rank, size), local_part(yb, rank, size), len(xb)
