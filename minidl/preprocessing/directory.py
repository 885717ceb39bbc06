"""``datagen.flow_from_directory``: batches of images read from a
class-per-folder tree, as keras-preprocessing 1.1.2 directory_iterator.py
(the ImageDataGenerator of Keras 2.2-2.3) reads them::

    data/train/cats/001.jpg        it = datagen.flow_from_directory(
    data/train/cats/002.png                 'data/train', target_size=(64, 64))
    data/train/dogs/...            # Found 2000 images belonging to 2 classes.

Classes are the subfolders, sorted alphanumerically unless ``classes`` names
them; the images of a class are every .png .jpg .jpeg .bmp .ppm .tif .tiff
file under its folder (subfolders too, walked in sorted order). Each batch
is decoded in the main thread with Pillow (the ``images`` extra), converted
to the colour mode, resized to target_size with the named Pillow filter, then
moved to the device, augmented and standardized like a ``flow`` batch.
Nothing is cached.

Known differences from Keras: 16- and 32-bit grayscale images are converted
to 8 bits (Keras keeps their values); class_mode='binary' refuses more than
2 classes and a ``classes`` entry without a folder is an error (Keras goes on
with meaningless labels / an empty class); an empty selection is an error
(Keras prints "Found 0 images" and fails later); ``save_to_dir`` is refused.
"""
import os

import numpy as np

from .. import backend
from ..datasets.image_folder import _Decoder, _pillow, check_decoding
from .iterator import Iterator, _check_batch_size_and_seed, _check_subset, _refuse_saving

__all__ = ["DirectoryIterator"]

# keras-preprocessing 1.1.2 Iterator.white_list_formats (matched there without the dot)
_WHITE_LIST = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
_CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
_CLASS_MODES = ("categorical", "binary", "sparse", "input", None)
_WHERE = "flow_from_directory"


class DirectoryIterator(Iterator):
    """Endless batches (x, y) from a class-per-folder tree of images.

    directory: the tree's top folder, one subfolder per class.
    target_size: (height, width) every image is resized to; Keras default (256, 256).
    color_mode: 'rgb' (C=3), 'grayscale' (C=1) or 'rgba' (C=4).
    classes: class folder names in label order; None: every subfolder, sorted.
    class_mode: the labels y of a batch (N images), as 1.1.2 makes them:
        'categorical' (N, num_classes) one-hot; 'sparse' and 'binary' (N,)
        class indices as floats; 'input' a copy of x (autoencoders); None:
        x alone.
    subset: 'training' / 'validation' with the generator's validation_split:
        'validation' is the first int(n * split) files of each class, in
        listing order, 'training' the others.
    interpolation: Pillow filter of the resize: 'nearest' (Keras default),
        'bilinear', 'bicubic', 'lanczos', 'box', 'hamming'.
    follow_links: descend into symlinked subfolders of a class folder.

    Attributes as in Keras: ``class_indices`` {name: index}, ``classes``
    (samples,) int32 label of each file, ``filenames`` paths relative to
    directory, ``filepaths``, ``samples`` = ``n``, ``num_classes``,
    ``image_shape`` (H, W, C). x batches: (N, H, W, C) of the generator's
    dtype (floatx by default) on the active device, pixel values 0..255
    before the generator's rescale.
    """

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode="rgb", classes=None, class_mode="categorical", batch_size=32,
                 shuffle=True, seed=None, data_format=None, save_to_dir=None, save_prefix="",
                 save_format="png", follow_links=False, subset=None, interpolation="nearest",
                 dtype=None):
        # defaults above: keras-preprocessing 1.1.2 directory_iterator.py
        _check_args(directory, target_size, color_mode, classes, class_mode, interpolation,
                    data_format)
        _refuse_saving(save_to_dir, _WHERE)
        _check_batch_size_and_seed(batch_size, seed, _WHERE)
        _check_subset(subset, _WHERE)
        self._decoder = _Decoder(_pillow(_WHERE), tuple(target_size), _PIL_MODES[color_mode],
                                 interpolation, where=_WHERE)
        self.directory = os.fspath(directory)
        self.image_data_generator = image_data_generator
        self.target_size = tuple(int(s) for s in target_size)
        self.color_mode, self.class_mode, self.interpolation = color_mode, class_mode, interpolation
        self.image_shape = self.target_size + (_CHANNELS[color_mode],)
        self.data_format = "channels_last"
        self.subset = subset
        self.dtype = np.dtype(dtype or image_data_generator.dtype or backend.floatx())
        split = image_data_generator._validation_split
        self.split = None if subset is None else (
            (0.0, split) if subset == "validation" else (split, 1.0))

        if not classes:
            classes = [d for d in sorted(os.listdir(self.directory))
                       if os.path.isdir(os.path.join(self.directory, d))]
        else:
            missing = [c for c in classes if not os.path.isdir(os.path.join(self.directory, c))]
            if missing:
                raise ValueError(f"{_WHERE}: classes {missing} have no folder in "
                                 f"{self.directory!r}")
        classes = list(classes)
        if class_mode == "binary" and len(classes) > 2:
            raise ValueError(f"{_WHERE}: class_mode='binary' needs 2 classes, found "
                             f"{len(classes)}: {classes}")
        self.num_classes = len(classes)
        self.class_indices = {c: i for i, c in enumerate(classes)}
        self.filenames, labels = [], []
        for c in classes:
            files = _list_files(self.directory, c, follow_links, self.split)
            self.filenames += files
            labels += [self.class_indices[c]] * len(files)
        self.classes = np.array(labels, dtype=np.int32)
        self.samples = len(self.filenames)
        self.filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        if self.samples == 0:
            part = "" if subset is None else f" (subset {subset!r}, validation_split={split})"
            raise ValueError(f"{_WHERE}: no images ({', '.join(_WHITE_LIST)}) in the class "
                             f"folders {classes} of {self.directory!r}{part}")
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def labels(self):
        return self.classes

    def _set_index_array(self):
        super()._set_index_array()
        self.index_array = backend.to_numpy(self.index_array)  # picks files: once per epoch

    def _get_batch(self, index):
        images = [self._decoder.one(self.filepaths[i], self.filenames[i]) for i in index]
        xb = backend.asarray(np.stack(images)).astype(self.dtype)
        xb = self.image_data_generator._transform_batch(xb, self._generator())
        if self.class_mode is None:
            return xb
        if self.class_mode == "input":
            return xb, xb.copy()
        labels = self.classes[index]
        if self.class_mode == "categorical":
            y = np.zeros((len(index), self.num_classes), dtype=self.dtype)
            y[np.arange(len(index)), labels] = 1.0
        else:  # 'sparse', 'binary': the class index as a float, as 1.1.2 gives it
            y = labels.astype(self.dtype)
        return xb, backend.asarray(y)


def _list_files(directory, class_name, follow_links, split):
    """Image paths under directory/class_name, relative to directory, in
    1.1.2's order: folders by path, files by name; ``split`` keeps a slice."""
    top = os.path.join(directory, class_name)
    found = []
    for root, _, files in sorted(os.walk(top, followlinks=follow_links), key=lambda t: t[0]):
        for name in sorted(files):
            if name.lower().endswith(_WHITE_LIST):
                found.append(os.path.join(class_name, os.path.relpath(os.path.join(root, name), top)))
    if split:
        found = found[int(split[0] * len(found)):int(split[1] * len(found))]
    return found


def _check_args(directory, target_size, color_mode, classes, class_mode, interpolation,
                data_format):
    if not isinstance(directory, (str, os.PathLike)):
        raise TypeError(f"{_WHERE}: directory must be a path, received {type(directory).__name__}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{_WHERE}: {os.fspath(directory)!r} is not a directory")
    check_decoding(_WHERE, "target_size", target_size, color_mode, interpolation,
                   size_optional=False)
    if class_mode not in _CLASS_MODES:
        raise ValueError(f"{_WHERE}: class_mode must be one of {list(_CLASS_MODES)}, "
                         f"received {class_mode!r}")
    if classes is not None and (isinstance(classes, str)
                                or not all(isinstance(c, str) for c in classes)):
        raise TypeError(f"{_WHERE}: classes must be a list of folder names or None, "
                        f"received {classes!r}")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{_WHERE}: minidl is channels-last; data_format must be "
                         f"'channels_last' or None, received {data_format!r}")
