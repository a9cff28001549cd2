#!/usr/bin/python3
"""Tests of tools/import_safetensors.py (run by CTest as WeightsImport.python).

    /usr/bin/python3 tests/weights/import_safetensors_test.py [--fixture PATH]

PyTorch → safetensors → PyTorch: the exporter's files read back bit for bit, every dtype. And
C++ → PyTorch: with --fixture (the weights_write_fixture program, which CTest passes), a file
written by nnfuse::save_safetensors reads back with the values spelled out below, loads into an
nn.Linear, and is byte for byte what the exporter writes for the same tensors. Without --fixture
those tests are skipped. Exits 77 (CTest's "skipped") when torch cannot be imported.
"""

import argparse
import io
import pathlib
import struct
import subprocess
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
import import_safetensors as im  # noqa: E402

FIXTURE = None  # set from --fixture


def from_bits(bits, shape):
    """A float32 tensor of these IEEE bit patterns (not through Python floats, which would
    quiet a signalling NaN)."""
    data = bytearray(struct.pack(f"<{len(bits)}I", *bits))
    if not bits:
        return torch.zeros(shape, dtype=torch.float32)
    return torch.frombuffer(data, dtype=torch.float32).reshape(shape)


def bits_of(tensor):
    """The tensor's elements as integers of its element size, so that NaNs compare equal."""
    carrier = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
    if tensor.dtype == torch.bool:
        return tensor.to(torch.uint8)
    return tensor.contiguous().view(carrier[tensor.element_size()])


class TestCase(unittest.TestCase):
    def assert_same(self, got, expected):
        """Same dtype, shape and bits."""
        self.assertEqual(got.dtype, expected.dtype)
        self.assertEqual(list(got.shape), list(expected.shape))
        self.assertTrue(torch.equal(bits_of(got), bits_of(expected)), f"{got} != {expected}")

    def setUp(self):
        self._dir = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self._dir.name)

    def tearDown(self):
        self._dir.cleanup()


class FromExporter(TestCase):
    """PyTorch → export_safetensors → import_safetensors."""

    def state(self):
        nan_payload = from_bits([0x7FC00001, 0xFFC00000], [2])
        return {
            "f32": torch.tensor([[1.5, -0.0, float("inf")], [float("-inf"), 1e-45, 3.4e38]]),
            "f32.nan": nan_payload,
            "f64": torch.tensor([0.1, -1e-300, float("nan")], dtype=torch.float64),
            "f16": torch.tensor([1 / 3, 65504, 6e-8, -0.0], dtype=torch.float16),
            "bf16": torch.tensor([1 / 3, -1.5, 3e38], dtype=torch.bfloat16),
            "i64": torch.tensor(7, dtype=torch.int64),  # a scalar: num_batches_tracked
            "i32": torch.tensor([-2**31, 2**31 - 1], dtype=torch.int32),
            "i16": torch.tensor([-32768, 5], dtype=torch.int16),
            "i8": torch.tensor([-128, 127], dtype=torch.int8),
            "u8": torch.tensor([0, 255], dtype=torch.uint8),
            "mask": torch.tensor([[True, False], [False, True]]),
            "empty": torch.zeros(0, 4),
            "transposed": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(),
        }

    def test_every_dtype_bit_for_bit(self):
        state = self.state()
        path = self.dir / "all.safetensors"
        ex.export_state_dict(state, path, keep_dtype=True, metadata={"epoch": "3"})
        metadata, tensors = im.read(path)
        self.assertEqual(metadata, {"epoch": "3", "format": "pt"})
        self.assertEqual(list(tensors), sorted(state))
        for name, expected in state.items():
            with self.subTest(name):
                self.assert_same(tensors[name], expected)
        self.assertEqual(im.load(path).keys(), tensors.keys())

    def test_float32_export(self):
        state = self.state()
        path = self.dir / "f32.safetensors"
        ex.export_state_dict(state, path)
        tensors = im.load(path)
        for name, expected in state.items():
            with self.subTest(name):
                self.assert_same(tensors[name],
                                 expected.float() if expected.is_floating_point() else expected)

    def test_tensors_own_their_memory(self):
        path = self.dir / "w.safetensors"
        ex.export_state_dict({"w": torch.ones(3)}, path)
        tensors = im.load(path)
        tensors["w"].add_(1)  # writable, and no warning about a read-only buffer
        path.unlink()
        self.assertTrue(torch.equal(tensors["w"], torch.full((3,), 2.0)))

    def test_module_round_trip(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
        model(torch.randn(5, 4))  # BatchNorm's running stats and num_batches_tracked move
        path = self.dir / "m.safetensors"
        ex.export_module(model, path)
        copy = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
        copy.load_state_dict(im.load(path))
        for (name, a), (_, b) in zip(model.state_dict().items(), copy.state_dict().items()):
            with self.subTest(name):
                self.assert_same(b, a)


class Rejects(TestCase):
    def check(self, data, message):
        path = self.dir / "bad.safetensors"
        path.write_bytes(data)
        with self.assertRaises(ex.ExportError) as caught:
            im.load(path)
        self.assertIn(message, str(caught.exception))
        self.assertIn(str(path), str(caught.exception))

    @staticmethod
    def file(header, block=b""):
        text = header.encode("utf-8")
        return struct.pack("<Q", len(text)) + text + block

    def test_damaged_files(self):
        good = ex.state_dict_to_bytes({"w": torch.zeros(2)})
        self.check(good[:5], "shorter than")
        self.check(good + b"\0", "after the last")
        self.check(good[:-1], "bad data_offsets")
        self.check(struct.pack("<Q", 100) + b"{}", "exceeds the file")
        self.check(self.file("[]"), "not a JSON object")
        self.check(self.file('{"w": 1, "w": 2}'), "duplicate keys")
        self.check(self.file("{}".encode("utf-16").decode("latin-1")), "not JSON")
        self.check(self.file('{"__metadata__": {"a": 1}}'), "not an object of strings")
        entry = '"dtype": "F32", "shape": [1], "data_offsets": [0, 4]'
        self.check(self.file('{"w": {%s, "extra": 0}}' % entry, bytes(4)),
                   "exactly dtype, shape and data_offsets")
        self.check(self.file('{"w": {%s}}' % entry.replace("F32", "F7"), bytes(4)),
                   "unknown dtype 'F7'")
        self.check(self.file('{"w": {%s}}' % entry.replace("[1]", "[-1]"), bytes(4)),
                   "bad dimension -1")
        self.check(self.file('{"w": {%s}}' % entry.replace("[1]", "[true]"), bytes(4)),
                   "bad dimension True")
        self.check(self.file('{"w": {%s}}' % entry.replace("[0, 4]", "[0, 4, 4]"), bytes(4)),
                   "bad data_offsets")
        self.check(self.file('{"w": {%s}}' % entry.replace("[1]", "[2]"), bytes(4)),
                   "4 bytes for shape [2] of F32")

    def test_bool_bytes_other_than_0_and_1(self):
        data = self.file('{"m": {"dtype": "BOOL", "shape": [3], "data_offsets": [0, 3]}}',
                         b"\x01\x00\x02")
        self.check(data, "a BOOL byte of 2")

    def test_dtypes_this_torch_lacks(self):
        for tag, size in (("U16", 2), ("U32", 4), ("U64", 8), ("F8_E5M2", 1), ("F8_E4M3", 1)):
            with self.subTest(tag):
                header = '{"t": {"dtype": "%s", "shape": [1], "data_offsets": [0, %d]}}' % (
                    tag, size)
                data = self.file(header, bytes(size))
                if getattr(torch, im.TORCH_DTYPES[tag], None) is None:
                    self.check(data, f"dtype {tag} has no torch dtype")
                else:
                    path = self.dir / "ok.safetensors"
                    path.write_bytes(data)
                    self.assertEqual(im.load(path)["t"].shape, (1,))


class CommandLine(TestCase):
    def run_main(self, *args):
        out, err = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            code = im.main(list(args))
        finally:
            sys.stdout, sys.stderr = old
        return code, out.getvalue(), err.getvalue()

    def test_lists_tensors(self):
        path = self.dir / "m.safetensors"
        ex.export_state_dict({"fc1.weight": torch.zeros(2, 3), "steps": torch.tensor(4),
                              "half": torch.ones(1, dtype=torch.float16)}, path, keep_dtype=True)
        code, out, err = self.run_main(str(path))
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out.splitlines(), [
            f"{path}: 3 tensors",
            "  metadata format = pt",
            "  fc1.weight  F32   [2, 3]",
            "  half        F16   [1]",
            "  steps       I64   []",
        ])
        code, out, _ = self.run_main(str(path), "--values")
        self.assertEqual(code, 0)
        self.assertIn("    tensor(4)", out.splitlines())

    def test_errors_exit_1_after_the_other_files(self):
        good = self.dir / "good.safetensors"
        ex.export_state_dict({"w": torch.zeros(1)}, good)
        missing = self.dir / "missing.safetensors"
        code, out, err = self.run_main(str(missing), str(good))
        self.assertEqual(code, 1)
        self.assertIn("import_safetensors: error:", err)
        self.assertIn(str(missing), err)
        self.assertIn(f"{good}: 1 tensors", out)


# What weights_write_fixture (tests/weights/write_fixture.cpp) writes, spelled out again here.
FIXTURE_TENSORS = {
    # 0.5, -1.25, 2, 0.1f, 0.2f, -0.3f and 0.25, -0.1f: an nn.Linear(3, 2).
    "fc1.weight": ([0x3F000000, 0xBFA00000, 0x40000000, 0x3DCCCCCD, 0x3E4CCCCD, 0xBE99999A],
                   [2, 3]),
    "fc1.bias": ([0x3E800000, 0xBDCCCCCD], [2]),
    # -0, the smallest and largest subnormals, the largest float, -inf, inf, a quiet NaN with a
    # payload, a signalling NaN, a negative NaN, 1/3.
    "special": ([0x80000000, 0x00000001, 0x007FFFFF, 0x7F7FFFFF, 0xFF800000, 0x7F800000,
                 0x7FC00001, 0x7FA00000, 0xFFC00000, 0x3EAAAAAB], [10]),
    "scalar": ([0x42280000], []),  # 42
    "empty": ([], [0, 4]),
}
FIXTURE_METADATA = {"epoch": "3", "format": "pt", "source": "weights_write_fixture"}


class FromCpp(TestCase):
    """nnfuse::save_safetensors → import_safetensors."""

    def setUp(self):
        super().setUp()
        if FIXTURE is None:
            self.skipTest("no --fixture (the weights_write_fixture program)")
        self.path = self.dir / "from_cpp.safetensors"
        subprocess.run([FIXTURE, str(self.path)], check=True)
        self.expected = {name: from_bits(bits, shape)
                         for name, (bits, shape) in FIXTURE_TENSORS.items()}
        # (i - 9) / 8 for i in 0..17, exact in float32.
        self.expected["conv.weight"] = (
            (torch.arange(18, dtype=torch.float32) - 9) / 8).reshape(2, 1, 3, 3)

    def test_values_bit_for_bit(self):
        metadata, tensors = im.read(self.path)
        self.assertEqual(metadata, FIXTURE_METADATA)
        self.assertEqual(list(tensors), sorted(self.expected))
        for name, expected in self.expected.items():
            with self.subTest(name):
                self.assert_same(tensors[name], expected)

    def test_loads_into_a_module(self):
        tensors = im.load(self.path)
        linear = torch.nn.Linear(3, 2)
        linear.load_state_dict({"weight": tensors["fc1.weight"], "bias": tensors["fc1.bias"]})
        self.assert_same(linear.weight.detach(), self.expected["fc1.weight"])
        conv = torch.nn.Conv2d(1, 2, 3, bias=False)
        conv.load_state_dict({"weight": tensors["conv.weight"]})
        self.assert_same(conv.weight.detach(), self.expected["conv.weight"])

    def test_same_bytes_as_the_exporter(self):
        exported = ex.state_dict_to_bytes(
            self.expected, metadata={k: v for k, v in FIXTURE_METADATA.items() if k != "format"})
        self.assertEqual(self.path.read_bytes(), exported)

    def test_data_block_8_aligned(self):
        data = self.path.read_bytes()
        (n,) = struct.unpack_from("<Q", data)
        self.assertEqual((8 + n) % 8, 0)
        self.assertTrue(data[8:8 + n].rstrip(b" ").endswith(b"}"))


def main():
    global FIXTURE
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--fixture", help="the weights_write_fixture program")
    args, rest = parser.parse_known_args()
    FIXTURE = args.fixture
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
