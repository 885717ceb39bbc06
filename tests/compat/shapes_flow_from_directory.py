"""Train on your own images: a class-per-folder tree read by flow_from_directory.

The recipe of the Keras blog's "building powerful image classification models
using very little data" and the tutorials that copy it: ImageDataGenerator
with rescale and augmentation, flow_from_directory with target_size and
class_mode, a small convnet, fit_generator / evaluate_generator /
predict_generator. ``keras`` replaced by ``minidl``. DATA_DIR names the tree
(data/train/<class>/*.png, data/validation/<class>/*.png).
"""
import os

from minidl.preprocessing.image import ImageDataGenerator
from minidl.models import Sequential
from minidl.layers import Conv2D, MaxPooling2D
from minidl.layers import Activation, Dropout, Flatten, Dense
from minidl import backend as K

# dimensions of our images.
img_width, img_height = 32, 32

data_dir = os.environ.get("DATA_DIR", "data")
train_data_dir = os.path.join(data_dir, 'train')
validation_data_dir = os.path.join(data_dir, 'validation')
epochs = int(os.environ.get("EPOCHS", 50))
batch_size = 16

if K.image_data_format() == 'channels_first':
    input_shape = (3, img_width, img_height)
else:
    input_shape = (img_width, img_height, 3)

model = Sequential()
model.add(Conv2D(16, (3, 3), input_shape=input_shape))
model.add(Activation('relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))

model.add(Conv2D(16, (3, 3)))
model.add(Activation('relu'))
model.add(MaxPooling2D(pool_size=(2, 2)))

model.add(Flatten())
model.add(Dense(32))
model.add(Activation('relu'))
model.add(Dropout(0.5))
model.add(Dense(1))
model.add(Activation('sigmoid'))

model.compile(loss='binary_crossentropy',
              optimizer='rmsprop',
              metrics=['accuracy'])

# this is the augmentation configuration we will use for training
train_datagen = ImageDataGenerator(
    rescale=1. / 255,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True)

# this is the augmentation configuration we will use for testing:
# only rescaling
test_datagen = ImageDataGenerator(rescale=1. / 255)

train_generator = train_datagen.flow_from_directory(
    train_data_dir,
    target_size=(img_width, img_height),
    batch_size=batch_size,
    class_mode='binary')

validation_generator = test_datagen.flow_from_directory(
    validation_data_dir,
    target_size=(img_width, img_height),
    batch_size=batch_size,
    class_mode='binary')

model.fit_generator(
    train_generator,
    steps_per_epoch=train_generator.samples // batch_size,
    epochs=epochs,
    validation_data=validation_generator,
    validation_steps=validation_generator.samples // batch_size)

model.save_weights(os.path.join(os.environ.get("OUT", "."), 'first_try.h5'))

score = model.evaluate_generator(validation_generator, steps=len(validation_generator))
print('validation loss, accuracy:', score)
predict_generator = test_datagen.flow_from_directory(
    validation_data_dir, target_size=(img_width, img_height), batch_size=batch_size,
    class_mode=None, shuffle=False)
probabilities = model.predict_generator(predict_generator, steps=len(predict_generator))
print(probabilities.shape, train_generator.class_indices)
