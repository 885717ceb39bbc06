"""The program tests/test_distributed.py runs under mpirun (and once without it).

    mpirun -n 2 python tests/distributed_worker.py train OUT [--cases a,b] [--communicator c]
    python tests/distributed_worker.py reference OUT [--cases a,b]
    mpirun -n 2 python tests/distributed_worker.py fail OUT

train:      minidl.distributed.init(), then for each case a fresh model trained
            with fit; every rank writes OUT/rank<r>.pkl: its final weights, its
            History, the data order of each epoch and its dropout draws per step.
reference:  one plain process (no launcher, no init): the same models trained
            on the same global batches in the same order, with the ranks'
            dropout draws put together in rank order, as one process would
            draw them for the whole batch; writes OUT/reference.pkl.
fail:       rank 1 raises in the second batch; the others are waiting in the
            gradient allreduce and must be stopped.
"""
import argparse
import json
import os
import pickle
import sys

import numpy as np

import minidl
from minidl import backend as K
from minidl import distributed
from minidl.layers import (Activation, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
                           MaxPooling2D)
from minidl.layers.dropout import Dropout as DropoutClass

SEED = 7
N, BATCH, EPOCHS = 21, 10, 2        # batches of 10, 10 and 1: the last leaves ranks empty
CLASSES = 3


def data(kind):
    g = np.random.default_rng(123)
    shape = (N + 6, 5) if kind == "mlp" else (N + 6, 6, 6, 2)
    x = g.standard_normal(shape)
    y = g.integers(0, CLASSES, size=N + 6)
    return (x[:N], y[:N]), (x[N:], y[N:])


def model_for(case):
    kind, opt, *rest = case.split("_")
    if kind == "mlp":
        layers = [Dense(8, activation="tanh", input_shape=(5,),
                        kernel_regularizer=minidl.regularizers.l2(0.01)),
                  Dense(CLASSES, activation="softmax")]
    else:
        sync = "local" not in rest
        layers = [Conv2D(4, (3, 3), input_shape=(6, 6, 2)),
                  BatchNormalization(synchronized=sync), Activation("relu"),
                  MaxPooling2D((2, 2)), Dropout(0.4), Flatten(),
                  Dense(CLASSES, activation="softmax")]
    model = minidl.Sequential(layers)
    optimizer = (minidl.optimizers.SGD(lr=0.1, momentum=0.9) if opt == "sgd"
                 else minidl.optimizers.Adam(lr=0.01))
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


_DRAWS = []   # this process's training-mode dropout draws, in order


def record_dropout():
    """Keep every training-mode dropout draw of this process in _DRAWS."""
    forward = DropoutClass.forward

    def recording(self, x, training=False):
        y = forward(self, x, training)
        if training and self.draws is not None:
            _DRAWS.append(K.to_numpy(self.draws).copy())
        return y
    DropoutClass.forward = recording


def train(out, cases, communicator):
    comm = distributed.init(communicator=communicator)
    K.set_floatx("float64")
    rank = distributed.rank()
    result = {"size": distributed.size(), "comm": comm.name, "device": K.device(), "cases": {}}
    record_dropout()
    for case in cases:
        minidl.seed(SEED)
        distributed.init(communicator=communicator, fp16_gradients=case.endswith("fp16"))
        (x, y), val = data(case.split("_")[0])
        model = model_for(case)
        draws, orders, steps = _DRAWS, [], []
        draws.clear()
        generator = case.endswith("gen")   # fixed batches, in order, from a generator
        keep = minidl.callbacks.LambdaCallback(
            on_epoch_end=lambda e, logs: orders.append(
                np.arange(N) if generator else model._fit_iterators["train"].order.copy()),
            on_batch_end=lambda b, logs: steps.append(len(draws)))
        if generator:
            batches = ((x[i:i + BATCH], y[i:i + BATCH]) for _ in range(EPOCHS)
                       for i in range(0, N, BATCH))
            history = model.fit(batches, steps_per_epoch=-(-N // BATCH), epochs=EPOCHS,
                                verbose=0, validation_data=val, callbacks=[keep])
        else:
            history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0,
                                validation_data=val, callbacks=[keep])
        # draws per step: [] where this rank's slice was empty
        per_step, start = [], 0
        for end in steps:
            per_step.append(draws[start:end])
            start = end
        result["cases"][case] = {"weights": model.get_weights(), "history": history.history,
                                 "orders": orders, "draws": per_step,
                                 "evaluate": model.evaluate(*val, verbose=0)}
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)
    if "staged_bytes" in vars(comm):
        print(f"staged {comm.staged_bytes}")


def reference(out, cases):
    K.set_device("cpu")
    K.set_floatx("float64")
    ranks = []
    for name in sorted(f for f in os.listdir(out) if f.startswith("rank")):
        with open(os.path.join(out, name), "rb") as f:
            ranks.append(pickle.load(f))
    result = {}
    real_uniform = K.random_uniform
    for case in cases:
        recs = [r["cases"][case] for r in ranks]
        minidl.seed(SEED)
        (x, y), val = data(case.split("_")[0])
        model = model_for(case)
        # one process draws the whole batch's mask: the ranks' draws in rank order
        queue = []
        for step in range(len(recs[0]["draws"])):
            parts = [r["draws"][step] for r in recs]
            for layer_i in range(max(len(p) for p in parts)):
                queue.append(np.concatenate([p[layer_i] for p in parts if p], axis=0))

        def uniform(shape, low=0.0, high=1.0, dtype=None):
            u = queue.pop(0)
            assert u.shape == tuple(shape), (u.shape, shape)
            return K.asarray(u)
        K.random_uniform = uniform
        history = {}
        try:
            for order in recs[0]["orders"]:
                h = model.fit(x[order], y[order], batch_size=BATCH, epochs=1, shuffle=False,
                              verbose=0, validation_data=val)
                for k, v in h.history.items():
                    history.setdefault(k, []).extend(v)
        finally:
            K.random_uniform = real_uniform
        assert not queue
        result[case] = {"weights": model.get_weights(), "history": history}
    with open(os.path.join(out, "reference.pkl"), "wb") as f:
        pickle.dump(result, f)


def fail(out):
    distributed.init()
    minidl.seed(SEED)
    (x, y), _ = data("mlp")
    model = model_for("mlp_sgd")

    def boom(batch, logs):
        if distributed.rank() == 1 and batch == 1:
            raise ValueError("boom on rank 1")
    model.fit(x, y, batch_size=4, epochs=3, verbose=0,
              callbacks=[minidl.callbacks.LambdaCallback(on_batch_end=boom)])
    print("rank", distributed.rank(), "finished training: it should have been stopped")


def flow(out):
    """An augmented ``datagen.flow(x, y)`` with no seed, as single-process code writes it:
    every rank must see the same order; each draws its own augmentation."""
    from minidl.preprocessing.image import ImageDataGenerator
    distributed.init()
    minidl.seed(SEED)
    rng = np.random.default_rng(0)
    x = rng.random((24, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, 24)
    model = minidl.Sequential([minidl.layers.Flatten(input_shape=(6, 6, 1)),
                               minidl.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    datagen = ImageDataGenerator(width_shift_range=0.2)
    model.fit_generator(datagen.flow(x, y, batch_size=8), steps_per_epoch=3, epochs=2, verbose=0)
    weights = np.concatenate([w.ravel() for w in model.get_weights()])
    with open(os.path.join(out, f"flow_rank{distributed.rank()}.json"), "w") as f:
        json.dump(weights.tolist(), f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "reference", "fail", "flow"])
    p.add_argument("out")
    p.add_argument("--cases", default="mlp_sgd,mlp_adam,cnn_sgd,cnn_adam,cnn_sgd_local,"
                                      "mlp_sgd_fp16,cnn_adam_gen")
    p.add_argument("--communicator", default="auto")
    args = p.parse_args()
    cases = args.cases.split(",")
    if args.mode == "train":
        train(args.out, cases, args.communicator)
    elif args.mode == "reference":
        reference(args.out, cases)
    elif args.mode == "flow":
        flow(args.out)
    else:
        fail(args.out)


if __name__ == "__main__":
    sys.exit(main())
