WRONG = {
    # r_2 is taken over all eigenvalues of A, the Perron eigenvalue 1 included, so the bound is never beaten.
    "ex-pretrained-certificate": '''
def dc_and_certified(lam_a, lam_h):
    perron = ovs.spectrum.perron_index(lam_a)
    mode = ovs.spectrum.dominant_mode_from_spectra(lam_a, lam_h, perron)
    r2 = lam_a.abs().amax(-1)
    return mode.is_dc, mode.dc_modulus > 1 + r2 * lam_h.abs().amax(-1)
''',
    # One factor x, as the audit appends one zero, instead of x ** (d - d_h).
    "ex-pretrained-head-spectrum": '''
def charpoly_from_core(W_V, W_O, x):
    return x * (W_O * W_V).charpoly(x).as_expr()
''',
    # The heads are summed instead of averaged: the sum is not row-stochastic, its Perron eigenvalue is the head count.
    "ex-pretrained-by-hand": '''
def dominant_pair(attention, value_output):
    lam_a = torch.linalg.eigvals(attention.sum(dim=0))
    lam_h = torch.linalg.eigvals(value_output)
    mu = 1 + lam_a[:, None] * lam_h[None, :]
    i, j = divmod(int(mu.abs().argmax()), len(lam_h))
    return lam_a[i], lam_h[j], mu[i, j]
''',
    # The real tokens are taken as the first mask.sum() positions, which is wrong for left padding.
    "ex-pretrained-padding": '''
def real_token_cosine(hidden, mask):
    lengths = mask.sum(dim=1)
    return torch.stack([ovs.mean_cosine_similarity(hidden[:, b, :lengths[b]]) for b in range(len(lengths))]).mean(dim=0)
''',
}
