#!/usr/bin/python3
"""Export a PyTorch state_dict to a safetensors file that nnfuse loads by state_dict name.

Debian has no `safetensors` package, so the format is written here with struct and json:

    8 bytes   little-endian u64 N, the header's length
    N bytes   JSON: {"__metadata__": {"format": "pt"},
                     "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
              padded with spaces so the data block starts at a multiple of 8 bytes
    data      every tensor's bytes, little-endian, row-major, back to back; data_offsets are
              relative to the start of this block and tile it exactly

Tensors are laid out in the data block by decreasing element size, then by name (as the reference
implementation does), so every tensor starts at a multiple of its element size and can be read in
place; the header lists them sorted by name. The output is a function of the tensors alone: the
same state_dict always gives the same bytes.

Command line (run with Debian's /usr/bin/python3 and python3-torch):

    export_safetensors.py model.pt -o model.safetensors [--rename old=new ...] [--keep-dtype]
    export_safetensors.py --check model.safetensors

From Python, for a live module:

    sys.path.insert(0, "<nnfuse>/tools"); import export_safetensors
    export_safetensors.export_module(model, "model.safetensors", renames={"0": "fc1"})

Names: a leading "module." (added by nn.DataParallel / DistributedDataParallel) is stripped, then
each rename OLD=NEW applies to a name equal to OLD or starting with OLD + "." (so `--rename 0=fc1`
turns "0.weight" into "fc1.weight"). A rename that matches nothing, or two tensors ending up with
one name, is an error. Floating-point tensors are converted to float32 unless --keep-dtype;
integer and bool tensors (BatchNorm's num_batches_tracked) keep their dtype.
"""

import argparse
import collections
import json
import pathlib
import struct
import sys

# torch dtype name → safetensors tag. The tag is the format's; the torch names are looked up
# lazily so that --check works without importing torch.
_DTYPE_TAGS = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "int16": "I16",
    "int32": "I32",
    "int64": "I64",
    "float16": "F16",
    "bfloat16": "BF16",
    "float32": "F32",
    "float64": "F64",
}

# Bytes per element of every tag the format defines.
DTYPE_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "F64": 8,
    "I64": 8,
    "U64": 8,
}

# The data block starts at a multiple of this (the reference implementation pads the header so).
DATA_ALIGNMENT = 8
# The largest header a reader accepts (the reference implementation's limit, and nnfuse's).
MAX_HEADER_BYTES = 100 << 20
METADATA_KEY = "__metadata__"
DATAPARALLEL_PREFIX = "module."


class ExportError(Exception):
    """A state_dict, mapping or file that cannot be exported or read as asked."""


def parse_renames(pairs):
    """['old=new', ...] → {'old': 'new'} (argparse's repeated --rename)."""
    renames = {}
    for pair in pairs or []:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise ExportError(f"--rename expects OLD=NEW, got {pair!r}")
        if old in renames:
            raise ExportError(f"--rename {old!r} given twice")
        renames[old] = new
    return renames


def rename_tensors(names, renames=None, strip_module=True):
    """Maps every state_dict name to its exported name; returns {old: new}.

    Strips a leading 'module.' (when strip_module), then applies the first rename OLD=NEW whose
    OLD equals the name or is a dotted prefix of it. Raises ExportError for a rename that matches
    no tensor (a typo would otherwise go unnoticed) and for two tensors mapped to one name.
    """
    renames = dict(renames or {})
    used = set()
    result = {}
    for name in names:
        new = name
        if strip_module and new.startswith(DATAPARALLEL_PREFIX):
            new = new[len(DATAPARALLEL_PREFIX):]
        for old, replacement in renames.items():
            if new == old or new.startswith(old + "."):
                new = replacement + new[len(old):]
                used.add(old)
                break
        result[name] = new
    unused = sorted(set(renames) - used)
    if unused:
        raise ExportError(
            "rename(s) matching no tensor: " + ", ".join(unused) + "; the names are: " +
            ", ".join(sorted(result.values())))
    by_new = collections.defaultdict(list)
    for old, new in result.items():
        by_new[new].append(old)
    clashes = {new: olds for new, olds in by_new.items() if len(olds) > 1}
    if clashes:
        raise ExportError("several tensors would be named alike: " + "; ".join(
            f"{new!r} from {', '.join(map(repr, sorted(olds)))}"
            for new, olds in sorted(clashes.items())))
    if METADATA_KEY in result.values():
        raise ExportError(f"a tensor cannot be named {METADATA_KEY!r}")
    return result


def _tensor_bytes(tensor):
    """(tag, shape, little-endian row-major bytes) of a CPU tensor."""
    import numpy as np  # python3-torch depends on python3-numpy
    import torch

    tensor = tensor.detach().cpu().contiguous()
    dtype_name = str(tensor.dtype).removeprefix("torch.")
    tag = _DTYPE_TAGS.get(dtype_name)
    if tag is None:
        raise ExportError(f"dtype {tensor.dtype} has no safetensors equivalent here")
    shape = list(tensor.shape)
    if tensor.dtype == torch.bfloat16:
        # numpy has no bfloat16: reinterpret the 16-bit patterns.
        array = tensor.view(torch.int16).numpy()
    else:
        array = tensor.numpy()
    array = np.ascontiguousarray(array.reshape(-1))
    if array.dtype.byteorder == ">" or (array.dtype.byteorder == "=" and sys.byteorder == "big"):
        array = array.byteswap()
    return tag, shape, array.tobytes()


def state_dict_to_bytes(state_dict, renames=None, strip_module=True, keep_dtype=False,
                        metadata=None):
    """The safetensors bytes of a state_dict (a mapping of names to tensors)."""
    import torch

    mapping = rename_tensors(list(state_dict), renames, strip_module)
    entries = {}
    for old_name, tensor in state_dict.items():
        if not isinstance(tensor, torch.Tensor):
            raise ExportError(f"{old_name!r} is a {type(tensor).__name__}, not a tensor")
        if tensor.is_floating_point() and not keep_dtype:
            tensor = tensor.to(torch.float32)
        tag, shape, data = _tensor_bytes(tensor)
        entries[mapping[old_name]] = (tag, shape, data)

    # Data order: larger elements first, then by name; every tensor stays aligned to its
    # element size because all sizes are powers of two and the block starts 8-aligned.
    order = sorted(entries, key=lambda n: (-DTYPE_SIZES[entries[n][0]], n))
    offsets = {}
    position = 0
    for name in order:
        size = len(entries[name][2])
        offsets[name] = [position, position + size]
        position += size

    header = {METADATA_KEY: dict(sorted({"format": "pt", **(metadata or {})}.items()))}
    for name in sorted(entries):
        tag, shape, _ = entries[name]
        header[name] = {"dtype": tag, "shape": shape, "data_offsets": offsets[name]}
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-(8 + len(text)) % DATA_ALIGNMENT)
    return struct.pack("<Q", len(text)) + text + b"".join(entries[n][2] for n in order)


def export_state_dict(state_dict, path, **options):
    """Writes state_dict to `path` as safetensors; options as state_dict_to_bytes."""
    data = state_dict_to_bytes(state_dict, **options)
    pathlib.Path(path).write_bytes(data)
    return data


def export_module(module, path, **options):
    """Writes a live nn.Module's state_dict to `path` as safetensors."""
    return export_state_dict(module.state_dict(), path, **options)


def load_state_dict(path, unsafe_load=False):
    """The state_dict stored in a torch.save file.

    Accepts a state_dict, a checkpoint dict holding one under 'state_dict' or
    'model_state_dict' (or 'model'), or with unsafe_load a whole pickled nn.Module. By default
    torch.load runs with weights_only=True: a .pt file is a pickle, and unpickling an untrusted
    one can run arbitrary code.
    """
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=not unsafe_load)
    except Exception as error:  # torch raises UnpicklingError, RuntimeError, ... by case
        hint = "" if unsafe_load else (
            " (if it holds a whole pickled model rather than a state_dict, and you trust it, "
            "pass --unsafe-load)")
        raise ExportError(f"cannot load {path}: {error}{hint}") from error
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict):
        if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
            return obj
        for key in ("state_dict", "model_state_dict", "model"):
            inner = obj.get(key)
            if isinstance(inner, torch.nn.Module):
                return inner.state_dict()
            if isinstance(inner, dict) and inner and all(
                    isinstance(v, torch.Tensor) for v in inner.values()):
                return inner
    raise ExportError(f"{path} holds no state_dict (found a {type(obj).__name__})")


def read_safetensors(path):
    """(metadata, {name: (dtype, shape, bytes)}) of a safetensors file, checking its layout.

    Checks what nnfuse's loader checks: a UTF-8 JSON header of bounded size without duplicate
    keys, string metadata, entries of exactly {dtype, shape, data_offsets} with a known dtype,
    non-negative integer dimensions and byte ranges that tile the data block exactly.
    """
    data = pathlib.Path(path).read_bytes()
    if len(data) < 8:
        raise ExportError(f"{path}: {len(data)} bytes, shorter than the 8-byte header length")
    (header_size,) = struct.unpack_from("<Q", data)
    if header_size > len(data) - 8:
        raise ExportError(f"{path}: header length {header_size} exceeds the file")
    if header_size > MAX_HEADER_BYTES:
        raise ExportError(f"{path}: header length {header_size} above the limit, "
                          f"{MAX_HEADER_BYTES}")

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ExportError(f"{path}: duplicate keys {duplicates}")
        return dict(pairs)

    try:
        # Decoded first: json.loads would also take UTF-16 or UTF-32 bytes, which no other reader
        # accepts.
        text = data[8:8 + header_size].decode("utf-8")
        header = json.loads(text, object_pairs_hook=no_duplicates)
    except ValueError as error:  # UnicodeDecodeError and JSONDecodeError alike
        raise ExportError(f"{path}: the header is not JSON: {error}") from error
    if not isinstance(header, dict):
        raise ExportError(f"{path}: the header is not a JSON object")
    block = data[8 + header_size:]
    metadata = header.pop(METADATA_KEY, {})
    if not isinstance(metadata, dict) or not all(
            isinstance(v, str) for v in metadata.values()):
        raise ExportError(f"{path}: {METADATA_KEY!r} is not an object of strings")
    tensors = {}
    spans = []
    for name, entry in sorted(header.items()):
        try:
            if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
                raise ValueError("expected an object of exactly dtype, shape and data_offsets, "
                                 f"found {entry!r}"[:200])
            dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
            if dtype not in DTYPE_SIZES:
                raise ValueError(f"unknown dtype {dtype!r}")
            if not isinstance(shape, list):
                raise ValueError(f"bad shape {shape!r}")
            if not isinstance(offsets, list) or len(offsets) != 2:
                raise ValueError(f"bad data_offsets {offsets!r}")
            begin, end = offsets
            count = 1
            for dim in shape:
                if type(dim) is not int or dim < 0:  # noqa: E721 (bool is an int subclass)
                    raise ValueError(f"bad dimension {dim!r}")
                count *= dim
            if not (type(begin) is int and type(end) is int  # noqa: E721
                    and 0 <= begin <= end <= len(block)):
                raise ValueError(f"bad data_offsets {[begin, end]}")
            if count * DTYPE_SIZES[dtype] != end - begin:
                raise ValueError(f"{end - begin} bytes for shape {shape} of {dtype}")
        except (KeyError, TypeError, ValueError) as error:
            raise ExportError(f"{path}: tensor {name!r}: {error!r}") from error
        tensors[name] = (dtype, shape, block[begin:end])
        spans.append((begin, end, name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            raise ExportError(f"{path}: tensor {name!r} starts at {begin}, expected {position}")
        position = end
    if position != len(block):
        raise ExportError(f"{path}: {len(block) - position} bytes after the last tensor")
    return metadata, tensors


def print_check(path, out=None):
    """Prints a file's metadata and one line per tensor: name, dtype, shape."""
    out = out or sys.stdout
    metadata, tensors = read_safetensors(path)
    print(f"{path}: {len(tensors)} tensors", file=out)
    for key, value in sorted(metadata.items()):
        print(f"  metadata {key} = {value}", file=out)
    width = max((len(n) for n in tensors), default=0)
    for name, (dtype, shape, _) in tensors.items():
        print(f"  {name:<{width}}  {dtype:<5} {shape}", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See tools/README.md for the round trip PyTorch → safetensors → nnfuse.")
    parser.add_argument("input", nargs="?", help="a torch.save file holding a state_dict")
    parser.add_argument("-o", "--output", help="the safetensors file to write")
    parser.add_argument("--rename", action="append", metavar="OLD=NEW",
                        help="rename a tensor, or every tensor under a dotted prefix (repeatable)")
    parser.add_argument("--keep-dtype", action="store_true",
                        help="keep float16/bfloat16/float64 tensors as they are (default: float32)")
    parser.add_argument("--keep-module-prefix", action="store_true",
                        help="do not strip a leading 'module.' (nn.DataParallel) from names")
    parser.add_argument("--unsafe-load", action="store_true",
                        help="allow a pickled nn.Module in the input (runs its pickle code)")
    parser.add_argument("--check", metavar="FILE",
                        help="read FILE back and print its names, dtypes and shapes")
    args = parser.parse_args(argv)
    try:
        if args.check:
            if args.input or args.output:
                parser.error("--check takes no input or output")
            print_check(args.check)
            return 0
        if not args.input or not args.output:
            parser.error("an input .pt file and -o OUTPUT are required (or --check FILE)")
        state_dict = load_state_dict(args.input, unsafe_load=args.unsafe_load)
        export_state_dict(state_dict, args.output, renames=parse_renames(args.rename),
                          strip_module=not args.keep_module_prefix, keep_dtype=args.keep_dtype)
        print_check(args.output)
    except ExportError as error:
        print(f"export_safetensors: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
