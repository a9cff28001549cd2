#!/usr/bin/python3
"""Read a safetensors file into PyTorch tensors (the way back from nnfuse to PyTorch).

Debian has no `safetensors` package, so this reads the format itself, with the validating reader
of export_safetensors.py (its --check): the header is checked as nnfuse's loader checks it, and
the tensors' bytes must tile the data block exactly. It reads what nnfuse::save_safetensors and
export_safetensors.py write, and any other writer's files.

Command line (run with Debian's /usr/bin/python3 and python3-torch):

    import_safetensors.py model.safetensors [more.safetensors ...] [--values]

prints each file's metadata and one line per tensor: name, dtype, shape (--values: the values
too). From Python:

    sys.path.insert(0, "<nnfuse>/tools"); import import_safetensors
    model.load_state_dict(import_safetensors.load("model.safetensors"))

Tensors come back with the file's dtype (F32 → torch.float32, BF16 → torch.bfloat16, I64 →
torch.int64, ...), bit for bit: NaN payloads and signed zeros are kept. Each tensor owns its
memory (nothing stays tied to the file). A dtype this torch lacks (U16, U32, U64 before torch
2.3; F8_E5M2, F8_E4M3 before 2.1) and a BOOL byte other than 0 or 1 are errors.
"""

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import export_safetensors  # noqa: E402  (the format's tables and its validating reader)
from export_safetensors import ExportError  # noqa: E402,F401  (what read and load raise)

# safetensors tag → the torch dtype's name. The bytes are read as little-endian unsigned integers
# of the element's size and reinterpreted, so no value is converted on the way.
TORCH_DTYPES = {
    "BOOL": "bool",
    "U8": "uint8",
    "I8": "int8",
    "I16": "int16",
    "U16": "uint16",
    "F16": "float16",
    "BF16": "bfloat16",
    "I32": "int32",
    "U32": "uint32",
    "F32": "float32",
    "I64": "int64",
    "U64": "uint64",
    "F64": "float64",
    "F8_E5M2": "float8_e5m2",
    "F8_E4M3": "float8_e4m3fn",
}

# Element size → the torch integer dtype that carries its bits (torch has no uint16..uint64
# before 2.3, but a signed integer holds the same bits).
_CARRIERS = {1: "uint8", 2: "int16", 4: "int32", 8: "int64"}


def _tensor(path, name, tag, shape, data):
    import numpy as np  # python3-torch depends on python3-numpy
    import torch

    dtype = getattr(torch, TORCH_DTYPES[tag], None)
    if dtype is None:
        raise ExportError(f"{path}: tensor {name!r}: dtype {tag} has no torch dtype in torch "
                          f"{torch.__version__}")
    size = export_safetensors.DTYPE_SIZES[tag]
    # bytearray: numpy then owns a writable copy, which torch.from_numpy takes without a warning.
    array = np.frombuffer(bytearray(data), dtype=np.dtype(f"<u{size}"))
    if tag == "BOOL" and array.size and array.max() > 1:
        raise ExportError(f"{path}: tensor {name!r}: a BOOL byte of {int(array.max())}, "
                          "expected 0 or 1")
    array = array.astype(array.dtype.newbyteorder("="), copy=False)  # swapped on big-endian hosts
    carrier = torch.from_numpy(array.view(np.dtype(_CARRIERS[size]).newbyteorder("=")))
    return carrier.view(dtype).reshape(shape)


def read(path):
    """(metadata, {name: tensor}) of a safetensors file, names sorted; raises ExportError."""
    metadata, raw = export_safetensors.read_safetensors(path)
    tensors = {name: _tensor(path, name, tag, shape, data)
               for name, (tag, shape, data) in sorted(raw.items())}
    return metadata, tensors


def load(path):
    """{name: tensor} of a safetensors file, names sorted: a state_dict for load_state_dict."""
    return read(path)[1]


def print_file(path, values=False, out=None):
    """Prints a file's metadata and one line per tensor: name, dtype, shape."""
    out = out or sys.stdout
    metadata, tensors = read(path)
    print(f"{path}: {len(tensors)} tensors", file=out)
    for key, value in sorted(metadata.items()):
        print(f"  metadata {key} = {value}", file=out)
    tags = {v: k for k, v in TORCH_DTYPES.items()}
    width = max((len(n) for n in tensors), default=0)
    for name, tensor in tensors.items():
        tag = tags[str(tensor.dtype).removeprefix("torch.")]
        print(f"  {name:<{width}}  {tag:<5} {list(tensor.shape)}", file=out)
        if values:
            print("    " + repr(tensor).replace("\n", "\n    "), file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See tools/README.md for the round trips between PyTorch and nnfuse.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="a safetensors file")
    parser.add_argument("--values", action="store_true", help="print every tensor's values")
    args = parser.parse_args(argv)
    status = 0
    for path in args.files:
        try:
            print_file(path, values=args.values)
        except (ExportError, OSError) as error:
            print(f"import_safetensors: error: {error}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
