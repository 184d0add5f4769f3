"""The import rewrite and the output comparison used by the ported programs' tests."""

import pytest

from tests.ported.runner import compare_outputs, normalise, rewrite_imports


@pytest.mark.parametrize("line, want", [
    ("import torch", "import trainctl as torch"),
    ("import torch as th", "import trainctl as th"),
    ("import torch.nn as nn", "import trainctl.nn as nn"),
    ("import torch.nn.functional as F", "import trainctl.nn.functional as F"),
    ("import torch.optim", "import trainctl.optim; import trainctl as torch"),
    ("from torch import nn", "from trainctl import nn"),
    ("from torch import nn, optim  # both", "from trainctl import nn, optim  # both"),
    ("from torch.utils.data import DataLoader, Dataset",
     "from trainctl.utils.data import DataLoader, Dataset"),
    ("    import torch  # late", "    import trainctl as torch  # late"),
    ("import torchvision", "import torchvision"),
    ("x = torch.ones(2)  # import torch", "x = torch.ones(2)  # import torch"),
])
def test_rewrite_imports(line, want):
    assert rewrite_imports(line) == want + "\n"


def test_rewrite_keeps_every_other_line():
    source = 'import numpy as np\nimport torch\n\nprint("import torch")\n'
    assert rewrite_imports(source) == (
        'import numpy as np\nimport trainctl as torch\n\nprint("import torch")\n'
    )


@pytest.mark.parametrize("line", ["import numpy, torch", "import torch, numpy"])
def test_rewrite_refuses_forms_it_does_not_handle(line):
    with pytest.raises(ValueError, match="cannot rewrite"):
        rewrite_imports(line)


def test_rewritten_imports_load_trainctl():
    namespace = {}
    exec(rewrite_imports("import torch\nimport torch.nn.functional as F\n"
                         "from torch.utils.data import DataLoader\nfrom torch import nn"),
         namespace)
    import trainctl

    assert namespace["torch"] is trainctl and namespace["F"] is trainctl.nn.functional
    assert namespace["DataLoader"] is trainctl.utils.data.DataLoader
    assert namespace["nn"] is trainctl.nn


def test_normalise_maps_names_that_differ_by_design():
    text = ("trainctl.Size([2]) tensor([1.], dtype=trainctl.float64, grad_fn=<GetItemBackward>)\n"
            "<AddBackward0 object at 0x7f00aa> tensor([1.,\n        2.],\n"
            "       grad_fn=<MulBackward>)")
    assert normalise(text) == (
        "torch.Size([2]) tensor([1.], dtype=torch.float64, grad_fn=<Backward>)\n"
        "<Backward> tensor([1.,\n        2.], grad_fn=<Backward>)"
    )


def test_compare_outputs_exact_and_with_tolerance():
    want = "loss: 2.307055  [   64/  640]\nAccuracy: 7.5%\n"
    assert compare_outputs(want, want) == []
    close = "loss: 2.307056  [   64/  640]\nAccuracy: 7.5%\n"
    assert compare_outputs(close, want) != []  # exact by default
    assert compare_outputs(close, want, rtol=1e-5) == []
    assert compare_outputs("loss: 2.3072  [   64/  640]\nAccuracy: 7.5%\n", want, 1e-5) != []
    assert compare_outputs(close.replace("loss", "Loss"), want, 1e-3) != []  # text is exact
    assert compare_outputs("loss: 2.307055  [   64/  640]\n", want) == [
        "1 lines printed, 2 expected"
    ]
    assert compare_outputs("x nan inf 1e-05\n", "x nan inf 1.0e-5\n", 0, 1e-12) == []
