"""A binary classifier: is this handwritten digit below 5?

The shape of countless blog posts (the Pima-diabetes MLP, the IMDB dense
net): Dense layers with input_dim, a one-unit sigmoid output,
binary_crossentropy, 'adam', metrics=['accuracy'], then predict_classes and
a 0.5 threshold. ``keras`` replaced by ``minidl``.
"""
import os

import numpy as np
from minidl.datasets import mnist
from minidl.models import Sequential
from minidl.layers import Dense, Dropout

samples = int(os.environ.get("SAMPLES", 60000))
epochs = int(os.environ.get("EPOCHS", 10))

(x_train, y_train), (x_test, y_test) = mnist.load_data()
X = x_train[:samples].reshape(-1, 784).astype(np.float64) / 255.0   # float64, as NumPy makes it
Y = (y_train[:samples] < 5).astype(int)                               # labels 0/1, shape (N,)
X_test = x_test[:samples // 5].reshape(-1, 784) / 255.0
Y_test = (y_test[:samples // 5] < 5).astype(int).reshape(-1, 1)    # and (N, 1)

# define the keras model
model = Sequential()
model.add(Dense(32, input_dim=784, activation='relu'))
model.add(Dropout(0.1))
model.add(Dense(8, activation='relu'))
model.add(Dense(1, activation='sigmoid'))

# compile the keras model
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])

# fit the keras model on the dataset
history = model.fit(X, Y, epochs=epochs, batch_size=10, validation_split=0.2, verbose=2)

# evaluate the keras model
_, accuracy = model.evaluate(X_test, Y_test, verbose=0)
print('Accuracy: %.2f' % (accuracy * 100))

# make class predictions with the model
predictions = model.predict_classes(X_test)
rounded = (model.predict(X_test) > 0.5).astype(int)
for i in range(5):
    print("%s => %d (expected %d)" % (X_test[i].argmax(), predictions[i][0], Y_test[i][0]))
