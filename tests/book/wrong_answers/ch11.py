WRONG = {
    # The other eigenvalue divides the determinant by the one-layer value 1 + h, not by (1 + h)^2.
    "ex-settled-alternating": '''
def two_layer_eigenvalues(A1, A2, h):
    two_layers = (sp.eye(2) + h * A2) * (sp.eye(2) + h * A1)
    return (1 + h) ** 2, sp.factor(sp.cancel(two_layers.det() / (1 + h)))
''',
    # The transpose of H_h is dropped: H_h (x) A_h instead of H_h^T (x) A_h.
    "ex-settled-multihead": '''
def multihead_operator(attentions, value_outputs):
    n, d = attentions.shape[-1], value_outputs.shape[-1]
    return torch.eye(n * d, dtype=attentions.dtype) + sum(torch.kron(H, A) for A, H in zip(attentions, value_outputs))
''',
    # lambda_q from the forward FFT, sum_m c_m omega^(-q m): the conjugate frequency, rows q and n - q swapped.
    "ex-settled-dispersion": '''
def frequency_gains(first_row, value_output, token_map):
    lambdas = torch.fft.fft(first_row.to(torch.complex128))
    identity = torch.eye(value_output.shape[-1], dtype=torch.complex128)
    gains = (identity + lambdas[:, None, None] * value_output.to(torch.complex128)) @ token_map.to(torch.complex128)
    return torch.linalg.eigvals(gains)
''',
}
