WRONG = {
    # The rate taken as M_HC / M_DC, which equals theta only when the runner-up is an HC mode.
    "ex-linear-grid": '''
def grid_prediction(lambda_a, lambda_h):
    mu = (1 + lambda_a[:, None] * lambda_h[None, :]).abs()
    dc, hc = mu[0].max().item(), mu[1:].max().item()
    return dc, hc, "smoothing" if dc > hc else "sharpening", min(dc, hc) / max(dc, hc)
''',
    # The largest modulus of A taken over every eigenvalue, the Perron eigenvalue 1 included.
    "ex-linear-no-residual": '''
def no_residual_moduli(attention, value_output):
    radius_h = torch.linalg.eigvals(value_output).abs().amax(dim=-1)
    return radius_h, torch.linalg.eigvals(attention).abs().amax(dim=-1) * radius_h
''',
    # The inverse permutation: K^T maps vec_rows(X) to vec(X).
    "ex-linear-row-major": '''
def vec_rows(M):
    return M.reshape(M.rows * M.cols, 1)


def commutation_matrix(n, d):
    return sp.Matrix(n * d, n * d, lambda row, col: int(row == (col % d) * n + col // d))
''',
    # The transpose of H dropped: A kron H is the column-major matrix of X -> A X H^T.
    "ex-linear-kron-operator": '''
def update_operator(attention, value_output, residual=True):
    n, d = attention.shape[-1], value_output.shape[-1]
    kron = (attention[..., :, None, :, None] * value_output[..., None, :, None, :]).reshape(*attention.shape[:-2], n * d, n * d)
    return kron + torch.eye(n * d, dtype=kron.dtype) if residual else kron
''',
    # The factor lambda^A_i of the L term dropped (N's coefficient read as L mu^(L-1)).
    "ex-linear-jordan": '''
def jordan_closed_form(attention, x, lam, depth):
    lambda_a, v = torch.linalg.eig(attention)
    lambda_a, v = lambda_a.real[:, None], v.real
    y = torch.linalg.solve(v, x)
    mu = 1 + lambda_a * lam
    rows = torch.cat([mu * y[:, :1], mu * y[:, 1:] + depth * y[:, :1]], dim=1)
    return v @ (mu ** (depth - 1) * rows)
''',
}
