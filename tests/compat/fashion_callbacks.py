"""Callbacks that steer training: stop early and restore the best weights, keep the
best checkpoint, lower the learning rate on a plateau, log to CSV, stop on NaN.

The callback list of a typical Keras 2.2-2.3 tutorial on Fashion-MNIST, with
``keras`` replaced by ``minidl``. OUT (environment) says where files go.
"""
import os

import numpy as np
from minidl.datasets import fashion_mnist
from minidl.models import Sequential, load_model
from minidl.layers import Dense, Dropout, Flatten, BatchNormalization
from minidl.callbacks import (EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger,
                              TerminateOnNaN, LearningRateScheduler)
from minidl.optimizers import SGD

samples = int(os.environ.get("SAMPLES", 60000))
epochs = int(os.environ.get("EPOCHS", 50))
out = os.environ.get("OUT", ".")

(x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
x_train, y_train = x_train[:samples] / 255.0, y_train[:samples].reshape(-1, 1)
x_test, y_test = x_test[:samples // 5] / 255.0, y_test[:samples // 5]

model = Sequential([
    Flatten(input_shape=(28, 28)),
    Dense(128, activation='relu'),
    BatchNormalization(),
    Dropout(0.3),
    Dense(10, activation='softmax'),
])
model.compile(optimizer=SGD(lr=0.05, momentum=0.9, nesterov=True),
              loss='sparse_categorical_crossentropy', metrics=['acc'])


def step_decay(epoch, lr):
    return lr if epoch < 3 else lr * 0.9


checkpoint_path = os.path.join(out, 'best_model.h5')
callbacks = [
    EarlyStopping(monitor='val_loss', min_delta=1e-4, patience=3, verbose=1,
                  restore_best_weights=True),
    ModelCheckpoint(checkpoint_path, monitor='val_acc', mode='max', save_best_only=True,
                    verbose=1),
    ReduceLROnPlateau(monitor='val_loss', factor=0.5, patience=1, min_lr=1e-4, verbose=1),
    CSVLogger(os.path.join(out, 'training.log')),
    TerminateOnNaN(),
    LearningRateScheduler(step_decay),
]
history = model.fit(x_train, y_train, batch_size=64, epochs=epochs,
                    validation_split=0.2, callbacks=callbacks, verbose=2)

print('epochs run:', len(history.history['loss']))
best = load_model(checkpoint_path)
loss, acc = best.evaluate(x_test, y_test, verbose=0)
print('best checkpoint: test accuracy %.4f' % acc)
print(model.evaluate(x_test, y_test, verbose=0))
print(np.round(model.predict(x_test[:3]), 3))
