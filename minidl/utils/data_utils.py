"""``keras.utils.Sequence``: a dataset that hands out batches by index.

Subclass it with ``__len__`` (batches per epoch) and ``__getitem__(i)`` (the
i-th batch, ``(x, y)``), and optionally ``on_epoch_end``; ``fit`` then asks
for every batch once per epoch, in a new random order when ``shuffle=True``
(Keras 2.2.4's fit_generator on a Sequence), and calls ``on_epoch_end`` after
each epoch.
"""


class Sequence:
    def __getitem__(self, index):
        """The batch ``index`` of the epoch: ``(x, y)``."""
        raise NotImplementedError(f"{type(self).__name__}: a Sequence defines __getitem__")

    def __len__(self):
        """Batches per epoch."""
        raise NotImplementedError(f"{type(self).__name__}: a Sequence defines __len__")

    def on_epoch_end(self):
        """Called by fit after every epoch (e.g. to reshuffle the samples)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]
