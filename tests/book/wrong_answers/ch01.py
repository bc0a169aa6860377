WRONG = {
    # The self-cosines (all 1) are averaged with the pairs.
    "ex-measuring-naive-cosine": '''
def naive_mean_cosine(x):
    unit = x / x.norm(dim=-1, keepdim=True)
    return (unit @ unit.transpose(-1, -2)).mean(dim=(-1, -2))
''',
    # The DC norm taken as the norm of the mean token, forgetting that DC[X] repeats it in all n rows.
    "ex-measuring-two-tokens": '''
def token_metrics(x):
    n = x.shape[0]
    unit = x / x.norm(dim=-1, keepdim=True)
    mean_cosine = ((unit @ unit.T).sum() - n) / (n * (n - 1))
    mean = x.mean(dim=0)
    hc = x - mean
    return mean_cosine.item(), (hc.norm() / mean.norm()).item(), (hc.norm() / x.norm()).item()
''',
    # The diagonal counted: the mean of all n^2 cosines, self-cosines included, is ||s||^2 / n^2.
    "ex-measuring-antipodal": '''
def split_mean_cosine(n, k):
    return (n - 2 * k) ** 2 / n**2
''',
    # The rows of HC[I_n] not scaled to unit length (their norm is sqrt(1 - 1/n)).
    "ex-measuring-simplex": '''
def simplex_spectrum(n):
    G = sp.Rational(n, n - 1) * sp.eye(n) - sp.ones(n, n) / (n - 1)
    return G.eigenvals()


def simplex_tokens(n):
    return ovs.hc_component(torch.eye(n, dtype=torch.float64))
''',
    # E||DC||_F^2 taken as E||mean token||^2 = d / n, forgetting the n rows of DC[X].
    "ex-measuring-gaussian": '''
def gaussian_expectations(n, d):
    dc_squared = d / n
    hc_squared = (n - 1) * d
    return dc_squared, hc_squared, (hc_squared / dc_squared) ** 0.5
''',
    # The two gains swapped: diag(lam) H diag(gamma) has the same spectrum but is not M.
    "ex-measuring-layerscale": '''
def layerscale_matrices(H, gamma, lam):
    M = sp.diag(*lam) * H * sp.diag(*gamma)
    return M, sp.diag(*[g * l for g, l in zip(gamma, lam)]) * H
''',
}
