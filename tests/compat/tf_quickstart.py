"""The TensorFlow 2 beginner quickstart, ``tf.keras`` replaced by ``minidl``.

An Input-first Sequential model whose last layer has no softmax: the loss is
SparseCategoricalCrossentropy(from_logits=True), and the trained model is
wrapped with a Softmax layer on top for probabilities afterwards.
"""
import os

import numpy as np
import minidl as keras

samples = int(os.environ.get("SAMPLES", 60000))
epochs = int(os.environ.get("EPOCHS", 5))

mnist = keras.datasets.mnist

(x_train, y_train), (x_test, y_test) = mnist.load_data()
x_train, y_train = x_train[:samples], y_train[:samples]
x_test, y_test = x_test[:samples // 5], y_test[:samples // 5]
x_train, x_test = x_train / 255.0, x_test / 255.0

model = keras.models.Sequential([
    keras.Input(shape=(28, 28)),
    keras.layers.Flatten(),
    keras.layers.Dense(128, activation='relu'),
    keras.layers.Dropout(0.2),
    keras.layers.Dense(10)
])

predictions = model(x_train[:1])
print(predictions)

loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
print(loss_fn(y_train[:1], predictions))

model.compile(optimizer='adam',
              loss=loss_fn,
              metrics=['accuracy'])

model.fit(x_train, y_train, epochs=epochs)

model.evaluate(x_test, y_test, verbose=2)

probability_model = keras.Sequential([
    model,
    keras.layers.Softmax()
])
probs = probability_model.predict(x_test[:5])
print(probs)
print(np.argmax(probs, axis=1), y_test[:5])
