#!/usr/bin/python3
"""Tests of tools/export_safetensors.py (run by CTest as WeightsExport.python).

    /usr/bin/python3 tests/weights/export_safetensors_test.py

Exits 77 (CTest's "skipped") when torch cannot be imported. The layout checks parse the bytes
with struct/json here, independently of the script's own reader.
"""

import io
import json
import pathlib
import struct
import sys
import tempfile
import unittest

try:
    import torch
except ImportError:
    print("skipped: torch is not importable by", sys.executable)
    sys.exit(77)

TOOLS = pathlib.Path(__file__).resolve().parent.parent.parent / "tools"
sys.path.insert(0, str(TOOLS))
import export_safetensors as ex  # noqa: E402


def parse(data):
    """(header dict, data block) of safetensors bytes."""
    (n,) = struct.unpack_from("<Q", data)
    return json.loads(data[8:8 + n]), data[8 + n:], n


class Names(unittest.TestCase):
    def test_strips_dataparallel_prefix(self):
        self.assertEqual(ex.rename_tensors(["module.fc1.weight", "fc2.bias"]),
                         {"module.fc1.weight": "fc1.weight", "fc2.bias": "fc2.bias"})

    def test_keeps_prefix_on_request(self):
        self.assertEqual(ex.rename_tensors(["module.w"], strip_module=False),
                         {"module.w": "module.w"})

    def test_rename_exact_and_dotted_prefix(self):
        mapping = ex.rename_tensors(["module.0.weight", "0.bias", "10.weight", "0"],
                                    {"0": "fc1", "10.weight": "out.w"}, True)
        # "module.0.weight" and "0.bias" match the prefix "0"; "10.weight" does not (no dot).
        self.assertEqual(mapping, {"module.0.weight": "fc1.weight", "0.bias": "fc1.bias",
                                   "10.weight": "out.w", "0": "fc1"})

    def test_unused_rename_is_an_error(self):
        with self.assertRaisesRegex(ex.ExportError, "matching no tensor: fc9"):
            ex.rename_tensors(["fc1.weight"], {"fc9": "x"})

    def test_collision_is_an_error(self):
        with self.assertRaisesRegex(ex.ExportError,
                                    "'fc1.weight' from 'fc1.weight', 'module.fc1.weight'"):
            ex.rename_tensors(["module.fc1.weight", "fc1.weight"])

    def test_rename_syntax(self):
        self.assertEqual(ex.parse_renames(["a=b", "c.d=e"]), {"a": "b", "c.d": "e"})
        for bad in (["a"], ["=b"], ["a="], ["a=b", "a=c"]):
            with self.assertRaises(ex.ExportError):
                ex.parse_renames(bad)


class Layout(unittest.TestCase):
    def setUp(self):
        self.state = {
            "b.half": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float16),
            "a.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3),
            "c.steps": torch.tensor(5, dtype=torch.int64),
            "d.double": torch.tensor([0.1], dtype=torch.float64),
        }

    def test_header_data_and_alignment(self):
        data = ex.state_dict_to_bytes(self.state, keep_dtype=True)
        header, block, n = parse(data)
        self.assertEqual((8 + n) % 8, 0)  # the data block starts 8-aligned
        self.assertEqual(header.pop("__metadata__"), {"format": "pt"})
        self.assertEqual(list(header), sorted(header))  # names sorted
        self.assertEqual({k: v["dtype"] for k, v in header.items()},
                         {"a.weight": "F32", "b.half": "F16", "c.steps": "I64", "d.double": "F64"})
        spans = sorted((v["data_offsets"], k) for k, v in header.items())
        position = 0
        for (begin, end), name in spans:
            self.assertEqual(begin, position)  # back to back, no gap, no overlap
            size = ex.DTYPE_SIZES[header[name]["dtype"]]
            self.assertEqual(begin % size, 0, name)  # aligned to the element size
            position = end
        self.assertEqual(position, len(block))
        begin, end = header["a.weight"]["data_offsets"]
        self.assertEqual(struct.unpack("<6f", block[begin:end]), (0, 1, 2, 3, 4, 5))
        begin, end = header["c.steps"]["data_offsets"]
        self.assertEqual(struct.unpack("<q", block[begin:end]), (5,))

    def test_float32_by_default_integers_kept(self):
        header, block, _ = parse(ex.state_dict_to_bytes(self.state))
        self.assertEqual(header["b.half"]["dtype"], "F32")
        self.assertEqual(header["d.double"]["dtype"], "F32")
        self.assertEqual(header["c.steps"]["dtype"], "I64")
        begin, end = header["d.double"]["data_offsets"]
        self.assertEqual(block[begin:end], struct.pack("<f", 0.1))

    def test_bfloat16_and_bool(self):
        state = {"b": torch.tensor([1.0, -2.5], dtype=torch.bfloat16),
                 "m": torch.tensor([True, False])}
        header, block, _ = parse(ex.state_dict_to_bytes(state, keep_dtype=True))
        begin, end = header["b"]["data_offsets"]
        self.assertEqual(block[begin:end], bytes([0x80, 0x3F, 0x20, 0xC0]))
        begin, end = header["m"]["data_offsets"]
        self.assertEqual((header["m"]["dtype"], block[begin:end]), ("BOOL", b"\x01\x00"))

    def test_non_contiguous_shared_and_empty_tensors(self):
        base = torch.arange(6, dtype=torch.float32).reshape(2, 3)
        state = {"t": base.t(), "tied": base, "empty": torch.zeros(0, 4),
                 "scalar": torch.tensor(2.0)}
        header, block, _ = parse(ex.state_dict_to_bytes(state))
        begin, end = header["t"]["data_offsets"]
        self.assertEqual(header["t"]["shape"], [3, 2])
        self.assertEqual(struct.unpack("<6f", block[begin:end]), (0, 3, 1, 4, 2, 5))  # row-major
        self.assertEqual(header["tied"]["data_offsets"][1] - header["tied"]["data_offsets"][0], 24)
        self.assertEqual(header["empty"]["shape"], [0, 4])
        self.assertEqual(header["empty"]["data_offsets"][0], header["empty"]["data_offsets"][1])
        self.assertEqual(header["scalar"]["shape"], [])

    def test_deterministic(self):
        reordered = dict(reversed(list(self.state.items())))
        self.assertEqual(ex.state_dict_to_bytes(self.state), ex.state_dict_to_bytes(reordered))

    def test_metadata_is_added_to_format(self):
        header, _, _ = parse(ex.state_dict_to_bytes(self.state, metadata={"source": "test"}))
        self.assertEqual(header["__metadata__"], {"format": "pt", "source": "test"})

    def test_requires_grad_parameters(self):
        model = torch.nn.Linear(2, 1)
        with tempfile.TemporaryDirectory() as d:
            data = ex.export_module(model, pathlib.Path(d) / "m.safetensors")
        header, _, _ = parse(data)
        self.assertEqual(sorted(k for k in header if k != "__metadata__"), ["bias", "weight"])


class CommandLine(unittest.TestCase):
    def run_main(self, *args):
        out, err = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = ex.main(list(args))
        finally:
            sys.stdout, sys.stderr = old
        return code, out.getvalue(), err.getvalue()

    def test_torch_save_round_trip_and_check(self):
        model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
        wrapped = torch.nn.DataParallel(model)
        with tempfile.TemporaryDirectory() as d:
            pt, st = pathlib.Path(d) / "m.pt", pathlib.Path(d) / "m.safetensors"
            torch.save({"epoch": 3, "model_state_dict": wrapped.state_dict()}, pt)
            code, out, err = self.run_main(str(pt), "-o", str(st), "--rename", "0=fc1",
                                           "--rename", "2=fc2")
            self.assertEqual((code, err), (0, ""))
            code, out, _ = self.run_main("--check", str(st))
            self.assertEqual(code, 0)
            self.assertEqual(out.splitlines()[1:], [
                "  metadata format = pt",
                "  fc1.bias    F32   [2]",
                "  fc1.weight  F32   [2, 3]",
                "  fc2.bias    F32   [1]",
                "  fc2.weight  F32   [1, 2]",
            ])
            _, tensors = ex.read_safetensors(st)
            weight = torch.frombuffer(bytearray(tensors["fc1.weight"][2]), dtype=torch.float32)
            self.assertTrue(torch.equal(weight.reshape(2, 3), model[0].weight.detach()))

    def test_pickled_module_needs_unsafe_load(self):
        with tempfile.TemporaryDirectory() as d:
            pt, st = pathlib.Path(d) / "m.pt", pathlib.Path(d) / "m.safetensors"
            torch.save(torch.nn.Linear(2, 2), pt)
            code, _, err = self.run_main(str(pt), "-o", str(st))
            self.assertEqual(code, 1)
            self.assertIn("--unsafe-load", err)
            code, _, _ = self.run_main(str(pt), "-o", str(st), "--unsafe-load")
            self.assertEqual(code, 0)

    def test_check_rejects_damaged_files(self):
        with tempfile.TemporaryDirectory() as d:
            path = pathlib.Path(d) / "bad.safetensors"
            good = ex.state_dict_to_bytes({"w": torch.zeros(2)})
            for damaged, message in ((good[:5], "shorter than"), (good + b"\0", "after the last"),
                                     (good[:-1], "bad data_offsets")):
                path.write_bytes(damaged)
                code, _, err = self.run_main("--check", str(path))
                self.assertEqual(code, 1)
                self.assertIn(message, err)


if __name__ == "__main__":
    unittest.main()
