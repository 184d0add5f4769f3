"""Matrix products: matmul in every rank combination, mm/bmm/outer/dot, einsum."""

import numpy
import pytest

import trainctl as tc
from tests.autograd.helpers import rand
from trainctl.autograd import gradcheck

MATMUL_SHAPES = [
    ((3,), (3,)),
    ((3,), (3, 2)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((4, 2, 3), (4, 3, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
    ((4, 2, 3), (3,)),
    ((3,), (5, 3, 2)),
    ((1, 2, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
def test_matmul_values_and_gradients(shapes):
    a, b = rand(*shapes[0], seed=1), rand(*shapes[1], seed=2)
    out = a @ b
    expected = numpy.matmul(a.numpy(), b.numpy())
    assert out.shape == expected.shape
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda a, b: a @ b, [a, b])
    assert gradcheck(tc.matmul, [a, b])


def test_matmul_shape_error_message_names_op_and_shapes():
    with pytest.raises(tc.ShapeError) as info:
        tc.ones(4, 3) @ tc.ones(2, 1)
    assert str(info.value) == "matmul: shapes (4, 3) and (2, 1) cannot be multiplied"
    with pytest.raises(tc.ShapeError, match="at least 1 dimension"):
        tc.matmul(tc.tensor(2.0), tc.ones(2))


def test_mm_bmm_outer_dot():
    a, b = rand(2, 3, seed=1), rand(3, 4, seed=2)
    assert gradcheck(tc.mm, [a, b]) and gradcheck(lambda a, b: a.mm(b), [a, b])
    x, y = rand(3, 2, 4, seed=3), rand(3, 4, 2, seed=4)
    assert tc.bmm(x, y).shape == (3, 2, 2) and gradcheck(tc.bmm, [x, y])
    u, v = rand(3, seed=5), rand(4, seed=6)
    assert tc.outer(u, v).shape == (3, 4) and gradcheck(tc.outer, [u, v])
    assert gradcheck(lambda u: u.dot(u), [u])
    with pytest.raises(tc.ShapeError, match="mm: expected 2-D"):
        tc.mm(u, a)
    with pytest.raises(tc.ShapeError, match="bmm"):
        tc.bmm(x, rand(2, 4, 2))
    with pytest.raises(tc.ShapeError, match="outer"):
        tc.outer(a, u)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij,jk->i", [(2, 3), (3, 4)]),  # k is summed away from the second operand alone
    ("i,j->ij", [(3,), (4,)]),
    ("ij,jk", [(2, 3), (3, 4)]),  # implicit output
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),  # ellipsis with broadcasting
    ("b...d,bkd->b...k", [(2, 3, 4), (2, 5, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_values_and_gradients(equation, shapes):
    operands = [rand(*s, seed=i) for i, s in enumerate(shapes)]
    out = tc.einsum(equation, *operands)
    expected = numpy.einsum(equation, *[o.numpy() for o in operands])
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    assert gradcheck(lambda *ops: tc.einsum(equation, *ops), operands)
    assert gradcheck(lambda *ops: tc.einsum(equation, list(ops)), operands)  # list form


def test_einsum_errors():
    with pytest.raises(tc.ShapeError, match="2 operands but 1"):
        tc.einsum("ij,jk->ik", tc.ones(2, 2))
    with pytest.raises(tc.ShapeError, match="do not match"):
        tc.einsum("ijk->i", tc.ones(2, 2))
