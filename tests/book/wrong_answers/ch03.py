WRONG = {
    # "below" read as "at most": stops at the layer where the bound equals the tolerance.
    "ex-rank-collapse-cubing": '''
def first_layer_below(bound, layer, tolerance):
    depth = 0
    while not bound.subs(layer, depth) <= tolerance:
        depth += 1
    return depth
''',
    # Every path counted once: the binomial coefficient is dropped.
    "ex-rank-collapse-paths": '''
def path_terms(attention, value_output, x, depth):
    power = torch.linalg.matrix_power
    return torch.stack([power(attention, k) @ x @ power(value_output, k) for k in range(depth + 1)])
''',
    # The wrong axis: each token is centred over its features instead of the tokens over the mean token.
    "ex-rank-collapse-orthogonal": '''
def hc_dc_ratio_squared(Y):
    dc = Y * sp.ones(Y.cols, Y.cols) / Y.cols
    return sum(entry**2 for entry in Y - dc) / sum(entry**2 for entry in dc)
''',
    # Without the residual only the HC mode is taken to be multiplied (by lambda_2 h): the DC mode's h is forgotten.
    "ex-rank-collapse-predict-residual": '''
def hc_dc_factor(lambda_2, h, residual):
    if residual:
        return abs(1 + lambda_2 * h) / abs(1 + h)
    return abs(lambda_2 * h)
''',
    # The arithmetic mean over the batch instead of the geometric one.
    "ex-rank-collapse-layer-norm": '''
def rank_one_profile(norm, depth=12, dim=64, tokens=32, batch=8):
    ovs.seed_everything(0)
    config = ovs.TransformerConfig(dim=dim, depth=depth, heads=1, norm=norm, residual=False, mlp=False, init_std=dim**-0.5)
    model = ovs.TransformerEncoder(config).double().eval()
    inputs = torch.randn(batch, tokens, dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.no_grad():
        hidden = model.forward_intermediates(inputs).hidden_states
    return ovs.rank_one_residual(hidden).mean(dim=1)
''',
}
