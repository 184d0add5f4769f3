"""Python floats go straight to the dtype a creation function is asked for, as in PyTorch."""

import trainctl as tc


def test_python_floats_are_not_rounded_through_float32_on_the_way_to_float64():
    assert tc.tensor(0.1, dtype=tc.float64).item() == 0.1
    assert tc.tensor([0.1, 1e-300], dtype=tc.float64).tolist() == [0.1, 1e-300]
    assert tc.as_tensor([[0.1]], dtype=tc.float64).tolist() == [[0.1]]
    assert tc.tensor([1, 2], dtype=tc.float64).tolist() == [1.0, 2.0]
    # without a dtype, Python floats are float32 (the default dtype), as in PyTorch
    t = tc.tensor([0.1])
    assert t.dtype == tc.float32 and t.item() != 0.1
