"""Day 19's deployment files, used as a learner would: predict.py as a script and
service.py as an HTTP service, both run with ``import torch`` blocked.

The model is a tiny ONNX graph built here with ``onnx.helper`` (no export needed, so
these tests take seconds): it averages each colour channel and multiplies by a weight
matrix, so a red image is an "airplane", a green one an "automobile", a blue one a
"bird", and every probability can be computed exactly with NumPy. One test exports a
small convolutional network with ``torch.onnx.export`` to check the input contract
(RGB, [0, 1], N x 3 x 32 x 32) against PyTorch itself. Every subprocess, request and
thread is bounded by a timeout: nothing here can hang.
"""

from __future__ import annotations

import ast
import http.client
import io
import json
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import lesson_copy_difference
from onnx import TensorProto, helper
from PIL import Image

from course.serving import predict, service

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "tutorials" / "day19_inference_export.py"
PREDICT = Path(predict.__file__)
SERVICE = Path(service.__file__)
TIMEOUT = 60  # seconds, for any subprocess
WEIGHT = 8.0  # logit per unit of a channel's mean

NO_TORCH = """\
import atexit, os, runpy, sys


class BlockTorch:
    attempts = 0

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            BlockTorch.attempts += 1
            raise ModuleNotFoundError(f"blocked: import {name}")
        return None


def report():
    print(f"[no_torch] attempts={BlockTorch.attempts} loaded={'torch' in sys.modules}",
          file=sys.stderr, flush=True)


sys.meta_path.insert(0, BlockTorch())
atexit.register(report)
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name="__main__")
"""
NO_TORCH_REPORT = "[no_torch] attempts=0 loaded=False"


# ---------------------------------------------------------------- fixtures and helpers


def colour_model(path: Path) -> Path:
    """An ONNX classifier: logits = WEIGHT * (mean of each channel) for classes 0-2, else 0."""
    weights = np.zeros((3, 10), dtype=np.float32)
    weights[0, 0] = weights[1, 1] = weights[2, 2] = WEIGHT
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["images"], ["means"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["means", "weights"], ["logits"]),
        ],
        "colour",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        [helper.make_tensor("weights", TensorProto.FLOAT, [3, 10], weights.flatten())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def expected_probabilities(rgb: tuple[int, int, int]) -> np.ndarray:
    logits = np.zeros(10)
    logits[:3] = WEIGHT * np.array(rgb) / 255
    exp = np.exp(logits - logits.max())
    return exp / exp.sum()


def solid_png(path: Path, rgb: tuple[int, int, int], size=(32, 32), mode="RGB") -> Path:
    image = Image.new("RGB", size, rgb)
    image.convert(mode).save(path)
    return path


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A tiny valid PNG whose header claims width x height pixels (a decompression bomb)."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Path:
    """A folder as the lesson deploys it: predict.py, service.py, a model, the wrapper."""
    folder = tmp_path_factory.mktemp("deploy")
    shutil.copy(PREDICT, folder / "predict.py")
    shutil.copy(SERVICE, folder / "service.py")
    colour_model(folder / "model.onnx")
    (folder / "no_torch.py").write_text(NO_TORCH)
    return folder


def run_script(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """python no_torch.py predict.py ARGS, in ``folder``."""
    return subprocess.run(
        [sys.executable, "no_torch.py", "predict.py", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def parse(stdout: str) -> dict[str, tuple[str, float]]:
    """'name: class (12.3%)' lines -> {name: (class, probability)}."""
    found = {}
    for line in stdout.splitlines():
        name, answer = line.rsplit(": ", 1)
        label, percent = answer.split(" (")
        found[name] = (label, float(percent.rstrip("%)")) / 100)
    return found


# ---------------------------------------------------------------- the script


def test_the_files_never_import_torch() -> None:
    for path in (PREDICT, SERVICE):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not [n for n in names if n.split(".")[0] == "torch"], path.name


def test_script_classifies_images_with_torch_blocked(deployed: Path) -> None:
    solid_png(deployed / "red.png", (255, 0, 0))
    solid_png(deployed / "green_large.png", (0, 255, 0), size=(3000, 2000))
    solid_png(deployed / "blue_rgba.png", (0, 0, 255), mode="RGBA")
    solid_png(deployed / "grey.png", (128, 128, 128), mode="L")
    solid_png(deployed / "photo.jpg", (250, 10, 10), size=(640, 480))
    names = ["red.png", "green_large.png", "blue_rgba.png", "grey.png", "photo.jpg"]
    result = run_script(deployed, "model.onnx", *names)
    assert result.returncode == 0, result.stderr
    assert NO_TORCH_REPORT in result.stderr
    answers = parse(result.stdout)
    assert list(answers) == names
    expected = {
        "red.png": ("airplane", (255, 0, 0)),
        "green_large.png": ("automobile", (0, 255, 0)),
        "blue_rgba.png": ("bird", (0, 0, 255)),
        "grey.png": ("airplane", (128, 128, 128)),  # a tie of three: argmax takes the first
    }
    for name, (label, rgb) in expected.items():
        assert answers[name][0] == label
        assert answers[name][1] == pytest.approx(expected_probabilities(rgb).max(), abs=6e-4)
    assert answers["photo.jpg"][0] == "airplane"  # JPEG is lossy: the class, not the digits


def test_script_reads_npy_batches(deployed: Path) -> None:
    batch = np.zeros((2, 3, 32, 32), dtype=np.float32)
    batch[0, 1] = 1.0  # green
    batch[1, 2] = 1.0  # blue
    np.save(deployed / "batch.npy", batch)
    np.save(deployed / "single.npy", batch[0])
    result = run_script(deployed, "model.onnx", "batch.npy", "single.npy")
    assert result.returncode == 0, result.stderr
    answers = parse(result.stdout)
    assert answers["batch.npy[0]"][0] == "automobile"
    assert answers["batch.npy[1]"][0] == "bird"
    assert answers["single.npy"][0] == "automobile"


def test_bad_inputs_get_one_clear_line_each_and_exit_status_1(deployed: Path) -> None:
    folder = deployed
    (folder / "notes.txt").write_text("not an image")
    np.save(folder / "channels_last.npy", np.zeros((1, 32, 32, 3), dtype=np.float32))
    np.save(folder / "wrong_size.npy", np.zeros((3, 28, 28), dtype=np.float32))
    np.save(folder / "not_scaled.npy", np.full((3, 32, 32), 200.0, dtype=np.float32))
    np.save(folder / "integers.npy", np.zeros((3, 32, 32), dtype=np.uint8))
    np.save(folder / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    png_claiming(folder / "bomb.png", 100_000, 100_000)
    good = solid_png(folder / "ok.png", (255, 0, 0)).read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    with open(folder / "too_big.png", "wb") as fh:  # sparse: costs no disk
        fh.truncate(predict.MAX_FILE_BYTES + 1)
    (folder / "a_folder").mkdir(exist_ok=True)
    reasons = {
        "missing.png": "no such file",
        "notes.txt": "not an image file",
        "channels_last.npy": "got 1 x 32 x 32 x 3",
        "wrong_size.npy": "got 3 x 28 x 28",
        "not_scaled.npy": "expected values in [0, 1]",
        "integers.npy": "expected floats",
        "pickled.npy": "not a usable .npy array",
        "bomb.png": "100,000 x 100,000 pixels",
        "truncated.png": "cannot be decoded",
        "too_big.png": "over the limit",
        "a_folder": "not a file",
    }
    start = time.perf_counter()
    result = run_script(folder, "model.onnx", *reasons, "ok.png")
    assert time.perf_counter() - start < TIMEOUT / 2
    assert result.returncode == 1
    assert parse(result.stdout) == {"ok.png": ("airplane", pytest.approx(0.997, abs=1e-3))}
    lines = [line for line in result.stderr.splitlines() if not line.startswith("[no_torch]")]
    assert len(lines) == len(reasons), result.stderr
    for line, (name, reason) in zip(lines, reasons.items(), strict=True):
        assert line.startswith(f"predict.py: {name}: ") and reason in line, line
    assert NO_TORCH_REPORT in result.stderr


def test_unusable_model_or_command_line_exits_with_2(deployed: Path) -> None:
    solid_png(deployed / "ok.png", (255, 0, 0))
    for args, message in [
        (["missing.onnx", "ok.png"], "cannot use the model missing.onnx"),
        (["ok.png", "ok.png"], "cannot use the model ok.png"),
        ([], "usage:"),
    ]:
        result = run_script(deployed, *args)
        assert result.returncode == 2, args
        assert message in result.stderr
        assert result.stdout == ""


def test_a_32_pixel_png_becomes_exactly_its_pixels() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    array = predict.load_input(buffer.getvalue())
    assert array.shape == (1, 3, 32, 32) and array.dtype == np.float32
    np.testing.assert_array_equal(array[0], pixels.transpose(2, 0, 1) / np.float32(255))


def test_greyscale_becomes_three_equal_channels() -> None:
    buffer = io.BytesIO()
    Image.new("L", (50, 40), 77).save(buffer, "PNG")
    array = predict.load_input(buffer.getvalue())
    assert array.shape == (1, 3, 32, 32)
    assert np.allclose(array, 77 / 255)


def test_model_with_the_wrong_input_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "wrong",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, 28, 28])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "wrong.onnx")
    with pytest.raises(ValueError, match="expected one input of shape N x 3 x 32 x 32"):
        predict.Predictor(tmp_path / "wrong.onnx")


def test_script_agrees_with_pytorch_on_a_real_export(tmp_path: Path) -> None:
    """torch.onnx.export of a small conv net; the script's probabilities are PyTorch's."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 10),
    ).eval()
    example = torch.rand(2, 3, 32, 32)
    torch.onnx.export(
        net,
        (example,),
        tmp_path / "net.onnx",
        dynamo=True,
        dynamic_shapes=({0: torch.export.Dim("batch")},),
        input_names=["images"],
        output_names=["logits"],
        external_data=False,
        verbose=False,
    )
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    names = []
    for i, pixels in enumerate(images):
        Image.fromarray(pixels).save(tmp_path / f"image{i}.png")
        names.append(f"image{i}.png")
    shutil.copy(PREDICT, tmp_path / "predict.py")
    (tmp_path / "no_torch.py").write_text(NO_TORCH)
    result = run_script(tmp_path, "net.onnx", *names)
    assert result.returncode == 0, result.stderr
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        probabilities = net(x).softmax(1)
    answers = parse(result.stdout)
    for i, name in enumerate(names):
        k = int(probabilities[i].argmax())
        assert answers[name][0] == predict.CLASSES[k]
        assert answers[name][1] == pytest.approx(probabilities[i, k].item(), abs=6e-4)


# ---------------------------------------------------------------- the service


@pytest.fixture
def server(deployed: Path, monkeypatch: pytest.MonkeyPatch):
    """The service on 127.0.0.1, a port the OS picks; stopped and joined afterwards."""
    monkeypatch.setattr(service.PredictionHandler, "timeout", 1)
    srv, thread = service.start_in_background(predict.Predictor(deployed / "model.onnx"))
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive(), "the server thread did not stop"


def request(srv, method: str, path: str, body: bytes | None = None, headers=None):
    """(status, JSON) of one request, with a timeout; 4xx answers are returned too."""
    host, port = srv.server_address[:2]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(
        f"http://{host}:{port}{path}", data=body, method=method, headers=headers or {}
    )
    try:
        with opener.open(req, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        assert error.headers["Content-Type"] == "application/json"
        return error.code, json.load(error)


def test_service_listens_on_loopback_only(server) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert server.server_address[1] > 0


def test_service_predicts_an_image(server, deployed: Path) -> None:
    status, answer = request(server, "GET", "/health")
    assert status == 200 and answer["status"] == "ok" and len(answer["classes"]) == 10
    body = solid_png(deployed / "blue.png", (0, 0, 255)).read_bytes()
    status, answer = request(server, "POST", "/predict", body, {"Content-Type": "image/png"})
    assert status == 200
    (prediction,) = answer["predictions"]
    assert prediction["class"] == "bird"
    assert prediction["probability"] == pytest.approx(
        expected_probabilities((0, 0, 255)).max(), abs=1e-5
    )
    assert sum(prediction["probabilities"].values()) == pytest.approx(1, abs=1e-5)


def test_service_answers_bad_input_with_4xx_json(server) -> None:
    wrong = io.BytesIO()
    np.save(wrong, np.zeros((32, 32, 3), dtype=np.float32))
    assert request(server, "POST", "/predict", b"not an image")[0] == 400
    status, answer = request(server, "POST", "/predict", wrong.getvalue())
    assert status == 400 and "got 32 x 32 x 3" in answer["error"]
    status, answer = request(server, "POST", "/predict", b"")
    assert status == 400 and "error" in answer
    assert request(server, "GET", "/elsewhere")[0] == 404
    assert request(server, "POST", "/elsewhere", b"x")[0] == 404


def raw_request(srv, lines: list[str], body: bytes = b"") -> tuple[int, dict]:
    """Send hand-written request headers (no Content-Length unless given)."""
    host, port = srv.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", "/predict", skip_accept_encoding=True)
    for line in lines:
        key, value = line.split(": ")
        connection.putheader(key, value)
    connection.endheaders(body)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    return response.status, answer


def test_service_refuses_missing_length_and_oversized_bodies_unread(server) -> None:
    status, answer = raw_request(server, [])
    assert status == 411 and "Content-Length" in answer["error"]
    # the length is announced, the body never sent: it must be refused without reading
    status, answer = raw_request(server, [f"Content-Length: {predict.MAX_FILE_BYTES + 1}"])
    assert status == 413 and "over" in answer["error"]


def test_a_stalled_client_is_dropped_and_the_service_goes_on(server, deployed: Path) -> None:
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as stalled:
        stalled.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 1000\r\n\r\nabc")
        start = time.perf_counter()
        assert stalled.recv(1024) == b""  # closed by the server after its timeout
        assert time.perf_counter() - start < 8
    body = solid_png(deployed / "red.png", (255, 0, 0)).read_bytes()
    assert request(server, "POST", "/predict", body)[1]["predictions"][0]["class"] == "airplane"


def test_service_handles_concurrent_requests(server, deployed: Path) -> None:
    body = solid_png(deployed / "green.png", (0, 255, 0)).read_bytes()
    results: list[str] = []

    def ask() -> None:
        results.append(request(server, "POST", "/predict", body)[1]["predictions"][0]["class"])

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == ["automobile"] * 8


def test_service_runs_standalone_without_torch_and_stops_cleanly(deployed: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "no_torch.py", "service.py", "model.onnx", "--port", "0"],
        cwd=deployed,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line: list[str] = []
        reader = threading.Thread(target=lambda: first_line.append(process.stdout.readline()))
        reader.start()
        reader.join(timeout=TIMEOUT)
        assert first_line and first_line[0].startswith("serving model.onnx on http://127.0.0.1:")
        port = int(first_line[0].split("127.0.0.1:")[1].split()[0])
        body = solid_png(deployed / "red.png", (255, 0, 0)).read_bytes()
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        req = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body)
        with opener.open(req, timeout=10) as response:
            assert json.load(response)["predictions"][0]["class"] == "airplane"
        process.terminate()
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, stderr
    assert "stopped" in stdout
    assert NO_TORCH_REPORT in stderr


def test_service_with_an_unusable_model_exits_with_2(deployed: Path) -> None:
    result = subprocess.run(
        [sys.executable, "no_torch.py", "service.py", "missing.onnx", "--port", "0"],
        cwd=deployed,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 2
    assert "cannot use the model missing.onnx" in result.stderr


# ---------------------------------------------------------------- the lesson's copies


@pytest.mark.parametrize("name", ["PredictionHandler", "start_in_background"])
def test_lesson_defines_the_same_code_as_course_serving_service(name: str) -> None:
    """Day 19 teaches these definitions; service.py keeps the copy that runs standalone."""
    difference = lesson_copy_difference(LESSON, getattr(service, name))
    assert difference is None, difference
