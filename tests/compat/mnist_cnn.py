"""Trains a simple convnet on the MNIST dataset, with Adadelta.

In the style of Keras 2.2's examples/mnist_cnn.py (the ``image_data_format()``
branch included), ``keras`` replaced by ``minidl``. The full run gets to about
99.25% test accuracy after 12 epochs.
"""
from __future__ import print_function

import os

import minidl as keras
from minidl.datasets import mnist
from minidl.models import Sequential
from minidl.layers import Dense, Dropout, Flatten
from minidl.layers import Conv2D, MaxPooling2D
from minidl import backend as K

samples = int(os.environ.get("SAMPLES", 60000))
batch_size = 128
num_classes = 10
epochs = int(os.environ.get("EPOCHS", 12))

# input image dimensions
img_rows, img_cols = 28, 28

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, y_train = x_train[:samples], y_train[:samples]
x_test, y_test = x_test[:samples // 5], y_test[:samples // 5]

if K.image_data_format() == 'channels_first':
    x_train = x_train.reshape(x_train.shape[0], 1, img_rows, img_cols)
    x_test = x_test.reshape(x_test.shape[0], 1, img_rows, img_cols)
    input_shape = (1, img_rows, img_cols)
else:
    x_train = x_train.reshape(x_train.shape[0], img_rows, img_cols, 1)
    x_test = x_test.reshape(x_test.shape[0], img_rows, img_cols, 1)
    input_shape = (img_rows, img_cols, 1)

x_train = x_train.astype('float32')
x_test = x_test.astype('float32')
x_train /= 255
x_test /= 255
print('x_train shape:', x_train.shape)

y_train = keras.utils.to_categorical(y_train, num_classes)
y_test = keras.utils.to_categorical(y_test, num_classes)

model = Sequential()
model.add(Conv2D(32, kernel_size=(3, 3),
                 activation='relu',
                 input_shape=input_shape))
model.add(Conv2D(64, (3, 3), activation='relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(128, activation='relu'))
model.add(Dropout(0.5))
model.add(Dense(num_classes, activation='softmax'))

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=keras.optimizers.Adadelta(),
              metrics=['accuracy'])

model.fit(x_train, y_train,
          batch_size=batch_size,
          epochs=epochs,
          verbose=1,
          validation_data=(x_test, y_test))
score = model.evaluate(x_test, y_test, verbose=0)
print('Test loss:', score[0])
print('Test accuracy:', score[1])
