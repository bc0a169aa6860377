WRONG = {
    # Sign error: the disc is centred at +c instead of -c.
    "ex-which-side-of-disc": '''
def outside_sharpening_disc(value_eigenvalues, attention_min):
    c = 1 / (1 + attention_min)
    return (value_eigenvalues - c).abs() > c
''',
    # The rate theta leaves out mu* only, not its conjugate partner (theta = 1 for a complex mu*).
    "ex-which-implement-dominant-mode": '''
def my_dominant_mode(attention, value_output):
    lambda_a, lambda_h = torch.linalg.eigvals(attention), torch.linalg.eigvals(value_output)
    mu = 1 + lambda_a[:, None] * lambda_h[None, :]
    is_dc = torch.arange(len(lambda_a)) == (lambda_a - 1).abs().argmin()
    m_dc, m_hc = mu[is_dc].abs().max().item(), mu[~is_dc].abs().max().item()
    star = mu.flatten()[mu.abs().argmax()]
    theta = (mu.abs().flatten().sort(descending=True).values[1] / star.abs()).item()
    regime = "smoothing" if m_dc > m_hc * (1 + 1e-9) else "sharpening" if m_hc > m_dc * (1 + 1e-9) else "neither"
    return complex(star), theta, m_dc, m_hc, regime
''',
    # The disc is scaled by alpha instead of 1/alpha.
    "ex-which-scaled-residual": '''
def scaled_sharpening_disc(attention_min, alpha):
    radius = alpha / (1 + attention_min)
    return -radius, radius
''',
    # Sign error in the imaginary part: the centre of the disc is reflected in the real axis.
    "ex-which-apollonius": '''
def apollonius_centre(a, b):
    k = 1 - a**2 - b**2
    return -(1 - a) / k, b / k
''',
    # The attention spectrum is treated as real (its imaginary parts dropped), as in the phase lemma.
    "ex-which-complex-phase": '''
def predicted_regimes(attention, points):
    lambda_a = torch.linalg.eigvals(attention).real.to(torch.complex128)
    pair = torch.stack([points, points.conj()], dim=-1)
    perron = ovs.spectrum.perron_index(lambda_a).expand(len(points))
    mode = ovs.spectrum.dominant_mode_from_spectra(lambda_a.expand(len(points), -1), pair, perron)
    return mode.regime, mode.hc_dc_rate
''',
    # The sign is dropped: the largest modulus of H's eigenvalues stands for its largest real eigenvalue.
    "ex-which-mixed-fraction": '''
def part_one_covers(attention, value_eigenvalues):
    second = torch.linalg.eigvals(attention).abs().sort(dim=-1, descending=True).values[..., 1]
    return value_eigenvalues.abs().amax(-1) > second * value_eigenvalues.abs().amax(-1)
''',
}
