"""The training loop of a Sequential model: fit, evaluate, predict.

Training one batch is the whole of backprop in four lines (``_train_step``):

    y_pred = forward through every layer (training=True)
    loss   = mean of the loss over the batch
    grad   = dL/dy_pred, then every layer's backward, last to first
    update = the optimizer moves each weight against its gradient

Everything stays on the active device. The loss and metrics of each batch
are summed there and read back only when the progress bar refreshes or the
epoch ends; there is no host synchronization per batch on a GPU.
"""
import math

import numpy as np

from . import backend as K
from . import callbacks as callbacks_mod
from . import distributed
from .datasets.batches import ArrayIterator
from .distributed.training import collective
from .layers.activation import Activation
from .utils.progbar import EpochProgress


class TrainingDivergedError(FloatingPointError):
    """The loss became NaN or infinite (Keras's TerminateOnNaN, as an error)."""


class Training:
    """fit, evaluate and predict of ``minidl.models.Sequential`` (its layers,
    loss, optimizer and metrics come from the model itself)."""

    # ------------------------------------------------------------ one step
    def _forward(self, x, training):
        """(y_pred, z): the output, and the last layer's logits z when its
        softmax (sigmoid) meets a cross-entropy loss (else None)."""
        if not self._fuses_output():
            for layer in self.layers:
                x = layer.forward(x, training=training)
            return x, None
        for layer in self.layers[:-1]:
            x = layer.forward(x, training=training)
        last = self.layers[-1]
        z = x if isinstance(last, Activation) else last.forward_preactivation(x, training=training)
        return last.activation.forward(z), z

    def _batch_loss(self, x, y, training):
        """(mean loss + weight penalties, y_pred, z) of a batch; from the logits
        when there are some."""
        y_pred, z = self._forward(x, training)
        per_sample = self.loss.per_sample(y, y_pred) if z is None else self.loss.from_logits(y, z)
        loss = per_sample.mean()
        for layer in self.layers:  # Keras adds regularization to the loss it reports
            for name, reg in layer.regularizers.items():
                loss = loss + reg(layer.params[name])
        return loss, y_pred, z

    def _backprop(self, y, y_pred, z, need_input_grad=False, grad_scale=None,
                  regularizers=True):
        """dL/dy_pred through every layer, last to first.

        Returns dL/dx when ``need_input_grad`` (gradient checks); training
        skips it, and stops below the first layer that has weights.
        minidl.distributed: ``grad_scale`` (this process's share n / B of the
        global batch) multiplies dL/dy_pred, and the regularizers' gradients
        are added after the exchange instead (``regularizers=False``).
        """
        needed = [need_input_grad or n for n in self._input_grad_needed]
        n = len(self.layers)
        if z is not None:
            # softmax + cross-entropy: dL/dz = (p - t) / N, enter the last layer below its softmax
            grad = self.loss.gradient_logits(y, y_pred)
            if grad_scale is not None:
                grad = grad * grad.dtype.type(grad_scale)
            last, n = self.layers[-1], n - 1
            if not isinstance(last, Activation):
                grad = last.backward_preactivation(grad, needed[-1])
        else:
            grad = self.loss.gradient(y, y_pred)
            if grad_scale is not None:
                grad = grad * grad.dtype.type(grad_scale)
        for i in range(n - 1, -1, -1):
            layer = self.layers[i]
            if not needed[i] and not layer.params:
                break  # nothing here or below has weights
            grad = layer.backward(grad, needed[i])
        for layer in self.layers if regularizers else ():
            for name, reg in layer.regularizers.items():  # dR/dw joins dL/dw
                layer.grads[name] += reg.gradient(layer.params[name])
        return grad

    def _train_step(self, x, y):
        """One update on a batch; returns (mean loss, metric sums) as device scalars."""
        loss, y_pred, z = self._batch_loss(x, y, training=True)
        self._backprop(y, y_pred, z)
        self._apply_updates()
        return loss, [m(y, y_pred) for m in self.metrics]

    def _apply_updates(self):
        weights, grads, constraints, keys = [], [], [], []
        for layer in self.layers:
            if not layer.trainable:
                continue
            for name, w in layer.params.items():
                weights.append(w)
                grads.append(layer.grads[name])
                constraints.append(layer.constraints.get(name))
                keys.append(f"{layer.name}/{name}")
        if weights:
            self.optimizer.update(weights, grads, constraints, keys)

    # ------------------------------------------------------------ data in
    def _arrays(self, x, y, what, check_values=True):
        """Validate (x, y) against the model; returns device arrays."""
        if x is None:
            raise ValueError(f"{self.name}.{what}: x is required")
        if not hasattr(x, "shape"):
            x = np.asarray(x)
        if x.ndim < 2:
            raise ValueError(f"{self.name}.{what}: x must have a batch axis, received shape {tuple(x.shape)}")
        if len(x) == 0:
            raise ValueError(f"{self.name}.{what}: x holds no samples, received shape "
                             f"{tuple(x.shape)}")
        if y is not None:
            if not hasattr(y, "shape"):
                y = np.asarray(y)
            if len(x) != len(y):
                raise ValueError(
                    f"{self.name}.{what}: x and y must have the same number of samples, "
                    f"received {len(x)} and {len(y)}")
        self._build_from(x.shape)
        expected = tuple(self._input_shape)
        if tuple(x.shape[1:]) != expected:
            raise ValueError(
                f"{self.name}.{what}: expected input of shape (None, {', '.join(map(str, expected))}), "
                f"received {tuple(x.shape)}")
        if x.dtype.kind == "f" and x.dtype != np.dtype(K.floatx()):
            x = x.astype(K.floatx())  # before the move when on the host: fewer bytes to move
        x = K.asarray(x)
        if check_values and x.dtype.kind == "f":
            xp = K.get_array_module(x)
            bad = int((~xp.isfinite(x)).sum())
            if bad:
                raise ValueError(f"{self.name}.{what}: x contains {bad} NaN or infinite value(s)")
        if y is not None:
            y = K.asarray(y)
            if not check_values:   # checked on the device; read with the loss (_Totals.check)
                flag = self.loss.invalid_targets(y, self.layers[-1]._out_shape)
                self._bad_targets = flag if self._bad_targets is None else (
                    self._bad_targets | flag)
            y = self.loss.prepare_targets(y, self.layers[-1]._out_shape,
                                          check_values=check_values)
        return x, y

    def _generator_batch(self, batch, what):
        if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
            raise ValueError(
                f"{self.name}.{what}: a generator must yield (x, y) batches, received "
                f"{type(batch).__name__}")
        if len(batch) == 3 and batch[2] is not None:
            raise TypeError(f"{self.name}.{what}: the generator yields sample weights, which "
                            f"minidl does not support (yield (x, y) or (x, y, None))")
        # Values are checked on the CPU, where it is cheap; on a GPU it would wait per batch.
        on_cpu = K.get_array_module(batch[0]) is np and K.device() == "cpu"
        x, y = self._arrays(batch[0], batch[1], what, check_values=on_cpu)
        if x.dtype != np.dtype(K.floatx()):  # e.g. uint8 images: to floats on the device
            x = x.astype(K.floatx())
        return x, y

    def _batches(self, data, steps, what, shuffle=False):
        """Batches from an array iterator (one epoch), a Sequence (``steps`` of its
        batches, in a random order when ``shuffle``) or a generator (``steps`` of it)."""
        if isinstance(data, ArrayIterator):
            yield from data
            return
        if _is_sequence(data):
            if shuffle and self._dp is not None:   # minidl.distributed: the same on every process
                order = self._dp.permutation(len(data))
            else:
                order = (K.to_numpy(K.permutation(len(data))) if shuffle
                         else np.arange(len(data)))
            it = (data[int(i)] for i in order)
        else:
            it = data if hasattr(data, "__next__") else iter(data)
        for _ in range(steps):
            try:
                batch = next(it)
            except StopIteration:
                raise ValueError(
                    f"{self.name}.{what}: the generator ran out after fewer than {steps} "
                    f"steps") from None
            yield self._generator_batch(batch, what)

    # ------------------------------------------------------------ fit
    @collective
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, nb_epoch=None, **kwargs):
        """Train; returns a History. ``x`` may also be a generator of (x, y) batches."""
        self._check_unused(kwargs, "fit")
        if nb_epoch is not None:  # Keras 1 name
            epochs = nb_epoch
        if self.loss is None:
            raise RuntimeError(f"{self.name}.fit: call compile(optimizer, loss) first")
        _check_positive_int(epochs, "epochs", f"{self.name}.fit", allow_zero=True)
        batch_size = _batch_size(batch_size, f"{self.name}.fit")
        dp = self._dp = distributed._data_parallel()   # None: one process, nothing changes
        if dp is not None and not dp.is_main:
            verbose = 0   # rank 0 prints

        if _is_generator(x):
            if y is not None or validation_split:
                raise ValueError(f"{self.name}.fit: y and validation_split must be unset when x "
                                 f"is a generator of batches")
            steps_per_epoch = _steps(x, steps_per_epoch, "steps_per_epoch", f"{self.name}.fit")
            train, unit, total = x, "step", steps_per_epoch
        else:
            if y is None:
                raise ValueError(f"{self.name}.fit: y is required with array inputs")
            if steps_per_epoch is not None:
                raise ValueError(f"{self.name}.fit: steps_per_epoch applies to generators; with "
                                 f"arrays an epoch is one pass in batches of batch_size")
            if validation_split and validation_data is None:
                if not 0 < validation_split < 1:
                    raise ValueError(
                        f"{self.name}.fit: validation_split must be in (0, 1), received {validation_split}")
                split_at = int(len(x) * (1.0 - validation_split))  # the *last* samples, as Keras
                x, validation_data = x[:split_at], (x[split_at:], y[split_at:])
                y = y[:split_at]
            x, y = self._arrays(x, y, "fit")
            train = (ArrayIterator(x, y, batch_size=batch_size, shuffle=bool(shuffle))
                     if dp is None else dp.iterator(x, y, batch_size, bool(shuffle)))
            unit, total = "sample", len(x)
            steps_per_epoch = len(train)
        val = None
        if validation_data is not None:
            val = self._validation_source(validation_data, batch_size, validation_steps)

        history = callbacks_mod.History()
        cbs = callbacks_mod.CallbackList(
            [history] + list(callbacks or []), self,
            {"epochs": epochs, "steps": steps_per_epoch, "samples": total if unit == "sample" else None,
             "verbose": verbose, "do_validation": val is not None, "metrics": self._log_keys(val)})
        self.history = history
        if val is not None and not _is_generator(validation_data):
            # Keras 2.2.4 hands callbacks the validation arrays ([x, y, sample weights]);
            # tutorial callbacks (F1 scores, confusion matrices) read them
            xv, yv = validation_data[0], validation_data[1]
            for cb in cbs.callbacks:
                cb.validation_data = [xv, yv, np.ones(len(xv), dtype=np.float32)]
        terminate_on_nan = any(isinstance(cb, callbacks_mod.TerminateOnNaN)
                               for cb in cbs.callbacks)
        if verbose and unit == "sample":
            extra = f", validate on {val[2]} samples" if val is not None and val[2] else ""
            print(f"Train on {total} samples{extra}")
        self.stop_training = False
        # what BackupAndRestore saves and restores besides the model
        self._fit_callbacks = cbs.callbacks
        self._fit_iterators = {"train": train, "validation": None if val is None else val[0]}
        self._resume_epoch = None
        cbs.on_train_begin({})
        if self._resume_epoch is not None:
            initial_epoch = max(initial_epoch, self._resume_epoch)
        if dp is not None:
            dp.begin_fit(self)
        for epoch in range(initial_epoch, epochs):
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            cbs.on_epoch_begin(epoch, {})
            batches = self._batches(train, steps_per_epoch, "fit", shuffle=bool(shuffle))
            if dp is not None:   # (x_local, y_local, n_global) per global batch
                batches = dp.local_batches(batches, train)
            try:
                logs = self._run_epoch(batches, total, unit, verbose, epoch, cbs, val)
            except TrainingDivergedError as error:
                if not terminate_on_nan:
                    raise
                # Keras with TerminateOnNaN: training ends quietly and fit returns (the
                # loss is checked on the device, so the callback needs no per-batch read)
                print(f"Batch {getattr(error, 'batch', '?')}: Invalid loss, terminating training")
                self.stop_training = True
                break
            if _is_sequence(train):
                train.on_epoch_end()
            cbs.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        cbs.on_train_end({})
        # the iterators hold device copies of the data: let them go with the fit
        self._fit_iterators, self._fit_callbacks = {}, []
        return history

    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None,
                      max_queue_size=10, workers=1, use_multiprocessing=False, shuffle=True,
                      initial_epoch=0, nb_epoch=None, samples_per_epoch=None, nb_val_samples=None,
                      **kwargs):
        """Keras's fit on a generator, also taking Keras 1's nb_epoch / samples_per_epoch.

        Batches are made in this process on the device, so max_queue_size,
        workers and use_multiprocessing are accepted and have no effect.
        """
        if class_weight is not None:
            raise TypeError(f"{self.name}.fit_generator: class_weight is not supported")
        if nb_epoch is not None:
            epochs = nb_epoch
        if samples_per_epoch is not None and steps_per_epoch is None:
            # Keras 2's legacy conversion: samples // the generator's batch size
            bs = getattr(generator, "batch_size", None)
            steps_per_epoch = samples_per_epoch // bs if bs else samples_per_epoch
        if nb_val_samples is not None and validation_steps is None:
            bs = getattr(validation_data, "batch_size", None)
            validation_steps = nb_val_samples // bs if bs else nb_val_samples
        return self.fit(generator, epochs=epochs, verbose=verbose, callbacks=callbacks,
                        validation_data=validation_data, initial_epoch=initial_epoch,
                        steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
                        shuffle=shuffle, **kwargs)

    def _check_unused(self, kwargs, what):
        ignored = {"class_weight", "sample_weight", "max_queue_size", "workers",
                   "use_multiprocessing"}
        bad = sorted(k for k, v in kwargs.items() if k not in ignored or
                     (k in ("class_weight", "sample_weight") and v is not None))
        if bad:
            raise TypeError(f"{self.name}.{what}: unsupported argument(s) {bad}")

    def _validation_source(self, data, batch_size, steps):
        """(batches, steps, samples) for validation_data: arrays or a generator."""
        if _is_generator(data):
            steps = _steps(data, steps, "validation_steps", f"{self.name}.fit")
            return (data, steps, None)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3) or (
                len(data) == 3 and data[2] is not None):
            raise ValueError(
                f"{self.name}.fit: validation_data must be (x_val, y_val) or a generator "
                f"(sample weights are not supported), received {type(data).__name__}")
        xv, yv = self._arrays(data[0], data[1], "fit(validation_data)")
        it = ArrayIterator(xv, yv, batch_size=batch_size, shuffle=False)
        return (it, len(it), len(xv))

    def _log_keys(self, val):
        keys = ["loss"] + [k for m in self.metrics for k in (m.key,) + m.aliases]
        return keys + (["val_" + k for k in keys] if val is not None else [])

    # ------------------------------------------------------------ epochs
    def _run_epoch(self, batches, total, unit, verbose, epoch, cbs, val):
        progress = EpochProgress(total, unit=unit, verbose=verbose)
        totals = _Totals(self, epoch)
        for index, batch in enumerate(batches):
            xb, yb = batch[0], batch[1]
            cbs.on_batch_begin(index, {})
            if self._dp is None:
                loss, sums = self._train_step(xb, yb)
                n = len(xb)
            else:   # minidl.distributed: loss, metric sums and size of the global batch
                loss, sums, n = self._dp.train_step(self, xb, yb, batch[2])
            totals.add(index, loss, sums, n)
            if cbs.need_batch_logs:
                batch_logs = {"batch": index, "size": n, "loss": float(loss)}
                batch_logs.update(totals.named(sums, n))
                cbs.on_batch_end(index, batch_logs)
            progress.update(n if unit == "sample" else 1, totals.running)
            if totals.check_now:
                totals.check()
            if self.stop_training:  # set by a callback: Keras 2.2.4 ends the epoch here
                break
        logs = totals.result()
        if self._dp is not None:
            self._dp.end_epoch(self)   # the same BatchNorm statistics on every process
        if val is not None:
            val_logs = self._evaluate_batches(self._batches(val[0], val[1], "fit(validation_data)"),
                                              epoch=epoch)
            logs.update({"val_" + k: v for k, v in val_logs.items()})
        done = totals.seen if unit == "sample" else totals.batches
        progress.close(done, {k: v for k, v in logs.items() if k not in self._aliases()})
        return logs

    def _aliases(self):
        return {a for m in self.metrics for a in m.aliases} | {"val_" + a for m in self.metrics
                                                              for a in m.aliases}

    def _evaluate_batches(self, batches, epoch=None, progress=None):
        if self._dp is not None:   # minidl.distributed: each process its slices, sums combined
            return self._dp.evaluate_batches(self, batches, epoch, progress)
        totals = _Totals(self, epoch, what="evaluate")
        for index, (xb, yb) in enumerate(batches):
            loss, y_pred, _ = self._batch_loss(xb, yb, training=False)
            totals.add(index, loss, [m(yb, y_pred) for m in self.metrics], len(xb))
            if progress is not None:
                progress.update(len(xb), totals.running)
        return totals.result()

    # ------------------------------------------------------------ evaluate / predict
    @collective
    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, steps=None, **kwargs):
        """[loss, metric...] on (x, y) in inference mode (a scalar without metrics)."""
        self._check_unused(kwargs, "evaluate")
        if self.loss is None:
            raise RuntimeError(f"{self.name}.evaluate: call compile(optimizer, loss) first")
        self._dp = distributed._data_parallel()
        if self._dp is not None and not self._dp.is_main:
            verbose = 0
        if _is_generator(x):
            steps = _steps(x, steps, "steps", f"{self.name}.evaluate")
            logs = self._evaluate_batches(self._batches(x, steps, "evaluate"))
        else:
            x, y = self._arrays(x, y, "evaluate")
            if y is None:
                raise ValueError(f"{self.name}.evaluate: y is required")
            it = ArrayIterator(x, y, batch_size=_batch_size(batch_size, f"{self.name}.evaluate"),
                               shuffle=False)
            progress = EpochProgress(len(x), verbose=1 if verbose == 1 else 0)
            logs = self._evaluate_batches(iter(it), progress=progress)
            progress.close(len(x), {k: v for k, v in logs.items() if k not in self._aliases()})
        values = [logs[k] for k in self.metrics_names]
        return values if len(values) > 1 else values[0]

    def evaluate_generator(self, generator, steps=None, **kwargs):
        return self.evaluate(generator, steps=steps, verbose=0, **kwargs)

    def predict(self, x, batch_size=None, verbose=0, steps=None, **kwargs):
        """Outputs for x as a NumPy array, computed in inference mode in batches.

        ``x`` may also be a generator of batches (x or (x, y)), as in tf.keras.
        """
        self._check_unused(kwargs, "predict")
        if _is_generator(x):
            return self.predict_generator(x, steps=steps)
        x, _ = self._arrays(x, None, "predict")
        it = ArrayIterator(x, None, batch_size=_batch_size(batch_size, f"{self.name}.predict"),
                           shuffle=False)
        outputs = [self._forward(xb, training=False)[0] for xb in it]
        xp = K.get_array_module(outputs[0])
        return K.to_numpy(xp.concatenate(outputs, axis=0))

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1,
                          use_multiprocessing=False, verbose=0):
        """Outputs for ``steps`` batches of a generator yielding x or (x, y) (Keras 2.2.4)."""
        steps = _steps(generator, steps, "steps", f"{self.name}.predict_generator")
        it = generator if hasattr(generator, "__next__") else iter(generator)
        outputs = []
        for _ in range(steps):
            try:
                batch = next(it)
            except StopIteration:
                raise ValueError(f"{self.name}.predict_generator: the generator ran out after "
                                 f"fewer than {steps} steps") from None
            xb = batch[0] if isinstance(batch, (tuple, list)) else batch
            xb, _ = self._arrays(xb, None, "predict_generator", check_values=False)
            if xb.dtype != np.dtype(K.floatx()):
                xb = xb.astype(K.floatx())
            outputs.append(self._forward(xb, training=False)[0])
        xp = K.get_array_module(outputs[0])
        return K.to_numpy(xp.concatenate(outputs, axis=0))

    def predict_classes(self, x, batch_size=None, verbose=0):
        """argmax of predict (Keras's Sequential.predict_classes)."""
        p = self.predict(x, batch_size=batch_size, verbose=verbose)
        return p.argmax(axis=-1) if p.shape[-1] > 1 else (p > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=None, verbose=0):
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=len(x))

    @collective
    def train_on_batch(self, x, y):
        """One update on (x, y); returns [loss, metric...] (a scalar without metrics)."""
        if self.loss is None:
            raise RuntimeError(f"{self.name}.train_on_batch: call compile(optimizer, loss) first")
        x, y = self._arrays(x, y, "train_on_batch")
        if x.dtype != np.dtype(K.floatx()):
            x = x.astype(K.floatx())
        self._dp = distributed._data_parallel()
        if self._dp is None:
            loss, sums = self._train_step(x, y)
        else:   # minidl.distributed: (x, y) is the global batch; this process trains on its slice
            loss, sums, _ = self._dp.train_step(self, self._dp.local_part(x),
                                                self._dp.local_part(y), len(x))
        values = [float(loss)] + [float(s) / len(x) for s in sums]
        if not math.isfinite(values[0]):
            raise TrainingDivergedError(f"{self.name}.train_on_batch: the loss is {values[0]}")
        return values if len(values) > 1 else values[0]

    def test_on_batch(self, x, y):
        return self.evaluate(x, y, batch_size=len(x), verbose=0)


class _Totals:
    """Epoch sums of loss and metrics, kept on the device.

    Also remembers, on the device, the first batch whose loss was not finite,
    so the error can name it without a transfer per batch. On the CPU a
    transfer is free, so the check runs every batch there.
    """

    def __init__(self, model, epoch, what="fit"):
        self.model, self.epoch, self.what = model, epoch, what
        self.loss_sum = None
        self.metric_sums = None
        self.seen = 0
        self.batches = 0
        self.first_bad = None
        self.check_now = False

    def add(self, index, loss, sums, n):
        xp = K.get_array_module(loss)
        loss64 = loss.astype(np.float64)
        bad = ~xp.isfinite(loss64)
        if self.loss_sum is None:
            self.loss_sum = loss64 * n
            self.metric_sums = [s.astype(np.float64) for s in sums]
            self.first_bad = xp.where(bad, index, -1)
        else:
            self.loss_sum = self.loss_sum + loss64 * n
            self.metric_sums = [a + s for a, s in zip(self.metric_sums, sums)]
            self.first_bad = xp.where((self.first_bad < 0) & bad, index, self.first_bad)
        self.seen += n
        self.batches += 1
        self.check_now = xp is np

    def check(self):
        bad_targets = self.model._bad_targets
        if bad_targets is not None and bool(bad_targets):
            self.model._bad_targets = None
            raise ValueError(
                f"{self.model.name}.{self.what}: the data yielded targets that "
                f"{self.model.loss.name} cannot take (labels outside [0, "
                f"{self.model.layers[-1]._out_shape[-1]}), non-integer labels, or NaN or "
                f"infinite values)")
        if self.first_bad is not None:
            bad = int(self.first_bad)
            if bad >= 0:
                where = f"epoch {self.epoch + 1}, batch {bad}" if self.epoch is not None else f"batch {bad}"
                error = TrainingDivergedError(
                    f"{self.model.name}.{self.what}: the loss became NaN or infinite at {where}; "
                    f"lower the learning rate or check the inputs for extreme values")
                error.batch = bad
                raise error

    def named(self, sums, n):
        out = {}
        for m, s in zip(self.model.metrics, sums):
            out[m.key] = float(s) / n
            out.update({a: out[m.key] for a in m.aliases})
        return out

    def running(self):
        self.check()
        return {k: v for k, v in self.result(check=False).items()
                if k not in self.model._aliases()}

    def result(self, check=True):
        if check:
            self.check()
        if self.seen == 0:
            raise ValueError(f"{self.model.name}.{self.what}: no batches were produced")
        logs = {"loss": float(self.loss_sum) / self.seen}
        for m, s in zip(self.model.metrics, self.metric_sums):
            logs[m.key] = float(s) / self.seen
            for alias in m.aliases:
                logs[alias] = logs[m.key]
        return logs


def _is_generator(x):
    return x is not None and not hasattr(x, "shape") and not isinstance(x, (list, tuple)) and (
        hasattr(x, "__next__") or hasattr(x, "__iter__") or _is_sequence(x))


# Keras 2.2.4 / tf.keras 2.x compile arguments minidl accepts only as None
def _is_sequence(data):
    """A keras.utils.Sequence-like dataset: batches by index, not by next()."""
    return (hasattr(data, "__getitem__") and hasattr(data, "__len__")
            and not hasattr(data, "__next__") and not hasattr(data, "shape")
            and not isinstance(data, (list, tuple, dict)))


def _steps(gen, steps, name, where):
    if steps is None:
        if hasattr(gen, "__len__"):
            return len(gen)
        raise ValueError(f"{where}: {name} is required when the data is a generator without len()")
    _check_positive_int(steps, name, where)
    return int(steps)


def _batch_size(value, where):
    """Keras 2: batch_size=None means 32 (fit, evaluate and predict alike)."""
    if value is None:
        return 32
    _check_positive_int(value, "batch_size", where)
    return int(value)


def _check_positive_int(value, name, where, allow_zero=False):
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and (
        value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ValueError(f"{where}: {name} must be a {'non-negative' if allow_zero else 'positive'} "
                         f"int, received {value!r}")
