"""Checks of exercise ex-linear-row-major: ``vec_rows(M)``, the rows of a SymPy matrix stacked into one column,
and ``commutation_matrix(n, d)``, the permutation K with K vec(X) = vec_rows(X) (vec stacks the columns)."""

import sympy as sp
from otter.test_files import test_case

OK_FORMAT = False
name = "ex_linear_row_major"
points = 3


def _symbols(prefix, rows, cols):
    return sp.Matrix(rows, cols, lambda i, k: sp.Symbol(f"{prefix}_{i + 1}{k + 1}"))


def _vec_columns(M):
    return sp.Matrix([M[i, k] for k in range(M.cols) for i in range(M.rows)])


@test_case(hidden=False)
def rows_one_after_the_other(vec_rows):
    X = _symbols("x", 2, 3)
    expected = sp.Matrix([X[0, 0], X[0, 1], X[0, 2], X[1, 0], X[1, 1], X[1, 2]])
    stacked = vec_rows(X)
    assert stacked.shape == (6, 1), f"a 2 x 3 matrix stacks into shape (6, 1), got {stacked.shape}"
    assert stacked == expected, f"expected the first row, then the second: {list(expected)}, got {list(stacked)}"


@test_case(hidden=False)
def commutation_maps_columns_to_rows(commutation_matrix):
    X = _symbols("x", 2, 3)
    K = commutation_matrix(2, 3)
    assert K.shape == (6, 6), f"n = 2, d = 3: expected shape (6, 6), got {K.shape}"
    assert K * _vec_columns(X) == sp.Matrix([X[i, k] for i in range(2) for k in range(3)]), (
        "K vec(X) should list the entries of X row by row")


@test_case(hidden=True)
def kronecker_orders_are_similar(vec_rows, commutation_matrix):
    A, X, H = _symbols("a", 3, 3), _symbols("x", 3, 2), _symbols("h", 2, 2)
    assert sp.expand(vec_rows(A * X * H) - sp.kronecker_product(A, H.T) * vec_rows(X)) == sp.zeros(6, 1), (
        "vec_rows(A X H) = (A kron H^T) vec_rows(X) for a 3 x 2 matrix X")
    K = commutation_matrix(3, 2)
    assert K * K.T == sp.eye(6), "a permutation matrix is orthogonal: K K^T = I"
    assert K * _vec_columns(X) == vec_rows(X), "n = 3, d = 2: K vec(X) should equal vec_rows(X) (K, not K^T)"
    assert sp.expand(K * sp.kronecker_product(H.T, A) * K.T - sp.kronecker_product(A, H.T)) == sp.zeros(6, 6), (
        "K (H^T kron A) K^T = A kron H^T")
