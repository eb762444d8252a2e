"""An inpainting model the operator installed (ONNX, run on the CPU by onnxruntime).

Two published exports are understood, told apart by their inputs and outputs:

- MI-GAN's pipeline (`migan_pipeline_v2.onnx`, MIT): inputs `image` uint8 [1, 3, H, W] and
  `mask` uint8 [1, 1, H, W] with 255 = keep and 0 = fill, output `result` uint8 [1, 3, H, W];
  any size (it crops around the hole itself).
- LaMa (`lama_fp32.onnx`, Apache-2.0): inputs `image` float32 [1, 3, 512, 512] in 0–1 and
  `mask` float32 [1, 1, 512, 512] with 1 = fill, output `output` float32 [1, 3, 512, 512]
  (0–255 in the published export; 0–1 is accepted too).

The engine hands the model a crop around each hole (the hole's box and as much again around
it), at most `WORK_SIZE` px, and pastes back only the hole, feathered. Nothing is downloaded:
the file is where `INPAINT_MODEL_PATH` says, and its sha256 is checked when
`INPAINT_MODEL_SHA256` is set.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime

from ..base import ProviderError

WORK_SIZE = 1024
LAMA_SIZE = 512


@dataclass(frozen=True)
class InpaintModel:
    session: onnxruntime.InferenceSession
    kind: str  # "migan" or "lama"

    def fill(self, crop: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """The crop with its hole (bool, same height and width) filled by the model."""
        height, width = hole.shape
        if self.kind == "lama":
            size = (LAMA_SIZE, LAMA_SIZE)
        else:
            scale = min(1.0, WORK_SIZE / max(height, width))
            size = (max(8, round(width * scale)), max(8, round(height * scale)))
        image = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        mask = cv2.resize(hole.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))  # resampled edges stay out
        if self.kind == "lama":
            feed = {
                "image": (image.transpose(2, 0, 1)[None] / 255).astype(np.float32),
                "mask": mask[None, None].astype(np.float32),
            }
            (out,) = self.session.run(["output"], feed)
            out = out[0].transpose(1, 2, 0)
            if out.max() <= 1.5:
                out = out * 255
        else:
            feed = {
                "image": np.ascontiguousarray(image.transpose(2, 0, 1)[None]),
                "mask": ((1 - mask) * 255)[None, None].astype(np.uint8),
            }
            (out,) = self.session.run(["result"], feed)
            out = out[0].transpose(1, 2, 0)
        out = np.clip(out, 0, 255).astype(np.uint8)
        return cv2.resize(out, (width, height), interpolation=cv2.INTER_CUBIC)


def load_model(path: str, sha256: str = "") -> InpaintModel:
    """The model at `path`, checked; ProviderError (permanent) when it is not one we know."""
    file = Path(path)
    if not file.is_file():
        raise ProviderError(
            "The inpainting model is missing; ask the site's operator.",
            permanent=True,
            detail=f"INPAINT_MODEL_PATH={path} is not a file",
        )
    if sha256:
        digest = hashlib.sha256()
        with file.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != sha256.lower():
            raise ProviderError(
                "The inpainting model is damaged; ask the site's operator.",
                permanent=True,
                detail=f"sha256 of {path} is {digest.hexdigest()}, expected {sha256}",
            )
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2  # these machines' cores; the web server keeps its share
    session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
    inputs = {i.name: i.type for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    if set(inputs) == {"image", "mask"} and "result" in outputs and "uint8" in inputs["image"]:
        return InpaintModel(session, "migan")
    if set(inputs) == {"image", "mask"} and "output" in outputs and "float" in inputs["image"]:
        return InpaintModel(session, "lama")
    raise ProviderError(
        "The installed inpainting model is not one this site can run; ask its operator.",
        permanent=True,
        detail=f"inputs {inputs}, outputs {sorted(outputs)}: expected MI-GAN's pipeline or LaMa",
    )
