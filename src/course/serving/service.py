"""A minimal HTTP prediction service: the standard library and predict.py, no PyTorch.

    python service.py MODEL.onnx [--host 127.0.0.1] [--port 8000]

``POST /predict`` with the bytes of an image file (PNG, JPEG, ...) or of a .npy array as
the request body answers JSON, ``{"predictions": [{"class": ..., "probability": ...,
"probabilities": {...}}]}``, one prediction per image. ``GET /health`` answers
``{"status": "ok", "classes": [...]}``. Bad requests get a 4xx status and
``{"error": "..."}``: 400 for a body that is not a usable image or array (the reasons are
predict.py's), 404 for another path, 411 without a Content-Length, 413 for a body over
``MAX_FILE_BYTES`` (refused before it is read). A client that stalls mid-request is
dropped after ``PredictionHandler.timeout`` seconds, so it cannot hold a thread forever.

For learning and for a trusted network only: ``http.server`` is not hardened for the
internet (no TLS, no authentication, a thread per request). A production service puts
the same prediction code behind a real server. Defined in Day 19.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if __package__:  # imported as course.serving.service
    from .predict import MAX_FILE_BYTES, InputError, Predictor
else:  # run as a file, next to predict.py
    from predict import MAX_FILE_BYTES, InputError, Predictor


class PredictionHandler(BaseHTTPRequestHandler):
    """POST /predict: an image (or .npy) in, JSON predictions out. GET /health.

    Defined in Day 19.
    """

    timeout = 10  # seconds a client may stall mid-request before it is dropped

    def do_GET(self) -> None:
        if self.path != "/health":
            return self.send_json(404, {"error": f"no such path: {self.path}"})
        classes = list(self.server.predictor.classes)
        self.send_json(200, {"status": "ok", "classes": classes})

    def do_POST(self) -> None:
        if self.path != "/predict":
            return self.send_json(404, {"error": f"no such path: {self.path}"})
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            message = "a Content-Length header is required"
            return self.send_json(411, {"error": message})
        if int(length) > MAX_FILE_BYTES:
            message = f"the body is {int(length):,} bytes, over {MAX_FILE_BYTES:,}"
            return self.send_json(413, {"error": message})  # refused unread
        body = self.rfile.read(int(length))
        try:
            predictions = self.server.predictor.classify(body)
        except InputError as err:
            return self.send_json(400, {"error": str(err)})
        self.send_json(200, {"predictions": predictions})

    def send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # no line per request on stderr


def start_in_background(
    predictor: Predictor, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve ``predictor`` on host:port (port 0: a free port the OS picks) from a thread.

    Stop it with ``server.shutdown()``, ``server.server_close()`` and ``thread.join()``.
    Defined in Day 19.
    """
    server = ThreadingHTTPServer((host, port), PredictionHandler)
    server.predictor = predictor
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve an ONNX image classifier over HTTP.")
    parser.add_argument("model", help="the .onnx file")
    parser.add_argument("--host", default="127.0.0.1", help="address (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="0: a free port")
    args = parser.parse_args(argv)
    try:
        predictor = Predictor(args.model)
    except Exception as err:  # noqa: BLE001 - any failure means: this model cannot be used
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"service.py: cannot use the model {args.model}: {message}", file=sys.stderr)
        return 2
    server, thread = start_in_background(predictor, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"serving {args.model} on http://{host}:{port} (Ctrl-C stops)", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly when terminated
    try:
        while thread.is_alive():
            thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
