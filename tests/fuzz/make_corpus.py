#!/usr/bin/env python3
"""Writes the seed corpus of the safetensors fuzzer (tests/fuzz/corpus): valid files and one
file per kind of damage the loader must report (issue 6, item 1). Plain Python, no numpy or
torch: the bytes are written by hand, as tests/weights/safetensors_builder.hpp does.

    tests/fuzz/make_corpus.py            rewrite the generated seeds in tests/fuzz/corpus
    tests/fuzz/make_corpus.py --check    exit 1 if a generated seed differs or is missing

Seeds named regression-* are crash inputs the fuzzer found (minimized); this script keeps them.
"""
import argparse
import json
import pathlib
import struct
import sys

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def file_bytes(header, data=b"", length=None):
    """The 8-byte little-endian length (the header's unless overridden), header, data."""
    if isinstance(header, str):
        header = header.encode()
    return struct.pack("<Q", len(header) if length is None else length) + header + data


def valid(tensors, metadata=None, align=True):
    """A valid file: tensors (name, dtype, shape, data) back to back in the order given."""
    parts = []
    if metadata is not None:
        parts.append('"__metadata__":' + json.dumps(metadata, separators=(",", ":")))
    data = b""
    for name, dtype, shape, payload in tensors:
        parts.append(
            json.dumps(name)
            + ':{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}'
            % (dtype, json.dumps(shape, separators=(",", ":")), len(data), len(data) + len(payload))
        )
        data += payload
    header = "{" + ",".join(parts) + "}"
    if align:
        header += " " * (-(8 + len(header)) % 8)
    return file_bytes(header, data)


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def f64(*values):
    return struct.pack("<%dd" % len(values), *values)


def u16(*values):
    return struct.pack("<%dH" % len(values), *values)


def entry(dtype="F32", shape="[1]", offsets="[0,4]"):
    return '{"dtype":"%s","shape":%s,"data_offsets":%s}' % (dtype, shape, offsets)


def seeds():
    inf, nan = float("inf"), float("nan")
    tiny = valid(
        [
            ("fc1.bias", "F32", [2], f32(0.25, -0.1)),
            ("fc1.weight", "F32", [2, 3], f32(0.5, -1.25, 2.0, 0.1, 0.2, -0.3)),
        ],
        metadata={"format": "pt"},
    )
    every_dtype = [
        ("bool", "BOOL", [2], b"\x00\x01"),
        ("u8", "U8", [2], b"\x00\xff"),
        ("i8", "I8", [2], b"\x80\x7f"),
        ("f8_e5m2", "F8_E5M2", [2], b"\x3c\x7c"),
        ("f8_e4m3", "F8_E4M3", [2], b"\x38\x7f"),
        ("i16", "I16", [1], u16(0x8000)),
        ("u16", "U16", [1], u16(0xFFFF)),
        ("f16", "F16", [4], u16(0x3C00, 0x0001, 0x7C00, 0x7E01)),
        ("bf16", "BF16", [3], u16(0x3F80, 0xFF80, 0x7FC1)),
        ("i32", "I32", [1], struct.pack("<i", -1)),
        ("u32", "U32", [1], struct.pack("<I", 0xFFFFFFFF)),
        ("f32", "F32", [2, 1], f32(1.0, -0.0)),
        ("f64", "F64", [3], f64(1e-300, -2.5, 3.4028235677973366e38)),
        ("i64", "I64", [], struct.pack("<q", 7)),
        ("u64", "U64", [1], struct.pack("<Q", 2**64 - 1)),
    ]
    ok = entry()  # a well-formed entry for a 4-byte data block
    four = b"\x00\x00\x80\x3f"
    out = {
        # Valid files.
        "valid-empty-header": file_bytes("{}"),
        "valid-empty-header-padded": file_bytes("{}      "),
        "valid-metadata-only": valid([], metadata={"format": "pt", "note": "caf\u00e9 \\ \""}),
        "valid-tiny": tiny,
        "valid-every-dtype": valid(every_dtype),
        "valid-unaligned-data": valid([("w", "F32", [3], f32(1.0, 2.0, 3.0))], align=False),
        "valid-scalar-and-empty": valid(
            [("s", "F32", [], f32(4.0)), ("e", "F64", [0, 5], b""), ("z", "U8", [0], b"")]
        ),
        "valid-huge-dims-with-zero": valid(
            [("z", "F32", [0, 9223372036854775807, 9223372036854775807], b"")]
        ),
        "valid-order-differs": file_bytes(
            '{"b":%s,"a":%s}' % (entry(offsets="[0,4]"), entry(offsets="[4,8]")), four * 2
        ),
        "valid-escaped-names": valid(
            [("a\x00b", "F32", [1], four), ("\u00e9\U0001F600", "BF16", [1], u16(0x3F80))]
        ),
        "valid-utf8-name": file_bytes('{"\u00e9\U0001F600":%s}' % entry(), four),
        "valid-empty-name": valid([("", "F32", [1], four)]),
        "valid-bias-in-i64-buffer": valid(
            [
                ("bn.num_batches_tracked", "I64", [], struct.pack("<q", 3)),
                ("bn.weight", "F16", [2], u16(0x3C00, 0x4000)),
            ]
        ),
        "valid-rank-64": valid([("r", "U8", [1] * 64, b"\x01")]),
        # Values load_float32 rejects (non-finite with check_finite; F64 beyond float32).
        "values-f32-nan-inf": valid([("w", "F32", [3], f32(1.0, nan, -inf))]),
        "values-f16-inf": valid([("w", "F16", [2], u16(0x3C00, 0xFC00))]),
        "values-f64-out-of-range": valid([("w", "F64", [2], f64(1.0, 1e39))]),
        "values-f64-nan": valid([("w", "F64", [1], struct.pack("<Q", 0x7FF0000000000001))]),
        # The file is shorter than the 8-byte length field.
        "short-empty": b"",
        "short-5-bytes": b"\x02\x00\x00\x00\x00",
        # The header length field.
        "length-beyond-file": file_bytes("{}", length=3),
        "length-max": file_bytes("{}", length=2**64 - 1),
        "length-above-cap": file_bytes("{}", length=(100 << 20) + 1),
        "length-zero": file_bytes("", b"{}"),
        # Not JSON.
        "json-garbage": file_bytes("not json"),
        "json-truncated": file_bytes('{"w":' + ok[:-3]),
        "json-trailing": file_bytes("{} {}"),
        "json-nul-byte": file_bytes(b"{}\x00junk"),
        "json-invalid-utf8": file_bytes(b'{"\xff":' + ok.encode() + b"}", four),
        "json-lone-surrogate": file_bytes('{"\\ud800":%s}' % ok, four),
        "valid-utf8-bom": file_bytes(b"\xef\xbb\xbf{}"),
        # Valid JSON, not the safetensors schema.
        "schema-top-array": file_bytes("[]"),
        "schema-top-string": file_bytes('"x"'),
        "schema-entry-number": file_bytes('{"w":1}'),
        "schema-entry-array": file_bytes('{"w":[1]}'),
        "schema-extra-key": file_bytes(
            '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":0}}', four
        ),
        "schema-missing-dtype": file_bytes('{"w":{"shape":[1],"data_offsets":[0,4]}}', four),
        "schema-missing-shape": file_bytes('{"w":{"dtype":"F32","data_offsets":[0,4]}}', four),
        "schema-missing-offsets": file_bytes('{"w":{"dtype":"F32","shape":[1]}}', four),
        "schema-shape-not-array": file_bytes('{"w":%s}' % entry(shape="1"), four),
        "schema-shape-negative": file_bytes('{"w":%s}' % entry(shape="[-1]"), four),
        "schema-shape-fraction": file_bytes('{"w":%s}' % entry(shape="[1.5]"), four),
        "schema-shape-exponent": file_bytes('{"w":%s}' % entry(shape="[1e0]"), four),
        "valid-shape-minus-zero": file_bytes('{"w":%s}' % entry(shape="[-0]", offsets="[0,0]")),
        "schema-shape-string": file_bytes('{"w":%s}' % entry(shape='["1"]'), four),
        "schema-shape-nested": file_bytes('{"w":%s}' % entry(shape="[[1]]"), four),
        "schema-shape-rank-65": file_bytes(
            '{"w":%s}' % entry("U8", "[" + ",".join(["1"] * 65) + "]", "[0,1]"), b"\x01"
        ),
        "schema-offsets-one": file_bytes('{"w":%s}' % entry(offsets="[0]"), four),
        "schema-offsets-three": file_bytes('{"w":%s}' % entry(offsets="[0,4,4]"), four),
        "schema-offsets-negative": file_bytes('{"w":%s}' % entry(offsets="[-4,0]"), four),
        "schema-offsets-null": file_bytes('{"w":%s}' % entry(offsets="null"), four),
        "schema-offsets-beyond-u64": file_bytes(
            '{"w":%s}' % entry(offsets="[0,18446744073709551616]"), four
        ),
        "schema-metadata-not-object": file_bytes('{"__metadata__":[]}'),
        "schema-metadata-number-value": file_bytes('{"__metadata__":{"format":1}}'),
        "schema-metadata-nested": file_bytes('{"__metadata__":{"format":{}}}'),
        "schema-too-deep": file_bytes('{"w":{"dtype":"F32","shape":[{"a":[]}]}}'),
        # Unknown dtype tags.
        "dtype-unknown": file_bytes('{"w":%s}' % entry(dtype="F128"), four),
        "dtype-lower-case": file_bytes('{"w":%s}' % entry(dtype="f32"), four),
        "dtype-not-string": file_bytes('{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', four),
        # data_offsets that do not tile the data block.
        "offsets-reversed": file_bytes('{"w":%s}' % entry(offsets="[4,0]"), four),
        "offsets-overlapping": file_bytes(
            '{"a":%s,"b":%s}' % (entry(offsets="[0,4]"), entry(offsets="[2,6]")), four * 2
        ),
        "offsets-same-range": file_bytes(
            '{"a":%s,"b":%s}' % (entry(offsets="[0,4]"), entry(offsets="[0,4]")), four
        ),
        "offsets-beyond-data": file_bytes('{"w":%s}' % entry(offsets="[4,8]"), four),
        "offsets-huge": file_bytes(
            '{"w":%s}' % entry(offsets="[18446744073709551612,18446744073709551615]"), four
        ),
        "offsets-gap-at-start": file_bytes('{"w":%s}' % entry(offsets="[4,8]"), four * 2),
        "offsets-gap-between": file_bytes(
            '{"a":%s,"b":%s}' % (entry(offsets="[0,4]"), entry(offsets="[8,12]")), four * 3
        ),
        "offsets-bytes-left-over": file_bytes('{"w":%s}' % entry(), four + b"\x00"),
        "offsets-data-without-tensors": file_bytes("{}", four),
        # shape x dtype size differs from the byte range.
        "size-too-few-bytes": file_bytes('{"w":%s}' % entry(shape="[2]"), four),
        "size-too-many-bytes": file_bytes('{"w":%s}' % entry("F16", "[1]", "[0,4]"), four),
        "size-zero-elements-with-bytes": file_bytes('{"w":%s}' % entry(shape="[0]"), four),
        # Element counts and byte sizes that overflow 64 bits.
        "overflow-element-count": file_bytes(
            '{"w":%s}' % entry(shape="[4294967296,4294967296]", offsets="[0,0]")
        ),
        "overflow-byte-size": file_bytes(
            '{"w":%s}' % entry(shape="[4611686018427387904]", offsets="[0,0]")
        ),
        "overflow-dim-beyond-int64": file_bytes(
            '{"w":%s}' % entry(shape="[9223372036854775808]", offsets="[0,0]")
        ),
        "overflow-wraps-to-size": file_bytes(
            '{"w":%s}' % entry("U8", "[4294967297,4294967295]", "[0,4]"), four
        ),
        # Duplicate names and keys.
        "dup-tensor": file_bytes('{"w":%s,"w":%s}' % (ok, entry(offsets="[4,8]")), four * 2),
        "dup-metadata": file_bytes('{"__metadata__":{},"__metadata__":{}}'),
        "dup-metadata-key": file_bytes('{"__metadata__":{"a":"1","a":"2"}}'),
        "dup-entry-key": file_bytes(
            '{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', four
        ),
        "dup-escaped-name": file_bytes(
            '{"w":%s,"\\u0077":%s}' % (ok, entry(offsets="[4,8]")), four * 2
        ),
    }
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    wanted = seeds()
    stale = []
    for name, content in sorted(wanted.items()):
        path = CORPUS / name
        if args.check:
            if not path.is_file() or path.read_bytes() != content:
                stale.append(name)
        else:
            CORPUS.mkdir(exist_ok=True)
            path.write_bytes(content)
    generated = set(wanted)
    for path in sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []:
        if path.name not in generated and not path.name.startswith("regression-"):
            if args.check:
                stale.append(path.name)
            else:
                path.unlink()
    if stale:
        print("stale seeds (rerun tests/fuzz/make_corpus.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    if not args.check:
        print("wrote %d seeds to %s" % (len(wanted), CORPUS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
