"""The course's datasets, one module each, found offline first.

    course.data.store          where data lives, downloads, subsets, checksums (shared)
    course.data.mnist          load_mnist
    course.data.cifar10        load_cifar10, cifar10_tensors
    course.data.cats_vs_dogs   load_cats_vs_dogs
    course.data.sst2           load_sst2

Lessons import the module they use (``from course.data.mnist import load_mnist``), so the
build knows which datasets a lesson reads and re-runs it only when those change.
"""
