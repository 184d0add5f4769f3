"""Loading the committed golden fixtures (JSON or NPZ, never pickle)."""

import json
import pathlib

import numpy

HERE = pathlib.Path(__file__).parent


def load_json(name: str):
    return json.loads((HERE / name).read_text())


def load_npz(name: str) -> dict:
    with numpy.load(HERE / name, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
