WRONG = {
    # The ratio of the squared norms, ||HC||^2 / ||DC||^2, instead of the ratio of the norms.
    "ex-low-pass-by-hand": '''
def exact_hc_dc_ratio(z):
    P = sp.ones(z.rows, z.rows) / z.rows
    return ((sp.eye(z.rows) - P) * z).norm() ** 2 / (P * z).norm() ** 2
''',
    # A sign error: z = (a, b) is not the eigenvector (a, -b), so its ratio decays.
    "ex-low-pass-exceptional": '''
def exceptional_ratios(a, b, depth):
    A = torch.tensor([[1 - a, a], [b, 1 - b]], dtype=torch.float64)
    z = torch.tensor([[a], [b]], dtype=torch.float64)
    stack = ovs.LinearAttentionStack(A, torch.eye(1, dtype=torch.float64), depth, residual=False)
    return ovs.hc_dc_ratio(stack.forward_intermediates(z).hidden_states)
''',
    # The stationary distribution swapped: pi = (a, b) / (a + b) instead of (b, a) / (a + b).
    "ex-low-pass-two-token-ratio": '''
def two_token_ratio(a, b, t):
    limit = sp.Matrix([[a, b], [a, b]]) / (a + b)
    column = (limit + (1 - a - b) ** t * (sp.eye(2) - limit)) * sp.Matrix([1, 0])
    return sp.Abs(column[0] - column[1]) / sp.Abs(column[0] + column[1])
''',
    # The modulus of 1 + omega dropped: omega = -2 then predicts a negative rate instead of beta.
    "ex-low-pass-predict-rate": '''
def predicted_rate(attention, omega):
    beta = torch.linalg.eigvals(attention).abs().sort(descending=True).values[1].item()
    return min(1.0, (1 + omega) * beta)
''',
    # The first token counted: max over all diagonal entries, which is A_11 = 1.
    "ex-low-pass-causal": '''
def causal_rate_check(attention, tokens, depth=200):
    predicted = torch.diagonal(attention, dim1=-2, dim2=-1).amax(dim=-1)
    stack = ovs.LinearAttentionStack(attention, torch.eye(tokens.shape[-1], dtype=torch.float64), depth, residual=False)
    ratios = ovs.hc_dc_ratio(stack.forward_intermediates(tokens).hidden_states)
    measured = torch.tensor([ovs.metrics.geometric_decay_rate(ratios[:, k], start=5, floor=1e-11)
                             for k in range(len(attention))])
    return predicted, measured
''',
}
