"""Files made by the Python tools themselves, for the file-kind detector's tests (issue 17).

Run once with PyTorch and safetensors installed (any venv: `pip install torch safetensors`):

    python scripts/make_format_fixtures.py crates/testkit/data/formats

It writes:
- esm2_tiny_hdr80.safetensors: the tiny ESM-2 fixture's tensors written by Python
  `safetensors.torch.save_file`, with `__metadata__` sized so that the header length's low
  byte is 0x80 (the file starts `80 xx 00 00 00 00 00 00 7b`).
- classifier_500_tiny_legacy.pth: the demo classifier (a whole pickled MLPClassifier)
  re-saved by `torch.save(..., _use_new_zipfile_serialization=False)`, the pre-1.6 format.
- state_dict_legacy.bin: a small state dict in that legacy format.
- output_1_ESM_legacy.pt: an ESM feature file of the Python tools' layout in that format.
"""
import struct
import sys
from pathlib import Path

import safetensors
import torch
from safetensors.torch import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "fixtures" / "models"


class MLPClassifier(torch.nn.Module):
    """The original tool's classifier (reference §7), for unpickling the demo model."""

    def __init__(self, input_dim, hidden_dim, num_class):
        super().__init__()
        self.hidden_layer = torch.nn.Linear(input_dim, hidden_dim)
        self.bn1 = torch.nn.BatchNorm1d(hidden_dim)
        self.relu = torch.nn.ReLU()
        self.dropout = torch.nn.Dropout(0.5)
        self.output_layer = torch.nn.Linear(hidden_dim, num_class)


def header_len(path):
    with open(path, "rb") as f:
        return struct.unpack("<Q", f.read(8))[0]


def safetensors_with_low_byte(out, low=0x80):
    tensors = load_file(SHARED / "esm2_tiny_hf" / "model.safetensors")
    for pad in range(0, 512):
        save_file(tensors, out, metadata={"format": "pt", "pad": "x" * pad})
        if header_len(out) % 256 == low:
            return
    raise SystemExit("no padding gave the wanted header length")


def legacy(obj, out):
    torch.save(obj, out, _use_new_zipfile_serialization=False)


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    st = out / "esm2_tiny_hdr80.safetensors"
    safetensors_with_low_byte(st)
    print(f"{st}: header {header_len(st)} bytes ({header_len(st):#x}), safetensors {safetensors.__version__}")

    sys.modules["__main__"].MLPClassifier = MLPClassifier
    model = torch.load(ROOT / "demo" / "models" / "classifier_500_tiny.pth", weights_only=False, map_location="cpu")
    legacy(model, out / "classifier_500_tiny_legacy.pth")
    legacy({"weight": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, out / "state_dict_legacy.bin")
    esm = {"proteins": ["read_1_1F"], "data": [torch.linspace(-1, 1, 8)]}
    legacy(esm, out / "output_1_ESM_legacy.pt")
    for path in sorted(out.iterdir()):
        print(f"{path.name}: {path.stat().st_size} bytes, starts {path.read_bytes()[:9].hex(' ')}")
    print(f"torch {torch.__version__}")


if __name__ == "__main__":
    main(sys.argv[1])
