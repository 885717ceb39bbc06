"""Trains a simple deep NN on the MNIST dataset: 784-512-512-10 with dropout, RMSprop.

Written the way Keras 2.2's examples/mnist_mlp.py and its many copies are, with
``keras`` replaced by ``minidl``. SAMPLES (environment) trims the data for a
quick run; the full run reaches about 98% test accuracy after 20 epochs.
"""
from __future__ import print_function

import os

import minidl as keras
from minidl.datasets import mnist
from minidl.models import Sequential
from minidl.layers import Dense, Dropout
from minidl.optimizers import RMSprop

samples = int(os.environ.get("SAMPLES", 60000))
batch_size = 128
num_classes = 10
epochs = int(os.environ.get("EPOCHS", 20))

# the data, split between train and test sets
(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, y_train = x_train[:samples], y_train[:samples]
x_test, y_test = x_test[:samples // 5], y_test[:samples // 5]

x_train = x_train.reshape(len(x_train), 784)
x_test = x_test.reshape(len(x_test), 784)
x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print(x_train.shape[0], 'train samples')
print(x_test.shape[0], 'test samples')

# convert class vectors to binary class matrices
y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))

model.summary()

model.compile(loss='categorical_crossentropy',
              optimizer=RMSprop(),
              metrics=['accuracy'])

history = model.fit(x_train, y_train,
                    batch_size=batch_size,
                    epochs=epochs,
                    verbose=1,
                    validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
