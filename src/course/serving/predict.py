"""Classify images with an ONNX model. Needs only onnxruntime, numpy and Pillow: no PyTorch.

    python predict.py MODEL.onnx IMAGE [IMAGE ...]

Prints one line per image: the file, the most likely class and its probability. The
model takes float32 images with values in [0, 1], shaped N x 3 x 32 x 32 (Day 14's
CIFAR-10 network normalises inside). Every image is converted to RGB (greyscale, RGBA
and palette images work), its centre square is cut out and resized to 32 x 32 pixels.
An input may also be a NumPy .npy file holding such floats: one image (3 x 32 x 32) or
a batch (N x 3 x 32 x 32); it is loaded with allow_pickle=False, so it cannot run code.

Refused with one line on stderr (the other inputs are still classified): a missing
file, a file that is not an image, a file over MAX_FILE_BYTES, an image over MAX_PIXELS
pixels (read from its header before anything is decoded, so a "decompression bomb", a
tiny file claiming billions of pixels, costs nothing), an array of the wrong shape,
type or range. Exit status: 0 if every input was classified, 1 if any was refused,
2 if the command line or the model is unusable.

Defined in Day 19, which copies this file into its working directory and runs it.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image, ImageOps

CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")  # fmt: skip
MAX_FILE_BYTES = 20_000_000  # larger files are refused before they are read
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; more is refused before decoding
Image.MAX_IMAGE_PIXELS = None  # Pillow's own limit warns, then fails: ours refuses cleanly


class InputError(ValueError):
    """An input the model cannot take; the message says why, in one line."""


def image_to_array(data: bytes, size: int = 32) -> np.ndarray:
    """The bytes of an image file -> float32 array 1 x 3 x size x size, values in [0, 1]."""
    try:
        image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.UnidentifiedImageError:
        raise InputError("not an image file that Pillow can read") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError(f"the image cannot be read ({err})") from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise InputError(
                f"the image is {width:,} x {height:,} pixels; the limit is {MAX_PIXELS:,}"
            )
        try:
            image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, faster
            rgb = ImageOps.exif_transpose(image).convert("RGB")  # decodes the pixels
        except (OSError, SyntaxError, ValueError) as err:
            raise InputError(f"the image cannot be decoded ({err})") from None
    square = ImageOps.fit(rgb, (size, size), method=Image.Resampling.BICUBIC)
    pixels = np.asarray(square, dtype=np.float32) / 255  # H x W x 3
    return pixels.transpose(2, 0, 1)[None]  # 1 x 3 x H x W, as the model takes it


def npy_to_array(data: bytes, size: int = 32) -> np.ndarray:
    """The bytes of a .npy file -> float32 array N x 3 x size x size, checked."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as err:
        raise InputError(f"not a usable .npy array ({err})") from None
    shape = " x ".join(map(str, array.shape))
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4 or array.shape[1:] != (3, size, size):
        raise InputError(
            f"expected an array of shape 3 x {size} x {size} or N x 3 x {size} x {size} "
            f"(channels first), got {shape}"
        )
    if not np.issubdtype(array.dtype, np.floating):
        raise InputError(f"expected floats in [0, 1], got {array.dtype} values")
    in_range = np.isfinite(array).all() and -0.01 <= array.min() <= array.max() <= 1.01
    if array.size and not in_range:
        raise InputError(
            f"expected values in [0, 1] (plain pixels / 255, not normalised), got values "
            f"from {array.min():.3g} to {array.max():.3g}"
        )
    return np.ascontiguousarray(array, dtype=np.float32)


def load_input(data: bytes, size: int = 32) -> np.ndarray:
    """An image file's or a .npy file's bytes -> the model's input, N x 3 x size x size."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{len(data):,} bytes is over the limit of {MAX_FILE_BYTES:,}")
    if data.startswith(b"\x93NUMPY"):
        return npy_to_array(data, size)
    return image_to_array(data, size)


class Predictor:
    """An ONNX Runtime session for a classifier of N x 3 x H x W images in [0, 1]."""

    def __init__(self, model_path: str | Path, classes: tuple[str, ...] = CLASSES) -> None:
        self.session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        shape = inputs[0].shape  # [N, 3, H, W]; N may be a name: a dynamic batch size
        if len(inputs) != 1 or len(shape) != 4 or shape[1] != 3 or shape[2:] != [32, 32]:
            raise ValueError(f"expected one input of shape N x 3 x 32 x 32, got {shape}")
        if outputs[0].shape[-1] != len(classes):
            raise ValueError(f"the model has {outputs[0].shape[-1]} outputs, not {len(classes)}")
        self.input_name, self.size, self.classes = inputs[0].name, shape[2], classes

    def probabilities(self, batch: np.ndarray) -> np.ndarray:
        """Class probabilities, N x classes, for a float32 batch N x 3 x H x W."""
        logits = self.session.run(None, {self.input_name: batch})[0]
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))  # a stable softmax
        return exp / exp.sum(axis=1, keepdims=True)

    def classify(self, data: bytes) -> list[dict]:
        """The bytes of an image or .npy file -> one prediction per image in it."""
        return [
            {
                "class": self.classes[int(p.argmax())],
                "probability": float(p.max()),
                "probabilities": {c: float(v) for c, v in zip(self.classes, p, strict=True)},
            }
            for p in self.probabilities(load_input(data, self.size))
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Classify images with an ONNX model.")
    parser.add_argument("model", type=Path, help="the .onnx file")
    parser.add_argument("inputs", type=Path, nargs="+", help="image or .npy files")
    args = parser.parse_args(argv)
    try:
        predictor = Predictor(args.model)
    except Exception as err:  # noqa: BLE001 - any failure means: this model cannot be used
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"predict.py: cannot use the model {args.model}: {message}", file=sys.stderr)
        return 2
    refused = 0
    for path in args.inputs:
        try:
            if not path.is_file():
                raise InputError("no such file" if not path.exists() else "not a file")
            if path.stat().st_size > MAX_FILE_BYTES:
                raise InputError(f"the file is over the limit of {MAX_FILE_BYTES:,} bytes")
            predictions = predictor.classify(path.read_bytes())
        except (InputError, OSError) as err:
            print(f"predict.py: {path}: {err}", file=sys.stderr)
            refused += 1
            continue
        for i, prediction in enumerate(predictions):
            name = f"{path}[{i}]" if len(predictions) > 1 else str(path)
            print(f"{name}: {prediction['class']} ({prediction['probability']:.1%})")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
