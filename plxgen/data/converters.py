"""The source kinds of `plxgen data` beyond digits: mnist, cifar10, images, npz and csv.

One module per group of kinds; this one gathers their converters for
`datasets.dataset_kinds`:

    convert_mnist_cifar.py   mnist (IDX files), cifar10 (python pickle batches)
    convert_images.py        images (a folder of images per class)
    convert_arrays.py        npz and csv (image or tabular records)
    convert_shared.py        the SOURCE argument, the 2017 split, Batches
"""

from __future__ import annotations

from plxgen.data.convert_arrays import convert_csv, convert_npz
from plxgen.data.convert_images import convert_images
from plxgen.data.convert_mnist_cifar import convert_cifar10, convert_mnist

__all__ = [
    "convert_cifar10",
    "convert_csv",
    "convert_images",
    "convert_mnist",
    "convert_npz",
]
