WRONG = {
    # The skip connection is kept: the moduli of 1 + lambda^A_i lambda^H_j instead of lambda^A_i lambda^H_j.
    "ex-convergence-no-residual": '''
def no_residual_moduli(attention, value_output):
    lambda_a, lambda_h = torch.linalg.eigvals(attention), torch.linalg.eigvals(value_output)
    moduli = (1 + lambda_a[:, None] * lambda_h[None, :]).abs()
    is_dc = torch.arange(len(lambda_a)) == (lambda_a - 1).abs().argmin()
    return moduli[is_dc].max().item(), moduli[~is_dc].max().item()
''',
    # 1 - kappa = a + b taken for 1 + kappa: the other factor of the difference of squares.
    "ex-convergence-two-tokens": '''
def no_convergence_interval(a, b):
    return -2 / (a + b), sp.Integer(0)
''',
    # Sign error in the spectrum of H: {0.9, 0.4, -0.2} smooths instead of rotating.
    "ex-convergence-rotating": '''
def rotating_rank_one(depth=300):
    generator = ovs.seed_everything(5)
    A = ovs.generators.circulant_attention(5, next_weight=0.95)
    H = ovs.generators.value_output_from_spectrum(torch.tensor([0.9, 0.4, -0.2], dtype=torch.float64), generator=generator)
    inputs = torch.randn(8, 5, 3, generator=generator, dtype=torch.float64)
    return ovs.LinearAttentionStack(A, H, depth).forward_intermediates(inputs).hidden_states
''',
    # Sign error: the first fall of the diagonal instead of its first rise.
    "ex-convergence-causal-ascent": '''
def antiparallel_pair(attention):
    diagonal = attention.diagonal()
    falls = (diagonal[1:] < diagonal[:-1]).nonzero().flatten()
    if len(falls) == 0:
        return None
    k = int(falls[0]) + 1
    return k - 1, k
''',
}
