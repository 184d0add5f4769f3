"""Data paths in a config are relative to the file that wrote them, and stored resolved."""

import os

from trainctl.config import load_config

CONFIG = """\
data:
  train: {type: CSVDataset, path: tables/train.csv, target: y}
  test: {type: CSVDataset, path: /abs/test.csv, target: y, reference: tables/train.csv}
model: {type: Linear, in_features: 2, out_features: 1}
loss: MSELoss
optimizer: {type: SGD, lr: 0.1}
"""


def test_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    (tmp_path / "project").mkdir()
    path = tmp_path / "project" / "cfg.yaml"
    path.write_text(CONFIG)
    monkeypatch.chdir(tmp_path)  # elsewhere: the config's own folder decides
    cfg = load_config("project/cfg.yaml")
    assert cfg["data"]["train"]["path"] == str(tmp_path / "project" / "tables" / "train.csv")
    assert cfg["data"]["test"]["path"] == "/abs/test.csv"
    assert cfg["data"]["test"]["reference"] == str(tmp_path / "project" / "tables" / "train.csv")
    assert f"path: {tmp_path}/project/tables/train.csv" in cfg.to_yaml()  # as saved by a run


def test_a_base_files_paths_follow_the_base_and_set_values_the_current_folder(tmp_path,
                                                                              monkeypatch):
    (tmp_path / "shared").mkdir()
    (tmp_path / "exp").mkdir()
    (tmp_path / "shared" / "base.yaml").write_text(CONFIG)
    (tmp_path / "exp" / "run.yaml").write_text("base: ../shared/base.yaml\n"
                                               "data: {val: {type: CSVDataset, path: v.csv, "
                                               "target: y}}\n")
    monkeypatch.chdir(tmp_path / "exp")
    cfg = load_config(tmp_path / "exp" / "run.yaml",
                      overrides=["data.test.path=here.csv"])
    assert cfg["data"]["train"]["path"] == str(tmp_path / "shared" / "tables" / "train.csv")
    assert cfg["data"]["val"]["path"] == str(tmp_path / "exp" / "v.csv")
    assert cfg["data"]["test"]["path"] == os.path.join(os.getcwd(), "here.csv")
