WRONG = {
    # psi itself is clipped, not psi squared (the square of the parameterisation is forgotten).
    "ex-controlling-clip-by-hand": '''
def clipped_eigenvalues(psi, floor, upper):
    return [sp.Min(sp.Max(value, floor), upper) for value in psi]


def mode_moduli(eigenvalues, kappa):
    return max(abs(1 + v) for v in eigenvalues), max(abs(1 + kappa * v) for v in eigenvalues)
''',
    # The gradient of an earlier call is not cleared, so a second call returns the sum of two gradients.
    "ex-controlling-dead-eigenvalues": '''
def psi_gradient(value_map, psi):
    with torch.no_grad():
        value_map.psi.copy_(psi)
    value_map.eigenvalues().sum().backward()
    return value_map.psi.grad.clone()
''',
    # K = H - H^T without the factor 1/2, while S keeps it.
    "ex-controlling-asymmetry-measures": '''
def asymmetry_measures(H):
    S, K = (H + H.T) / 2, H - H.T
    norm2_H, norm2_S, norm2_K = (sum(entry**2 for entry in M) for M in (H, S, K))
    return sp.factor(norm2_K / norm2_H), sp.factor(norm2_K / norm2_S)
''',
    # Every LayerNorm gain is negated (the MLP's ln2 and the final norm too), not only the attention's ln1.
    "ex-controlling-flip-gains": '''
def flip_attention_gains(model):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.LayerNorm):
                module.weight.neg_()
''',
}
