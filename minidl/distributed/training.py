"""What ``fit`` does differently on several processes (called from minidl/training.py).

One step on N processes, for a global batch of B samples of which this
process holds n (sum of the n's = B):

    forward and loss on the n samples (mean over them, as one process would)
    backward from dL/dy_pred scaled by n / B: every gradient below is then
        this process's share of the gradient of the mean over all B samples
    pack: all trainable gradients into one flat buffer, then n * loss and
        the metric sums (the sums over n samples) at its end
    allreduce (sum): the buffer now holds the exact gradient of the global
        batch, B * loss and the metric sums of the global batch
    unpack: each layer's gradient becomes a view into the buffer (no copy);
        regularizer gradients are added here, once, as one process adds them
    update: every process applies the same update to the same weights

so the weights stay identical on every process and equal those of one
process training on the global batch (to rounding: the sums are taken in
another order). A process whose slice is empty (a last batch smaller than
the number of processes) runs no layer, packs zeros, and still joins every
collective, synchronized BatchNormalization's included, so nothing waits.

The loss that ``_Totals`` and the callbacks see is that of the global batch,
read from the same buffer: History, EarlyStopping, ReduceLROnPlateau and
the NaN checks get the same numbers on every process and decide alike.
"""
import contextlib
import functools
import hashlib
import sys
import time
import traceback

import numpy as np

from .. import backend as K
from .data import ShardedIterator, local_part, shard_batches


def collective(method):
    """For fit / evaluate / train_on_batch: on several processes an exception
    raised on one of them stops them all (MPI abort) instead of leaving the
    others waiting in the next allreduce. TrainingDivergedError is exempt: it
    comes from the reduced loss, so every process raises it at the same step."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        from . import _data_parallel
        dp = _data_parallel()
        if dp is None or dp.guarding:
            return method(self, *args, **kwargs)
        with dp.guard():
            return method(self, *args, **kwargs)
    return wrapper


class StepTimes:
    """Seconds spent per part of the training steps (for benchmarks/bench_distributed.py).
    ``wait`` and ``transfer`` are told apart only when ``DataParallel.profile`` is on:
    a barrier before the allreduce then measures the wait for the slowest process."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.steps = 0
        self.compute = self.pack = self.wait = self.transfer = self.unpack = self.update = 0.0
        self.bytes = 0

    def as_dict(self):
        return {k: getattr(self, k) for k in ("steps", "compute", "pack", "wait", "transfer",
                                               "unpack", "update", "bytes")}


class DataParallel:
    """The distributed half of Sequential's training loop, for one communicator."""

    def __init__(self, comm, fp16=False):
        self.comm = comm
        self.rank, self.size = comm.rank, comm.size
        self.fp16 = bool(fp16)
        self.guarding = False
        self.profile = False
        self.times = StepTimes()
        self._layout = None      # (key, [(layer, name, offset, size, shape)], grad count)
        self._buffer = None      # the persistent flat exchange buffer
        self._wide = None        # fp16 exchange: the float buffer the gradients are read from
        self._needs_start = True

    @property
    def is_main(self):
        return self.rank == 0

    # ------------------------------------------------------------ errors
    @contextlib.contextmanager
    def guard(self):
        from ..training import TrainingDivergedError
        from . import _abort
        self.guarding = True
        try:
            yield
        except TrainingDivergedError:
            raise
        except Exception as err:
            traceback.print_exc()
            sys.stderr.flush()
            _abort(self.comm, f"{type(err).__name__}: {err}")
            raise
        finally:
            self.guarding = False

    # ------------------------------------------------------------ data
    def iterator(self, x, y, batch_size, shuffle):
        return ShardedIterator(x, y, batch_size, shuffle, self.rank, self.size)

    def local_batches(self, batches, source):
        """(x_local, y_local, n_global) per global batch."""
        if isinstance(source, ShardedIterator):
            return batches
        return shard_batches(self._checked(batches), self.rank, self.size)

    def _checked(self, batches):
        """A generator's batches must hold the same samples in the same order on every
        process, else the slices do not make up one batch: the first global batch's
        targets (which augmentation leaves alone) are compared once per fit."""
        first = True
        for batch in batches:
            if first:
                first = False
                y = np.ascontiguousarray(K.to_numpy(batch[1]))
                every = self.comm.allgather_obj((len(y), hashlib.sha1(y.tobytes()).hexdigest()))
                if len(set(every)) > 1:
                    raise ValueError(
                        f"fit on {self.size} processes: the generator's first batch differs "
                        f"between processes (sizes {[e[0] for e in every]}); every process "
                        f"must see the same samples in the same order, e.g. "
                        f"datagen.flow(x, y, seed=1)")
            yield batch

    def permutation(self, n):
        """The order of a Sequence's batches: the same on every process."""
        return K.data_rng().permutation(n)

    def local_part(self, x):
        return local_part(x, self.rank, self.size)

    # ------------------------------------------------------------ start
    def begin_fit(self, model):
        """Called by fit after the callbacks' on_train_begin (which may restore a backup)."""
        self._needs_start = True
        self.times.reset()
        if model._resume_epoch is not None and self.rank:
            # a backup holds rank 0's generator; give this process a stream of its own
            K.set_process_key((self.rank, model._resume_epoch))

    def start(self, model):
        """Weights, BatchNorm statistics, optimizer state and the data stream from rank 0."""
        self._needs_start = False
        weights = [w for layer in model.layers for w in layer.named_weights.values()]
        self._bcast_arrays(weights)
        opt = model.optimizer
        spec = None
        if self.rank == 0:
            spec = {"iterations": opt.iterations, "lr": opt.lr,
                    "slots": {s: {k: (tuple(a.shape), str(a.dtype)) for k, a in arrays.items()}
                              for s, arrays in opt.state.items()}}
        spec = self.comm.bcast_obj(spec)
        opt.iterations, opt.lr = spec["iterations"], spec["lr"]
        xp = K.array_module()
        slots = []
        for s, keys in spec["slots"].items():
            arrays = opt.state.setdefault(s, {})
            for k, (shape, dtype) in keys.items():
                a = arrays.get(k)
                if a is None or tuple(a.shape) != shape or str(a.dtype) != dtype:
                    a = arrays[k] = xp.zeros(shape, dtype=dtype)
                slots.append(a)
        self._bcast_arrays(slots)
        rng = self.comm.bcast_obj(K.generator_state(K.data_rng()) if self.rank == 0 else None)
        K.set_generator_state(K.data_rng(), rng)

    def _bcast_arrays(self, arrays):
        for group in _by_dtype(arrays):
            flat = _pack(group)
            self.comm.bcast(flat)
            _unpack_into(flat, group)

    # ------------------------------------------------------------ one step
    def train_step(self, model, xb, yb, n_global):
        """One update on this process's slice of a global batch of ``n_global``;
        returns (loss, metric sums, n_global) of the global batch (device scalars)."""
        if self._needs_start:
            self.start(model)
        sync = K.synchronize if self.profile else _nothing
        t0 = time.perf_counter()
        n = len(xb)
        if n:
            loss, y_pred, z = model._batch_loss(xb, yb, training=True)
            model._backprop(yb, y_pred, z, grad_scale=n / n_global, regularizers=False)
            stats = [loss * n] + [m(yb, y_pred) for m in model.metrics]
        else:
            self._empty_step(model)
            stats = None
        sync()
        t1 = time.perf_counter()
        layout = self._get_layout(model)
        buf, stats_buf = self._pack_step(layout, stats, len(model.metrics), n > 0)
        sync()
        t2 = time.perf_counter()
        if self.profile:
            self.comm.barrier()
        t3 = time.perf_counter()
        self.comm.allreduce(buf)
        if stats_buf is not None:
            self.comm.allreduce(stats_buf)
        sync()
        t4 = time.perf_counter()
        totals = self._unpack_step(layout, buf, stats_buf)
        for layer, name, *_ in layout[1]:   # once, after the sum, as one process adds them
            reg = layer.regularizers.get(name)
            if reg is not None:
                layer.grads[name] += reg.gradient(layer.params[name])
        sync()
        t5 = time.perf_counter()
        model._apply_updates()
        sync()
        t6 = time.perf_counter()
        tm = self.times
        tm.steps += 1
        tm.compute += t1 - t0
        tm.pack += t2 - t1
        tm.wait += t3 - t2
        tm.transfer += t4 - t3
        tm.unpack += t5 - t4
        tm.update += t6 - t5
        tm.bytes += buf.nbytes + (0 if stats_buf is None else stats_buf.nbytes)
        return totals[0] / n_global, list(totals[1:]), n_global

    def _empty_step(self, model):
        """No samples here: join the collectives of synchronized BatchNormalization
        layers (forward in order, backward in the order _backprop visits them)."""
        xp, dtype = K.array_module(), K.floatx()
        sync_bn = [getattr(layer, "_synchronized_now", lambda: False)() for layer in model.layers]
        if not any(sync_bn):
            return
        for layer, s in zip(model.layers, sync_bn):
            if s:
                layer.forward(xp.zeros((0,) + tuple(layer._in_shape), dtype=dtype), training=True)
        for i in range(len(model.layers) - 1, -1, -1):
            layer = model.layers[i]
            if not model._input_grad_needed[i] and not layer.params:
                break
            if sync_bn[i]:
                layer.backward(xp.zeros((0,) + tuple(layer._out_shape), dtype=dtype), True)

    def _get_layout(self, model):
        """Where each trainable gradient lives in the flat buffer (in _apply_updates' order)."""
        key = tuple((id(layer), name, tuple(w.shape)) for layer in model.layers
                    if layer.trainable for name, w in layer.params.items())
        if self._layout is None or self._layout[0] != key:
            entries, offset = [], 0
            for layer in model.layers:
                if not layer.trainable:
                    continue
                for name, w in layer.params.items():
                    entries.append((layer, name, offset, int(w.size), tuple(w.shape)))
                    offset += int(w.size)
            self._layout = (key, entries, offset)
            self._buffer = self._wide = None
        return self._layout

    def _pack_step(self, layout, stats, n_metrics, have_data):
        _, entries, count = layout
        xp, dtype = K.array_module(), np.dtype(K.floatx())
        n_stats = 1 + n_metrics
        if self._buffer is None:
            if self.fp16:   # gradients as float16; loss and metric sums apart in floatx
                self._buffer = (xp.empty(count, dtype=np.float16),
                                xp.empty(n_stats, dtype=dtype))
                self._wide = xp.empty(count, dtype=dtype)
            else:
                self._buffer = (xp.empty(count + n_stats, dtype=dtype), None)
        buf, stats_buf = self._buffer
        for layer, name, offset, size, _ in entries:
            if have_data:
                buf[offset:offset + size] = layer.grads[name].reshape(-1)
            else:
                buf[offset:offset + size] = 0
        tail = buf[count:] if stats_buf is None else stats_buf
        if stats is None:
            tail[...] = 0
        else:
            for i, s in enumerate(stats):
                tail[i:i + 1] = s.reshape(1).astype(tail.dtype)
        return buf, stats_buf

    def _unpack_step(self, layout, buf, stats_buf):
        _, entries, count = layout
        if stats_buf is None:
            grads, totals = buf[:count], buf[count:].copy()
        else:
            grads, totals = self._wide, stats_buf.copy()
            grads[...] = buf   # float16 -> floatx
        for layer, name, offset, size, shape in entries:
            layer.grads[name] = grads[offset:offset + size].reshape(shape)
        return totals

    # ------------------------------------------------------------ epoch end
    def end_epoch(self, model):
        """Average the moving statistics of BatchNormalization layers that are not
        synchronized (each process moved them toward its own slices), so every
        process holds the same model for validation, checkpoints and saving."""
        arrays = []
        for layer in model.layers:
            if not layer.state or getattr(layer, "_synchronized_now", lambda: False)():
                continue
            arrays += list(layer.state.values())
            biased = getattr(layer, "_biased", None)
            if biased:
                arrays += [biased["mean"], biased["variance"]]
        if not arrays or self.size == 1:
            return
        for group in _by_dtype(arrays):
            flat = _pack(group)
            self.comm.allreduce(flat)
            flat /= flat.dtype.type(self.size)
            _unpack_into(flat, group)

    # ------------------------------------------------------------ evaluate
    def evaluate_batches(self, model, batches, epoch, progress):
        """Each process evaluates its slices; the sums are combined in rank order,
        so every process returns the same logs."""
        from ..training import _Totals
        totals = _Totals(model, epoch, what="evaluate")
        for index, (xb, yb, n) in enumerate(shard_batches(batches, self.rank, self.size)):
            if len(xb):
                loss, y_pred, _ = model._batch_loss(xb, yb, training=False)
                totals.add(index, loss, [m(yb, y_pred) for m in model.metrics], len(xb))
            if progress is not None:
                progress.update(n)
        mine = (0.0 if totals.loss_sum is None else float(totals.loss_sum),
                [0.0] * len(model.metrics) if totals.metric_sums is None
                else [float(s) for s in totals.metric_sums],
                totals.seen,
                -1 if totals.first_bad is None else int(totals.first_bad),
                model._bad_targets is not None and bool(model._bad_targets))
        every = self.comm.allgather_obj(mine)
        totals.loss_sum = sum(e[0] for e in every)
        totals.metric_sums = [sum(e[1][j] for e in every) for j in range(len(model.metrics))]
        totals.seen = sum(e[2] for e in every)
        bad = [e[3] for e in every if e[3] >= 0]
        totals.first_bad = min(bad) if bad else -1
        model._bad_targets = True if any(e[4] for e in every) else None
        return totals.result()


def _nothing():
    pass


def _by_dtype(arrays):
    groups = {}
    for a in arrays:
        groups.setdefault(str(a.dtype), []).append(a)
    return list(groups.values())


def _pack(arrays):
    xp = K.get_array_module(arrays[0])
    return xp.concatenate([a.reshape(-1) for a in arrays])


def _unpack_into(flat, arrays):
    offset = 0
    for a in arrays:
        a[...] = flat[offset:offset + a.size].reshape(a.shape)
        offset += a.size
