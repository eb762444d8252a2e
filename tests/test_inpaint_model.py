"""An operator's ONNX inpainting model: found by its real input and output names, fed crops
around each hole, and pasted back into the hole only. The models here are tiny ones built
by the test with the same names and types as MI-GAN's pipeline and LaMa's export: they fill
the hole with one known colour, so where it lands shows the crop and paste-back are right."""

import hashlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from orders.providers.base import ProviderError
from orders.providers.local import installed_model
from orders.providers.local.inpaint import remove_painted
from orders.providers.local.model import load_model

FILL = (20, 200, 40)


def migan_like(path) -> None:
    """uint8 image and mask (255 = keep), uint8 result, any size: keeps what the mask keeps
    and paints the rest FILL."""
    fill = helper.make_tensor("fill", TensorProto.FLOAT, [1, 3, 1, 1], [float(c) for c in FILL])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [1 / 255])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    nodes = [
        helper.make_node("Cast", ["image"], ["image_f"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["mask"], ["mask_f"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["mask_f", "scale"], ["keep"]),
        helper.make_node("Sub", ["one", "keep"], ["hole"]),
        helper.make_node("Mul", ["image_f", "keep"], ["kept"]),
        helper.make_node("Mul", ["fill", "hole"], ["painted"]),
        helper.make_node("Add", ["kept", "painted"], ["sum"]),
        helper.make_node("Cast", ["sum"], ["result"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(
        nodes,
        "migan_pipeline_like",
        [
            helper.make_tensor_value_info("image", TensorProto.UINT8, [1, 3, "H", "W"]),
            helper.make_tensor_value_info("mask", TensorProto.UINT8, [1, 1, "H", "W"]),
        ],
        [helper.make_tensor_value_info("result", TensorProto.UINT8, [1, 3, "H", "W"])],
        initializer=[fill, scale, one],
    )
    _save(graph, path)


def lama_like(path) -> None:
    """float image (0–1) and mask (1 = fill) of 512 × 512, float output in 0–255."""
    fill = helper.make_tensor("fill", TensorProto.FLOAT, [1, 3, 1, 1], [c / 255 for c in FILL])
    one = helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])
    full = helper.make_tensor("full", TensorProto.FLOAT, [], [255.0])
    nodes = [
        helper.make_node("Sub", ["one", "mask"], ["keep"]),
        helper.make_node("Mul", ["image", "keep"], ["kept"]),
        helper.make_node("Mul", ["fill", "mask"], ["painted"]),
        helper.make_node("Add", ["kept", "painted"], ["sum"]),
        helper.make_node("Mul", ["sum", "full"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "lama_like",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 512, 512]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, 512, 512]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])],
        initializer=[fill, one, full],
    )
    _save(graph, path)


def _save(graph, path) -> None:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def photo_and_hole(height=1500, width=2400):
    """A photo larger than the model's working size, and a hole off-centre in it."""
    rng = np.random.default_rng(5)
    photo = rng.integers(60, 200, (height, width, 3), dtype=np.uint8)
    hole = np.zeros((height, width), bool)
    hole[900:1300, 300:700] = True
    return photo, hole


@pytest.mark.parametrize("build", [migan_like, lama_like])
def test_the_model_fills_the_hole_and_nothing_else(tmp_path, build):
    path = tmp_path / "model.onnx"
    build(path)
    photo, hole = photo_and_hole()

    out = remove_painted(photo, hole, load_model(str(path)))

    inside = out[920:1280, 320:680].reshape(-1, 3)
    assert np.abs(inside.astype(int) - FILL).max() <= 3  # pasted where the hole is
    ring = np.zeros_like(hole)
    ring[850:1350, 250:750] = True
    assert np.array_equal(out[~ring], photo[~ring])  # the rest of the photo is untouched


def test_a_model_with_other_inputs_is_refused(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixels"], ["result"])],
        "unknown",
        [helper.make_tensor_value_info("pixels", TensorProto.UINT8, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("result", TensorProto.UINT8, [1, 3, 8, 8])],
    )
    _save(graph, tmp_path / "other.onnx")

    with pytest.raises(ProviderError, match="not one this site can run"):
        load_model(str(tmp_path / "other.onnx"))


def test_a_model_whose_checksum_differs_is_refused(tmp_path):
    migan_like(tmp_path / "model.onnx")

    with pytest.raises(ProviderError, match="damaged"):
        load_model(str(tmp_path / "model.onnx"), sha256="0" * 64)
    digest = hashlib.sha256((tmp_path / "model.onnx").read_bytes()).hexdigest()
    assert load_model(str(tmp_path / "model.onnx"), sha256=digest).kind == "migan"


def test_the_engine_uses_the_model_only_when_one_is_installed(tmp_path, settings):
    migan_like(tmp_path / "model.onnx")
    settings.INPAINT_MODEL_PATH = ""
    assert installed_model() is None

    settings.INPAINT_MODEL_PATH = str(tmp_path / "model.onnx")

    assert installed_model().kind == "migan"


def test_a_missing_model_file_fails_the_order_plainly(tmp_path):
    with pytest.raises(ProviderError, match="missing"):
        load_model(str(tmp_path / "nowhere.onnx"))
