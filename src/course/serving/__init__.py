"""Serving Day 14's network without PyTorch: a prediction script and an HTTP service.

Both files are standalone on purpose: copy ``predict.py`` (and ``service.py`` beside it)
next to an ``.onnx`` file on any machine with ``pip install onnxruntime numpy pillow``;
neither imports PyTorch. (Importing them as ``course.serving.*`` does load PyTorch,
through the ``course`` package; run them as files to leave it out.) Defined in Day 19.
"""
