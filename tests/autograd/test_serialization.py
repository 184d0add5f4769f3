"""tc.load on hostile files: every malformed header, dtype, offset or structure is one
CheckpointError line naming the file; nothing is ever unpickled."""

import io
import json
import pickle
import struct

import numpy
import pytest

import trainctl as tc
from trainctl.autograd.serialization import MAX_NESTING, to_bytes
from trainctl.core.errors import CheckpointError, UnsupportedFeatureError


def safetensors(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def with_structure(structure, tensors=None) -> bytes:
    """A trainctl file whose structure metadata is ``structure`` (any JSON), with ``tensors``."""
    header, body = {}, b""
    for name, array in (tensors or {}).items():
        data = array.tobytes()
        header[name] = {"dtype": {"float32": "F32", "int64": "I64"}[array.dtype.name],
                        "shape": list(array.shape), "data_offsets": [len(body), len(body) +
                                                                     len(data)]}
        body += data
    header["__metadata__"] = {"format": "trainctl", "format_version": "1",
                              "structure": json.dumps(structure)}
    return safetensors(header, body)


def refused(data: bytes, match: str | None, tmp_path=None) -> str:
    path = tmp_path / "x.safetensors" if tmp_path else None
    if path is not None:
        path.write_bytes(data)
    with pytest.raises(CheckpointError, match=match) as info:
        tc.load(path if path is not None else io.BytesIO(data))
    message = str(info.value)
    assert "\n" not in message
    if path is not None:
        assert message.startswith(str(path))
    return message


def test_roundtrip_of_a_file_object():
    buffer = io.BytesIO()
    tc.save({"w": tc.ones(2), "n": (1, 2.5, None)}, buffer)
    back = tc.load(io.BytesIO(buffer.getvalue()))
    assert back["n"] == (1, 2.5, None) and back["w"].tolist() == [1.0, 1.0]


F32 = numpy.zeros(2, dtype=numpy.float32).tobytes()


@pytest.mark.parametrize("data,match", [
    (b"", r"truncated or empty \(0 bytes\)"),
    (b"\x01\x02", r"truncated or empty \(2 bytes\)"),
    (struct.pack("<Q", 2**64 - 1) + b"{}", r"truncated \(the header says 18446744073709551615"),
    (struct.pack("<Q", 100) + b'{"a": 1}', r"truncated \(the header says 100 bytes"),
    (struct.pack("<Q", 4) + b"abcd", r"not a safetensors file"),
    (struct.pack("<Q", 4) + b"{\xff\xfe}", r"not a valid safetensors file \(header: "),
    (struct.pack("<Q", 4) + b"{abc", r"not a valid safetensors file \(header: "),
    (safetensors([1, 2]), r"x.safetensors: not a safetensors file"),
    (safetensors({"a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, F32[:4]),
     r"tensor 'a' has dtype BF16, which trainctl cannot load"),
    (safetensors({"a": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"ab"),
     r"tensor 'a' has dtype F8_E4M3"),
    (safetensors({"a": {"dtype": "U16", "shape": [1], "data_offsets": [0, 2]}}, b"ab"),
     r"tensor 'a' has dtype uint16, which trainctl tensors do not support"),
    (safetensors({"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, F32),
     r"tensor 'a' has dtype complex64"),
    (safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}, F32),
     r"not a valid safetensors file \("),
    (safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                  "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, F32),
     r"not a valid safetensors file \("),
    (safetensors({"a": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, F32),
     r"not a valid safetensors file \("),
    (safetensors({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, F32),
     r"not a valid safetensors file \("),
    (safetensors({"a": {"dtype": 7, "shape": "x", "data_offsets": None}}, F32),
     r"not a valid safetensors file \("),
    (safetensors({"__metadata__": {"structure": 1}}), r"not a valid safetensors file \("),
    (pickle.dumps({"a": 1}), r"pickle-based file .* trainctl never unpickles"),
    (b"PK\x03\x04" + b"\x00" * 40, r"pickle-based file"),
])
def test_malformed_files(tmp_path, data, match):
    refused(data, match, tmp_path)


def test_a_truncated_real_file_at_every_length(tmp_path):
    data = to_bytes({"w": tc.ones(3, 2), "step": 3})
    for n in range(len(data)):
        refused(data[:n], None, tmp_path)


@pytest.mark.parametrize("structure,match", [
    ("not json {", r"corrupted structure metadata"),
    ("[" * 100000 + "]" * 100000, r"corrupted structure metadata"),
    ({"__tensor__": "missing"}, r"the structure names tensor 'missing' but the file does not"),
    ({"__tensor__": ["w", {"x": 1}]}, r"the structure names tensor \['w', \{'x': 1\}\]"),
    ({"__odict__": [1, 2]}, r"malformed structure metadata: __odict__ must hold a mapping"),
    ({"__size__": [2, "x"]}, r"__size__ must hold a list of sizes, got \[2, 'x'\]"),
    ({"__size__": [-1]}, r"__size__ must hold a list of sizes"),
    ({"__dtype__": "bfloat16"}, r"__dtype__ must hold a dtype name, got 'bfloat16'"),
    ({"__dtype__": {"a": 1}}, r"__dtype__ must hold a dtype name"),
    ({"__tuple__": {"a": 1}}, r"__tuple__ must hold a list"),
    ({"__dict__": [[1, 2, 3]]}, r"__dict__ must hold a list of \[key, value\] pairs"),
    ({"__dict__": [[[1], 2]]}, r"__dict__ must hold a list of \[key, value\] pairs"),
    ({"__dict__": "ab"}, r"__dict__ must hold a list"),
    ({"__device__": "tpu:0"}, r"malformed structure metadata: unknown device 'tpu:0'"),
    ({"__device__": 3}, r"malformed structure metadata: device must be a string"),
])
def test_malformed_structures(tmp_path, structure, match):
    if isinstance(structure, str):  # not JSON, or JSON too deep for the parser
        data = safetensors({"__metadata__": {"format": "trainctl", "structure": structure}})
    else:
        data = with_structure(structure)
    refused(data, match, tmp_path)


def test_deep_structures_are_refused():
    deep = 7
    for _ in range(MAX_NESTING + 5):
        deep = [deep]
    refused(with_structure(deep), f"nested more than {MAX_NESTING} levels deep")
    shallow = 7
    for _ in range(MAX_NESTING - 5):
        shallow = {"a": shallow}
    assert isinstance(tc.load(io.BytesIO(with_structure(shallow))), dict)


def test_a_tensor_of_an_unsupported_dtype_inside_a_structure():
    data = to_bytes({"x": numpy.zeros(2, dtype=numpy.uint16)})
    assert tc.load(io.BytesIO(data))["x"].dtype == numpy.uint16  # a NumPy array may be uint16
    header_len = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + header_len])
    header["__metadata__"]["structure"] = json.dumps({"x": {"__tensor__": "x"}})
    raw = json.dumps(header).encode()
    refused(struct.pack("<Q", len(raw)) + raw + data[8 + header_len:],
            r"^<file object>: tensor 'x' has dtype uint16, which trainctl tensors do not support")


def test_a_file_that_is_a_folder_or_a_device(tmp_path):
    with pytest.raises(CheckpointError, match="is a directory"):
        tc.load(tmp_path)
    with pytest.raises(CheckpointError, match="not a regular file"):
        tc.load("/dev/zero")
    with pytest.raises(CheckpointError, match="file not found"):
        tc.load(tmp_path / "nope.safetensors")


def test_saving_a_whole_module_is_refused_in_one_line_with_the_state_dict_recipe():
    model = tc.nn.Linear(2, 2)
    buffer = io.BytesIO()
    for obj, where in ((model, ""), ({"model": model}, " (at model)")):
        with pytest.raises(UnsupportedFeatureError) as info:
            tc.save(obj, buffer)
        message = str(info.value)
        assert message == (
            f"tc.save of a whole Linear{where} is not supported by trainctl: it would need "
            "pickle; save its state_dict() instead: tc.save(obj.state_dict(), path), later "
            "obj.load_state_dict(tc.load(path))")
        assert isinstance(info.value, TypeError) and isinstance(info.value, tc.TrainctlError)
    with pytest.raises(UnsupportedFeatureError, match="whole SGD"):
        tc.save(tc.optim.SGD(model.parameters(), lr=0.1), buffer)
    assert buffer.getvalue() == b""


def test_map_location_as_a_dict_or_a_function_as_in_the_ddp_tutorial(tmp_path):
    path = tmp_path / "ckpt.pt"
    tc.save({"w": tc.ones(2)}, path)
    # the DDP tutorial's {'cuda:0': 'cuda:%d' % rank}: files load to the CPU, which it leaves
    assert tc.load(path, map_location={"cuda:0": "cuda:1"})["w"].device.type == "cpu"
    assert tc.load(path, map_location={"cpu": "cpu"})["w"].tolist() == [1.0, 1.0]
    seen = []
    moved = tc.load(path, map_location=lambda t, loc: seen.append(loc) or t * 2)
    assert moved["w"].tolist() == [2.0, 2.0] and seen == ["cpu"]
