"""A layer given to another layer in a config: TransformerEncoder's ``encoder_layer`` and
``norm`` are built like the layers of a Sequential."""

import textwrap

import trainctl as tc
from trainctl.config import load_config
from trainctl.config.build import build_model

CONFIG = """\
name: enc
data:
  train: {type: SyntheticSequences, task: reverse, n_samples: 20, length: 6}
model:
  type: Sequential
  layers:
    - {type: Embedding, num_embeddings: 10, embedding_dim: 16}
    - type: TransformerEncoder
      encoder_layer: {type: TransformerEncoderLayer, d_model: 16, nhead: 2,
                      dim_feedforward: 32, batch_first: true}
      num_layers: 3
      norm: {type: LayerNorm, normalized_shape: 16}
    - {type: Linear, in_features: 16, out_features: 10}
    - {type: Permute, dims: [0, 2, 1]}
loss: CrossEntropyLoss
optimizer: {type: Adam, lr: 0.001}
"""


def test_transformer_encoder_in_a_config(tmp_path):
    path = tmp_path / "enc.yaml"
    path.write_text(textwrap.dedent(CONFIG))
    model = build_model(load_config(path))
    encoder = model[1]
    assert len(encoder.layers) == 3 and isinstance(encoder.norm, tc.nn.LayerNorm)
    assert encoder.layers[0] is not encoder.layers[1]  # copies, as PyTorch makes
    assert model(tc.zeros(2, 6, dtype=tc.int64)).shape == (2, 10, 6)
