"""Fuzzing checkpoints: mutations of a real checkpoint (bytes flipped, header length changed,
tensor entries and JSON metadata altered, truncated) fed to load_checkpoint and tc.load end in a
result or one CheckpointError line, within a second (see tests/fuzzing.py)."""

import io
import json
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trainctl as tc
from tests.fuzzing import FUZZ, survive
from trainctl.core.errors import CheckpointError
from trainctl.training.checkpoint import load_checkpoint

from .tiny_checkpoint import tiny_checkpoint

TAGS = ["__tensor__", "__ndarray__", "__odict__", "__size__", "__dtype__", "__tuple__",
        "__dict__", "__device__", "requires_grad", "model", "optimizer", "trainer", "config",
        "state", "param_groups", "params", "rng", "epoch", "global_step"]
DTYPES = ["F32", "F64", "F16", "I64", "I32", "U8", "BOOL", "BF16", "F8_E4M3", "U16", "C64",
          "X", ""]
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8)
    | st.sampled_from(TAGS + ["float32", "cpu", "cuda:0", "bfloat16"]),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(TAGS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


class Real(tuple):
    """(bytes of a real checkpoint, a file to write mutations to), shown short in reports."""

    def __repr__(self):
        return "<real checkpoint>"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    return Real((tiny_checkpoint(folder).read_bytes(), folder / "mutated.safetensors"))


def split(data: bytes):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + n]), data[8 + n:]


def join(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def check(data: bytes, path):
    """Every loader takes ``data`` to a result or a CheckpointError."""
    path.write_bytes(data)
    state = survive(lambda: load_checkpoint(path), CheckpointError)
    assert state is None or isinstance(state["trainer"]["epoch"], int)
    survive(lambda: load_checkpoint(path, resume=False), CheckpointError)
    survive(lambda: tc.load(io.BytesIO(data)), CheckpointError)


def test_the_real_checkpoint_loads(real):
    data, path = real
    path.write_bytes(data)
    assert load_checkpoint(path)["trainer"]["global_step"] == 4


@FUZZ
@given(st.data())
def test_fuzz_flipped_bytes(real, data):
    raw, path = real
    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    check(bytes(mutated), path)


@FUZZ
@given(st.data())
def test_fuzz_header_length_and_truncation(real, data):
    raw, path = real
    real_length = struct.unpack("<Q", raw[:8])[0]
    length = data.draw(st.integers(0, 2**64 - 1) | st.integers(0, real_length + 64))
    mutated = struct.pack("<Q", length) + raw[8:]
    if data.draw(st.booleans()):
        mutated = mutated[:data.draw(st.integers(0, len(mutated)))]
    check(mutated, path)


def paths(obj, prefix=()):
    """Every path into a JSON value (list indices and mapping keys)."""
    yield prefix
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) \
        else ()
    for key, value in items:
        yield from paths(value, (*prefix, key))


def change(obj, path, action, new):
    """``obj`` with the value at ``path`` removed, replaced by ``new`` or turned into text."""
    if not path:
        return new if action != "stringify" else json.dumps(obj)
    parent = obj
    for key in path[:-1]:
        parent = parent[key]
    if action == "remove":
        del parent[path[-1]]
    elif action == "stringify":
        parent[path[-1]] = json.dumps(parent[path[-1]])
    elif action == "wrap":
        parent[path[-1]] = [parent[path[-1]]]
    else:
        parent[path[-1]] = new
    return obj


@FUZZ
@given(st.data())
def test_fuzz_structure_metadata(real, data):
    raw, path = real
    header, body = split(raw)
    structure = json.loads(header["__metadata__"]["structure"])
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(list(paths(structure))))
        action = data.draw(st.sampled_from(["remove", "replace", "stringify", "wrap"]))
        structure = change(structure, where, action, data.draw(JSON))
    header["__metadata__"]["structure"] = json.dumps(structure)
    check(join(header, body), path)


@FUZZ
@given(st.data())
def test_fuzz_tensor_entries_and_metadata(real, data):
    raw, path = real
    header, body = split(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        name = data.draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        field = data.draw(st.sampled_from(["dtype", "shape", "data_offsets", "metadata",
                                           "remove"]))
        if field == "dtype":
            header[name]["dtype"] = data.draw(st.sampled_from(DTYPES))
        elif field == "shape":
            header[name]["shape"] = data.draw(st.lists(st.integers(0, 2**40), max_size=4))
        elif field == "data_offsets":
            header[name]["data_offsets"] = data.draw(
                st.lists(st.integers(0, len(body) + 16), min_size=2, max_size=2))
        elif field == "remove":
            header.pop(name, None)
        else:
            key = data.draw(st.sampled_from(sorted(header["__metadata__"])))
            header["__metadata__"][key] = data.draw(st.text(max_size=12) | JSON.map(json.dumps))
    check(join(header, body), path)


@FUZZ
@given(st.binary(max_size=600))
def test_fuzz_random_bytes(real, blob):
    _, path = real
    check(blob, path)
    check(struct.pack("<Q", len(blob)) + blob, path)
