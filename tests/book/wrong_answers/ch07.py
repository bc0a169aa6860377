WRONG = {
    # The congruence is taken the wrong way round: L diag(gamma) L^T is not similar to diag(gamma) H.
    "ex-layer-norm-sylvester": '''
def symmetric_similar(H, gain):
    L = H.cholesky()
    return L, L * sp.diag(*gain) * L.T
''',
    # The bias is not negated with the gains, so "both" compares the same stack as "only_gain".
    "ex-layer-norm-bias": '''
def flip_gaps(stack, inputs):
    W_Q, W_K, H, gain, bias = (p.detach() for p in (stack.query, stack.key, stack.value_output, stack.gain, stack.bias))
    with torch.no_grad():
        reference, only_gain, both = (
            ovs.models.RecomputedAttentionStack(W_Q, W_K, value_output, stack.depth, gain=g, bias=b)
            .forward_intermediates(inputs).hidden_states
            for g, b, value_output in [(gain, bias, -H), (-gain, bias, H), (-gain, bias, H)])
    return float((only_gain - reference).abs().max()), float((both - reference).abs().max())
''',
    # A sign error: the discriminant of x^2 - tr x + det is tr^2 - 4 det, not tr^2 + 4 det.
    "ex-layer-norm-two-gains": '''
def trace_det_discriminant(gamma1, gamma2, h11, h12, h22):
    gained = sp.diag(gamma1, gamma2) * sp.Matrix([[h11, h12], [h12, h22]])
    return gained.trace(), gained.det(), sp.expand(gained.trace() ** 2 + 4 * gained.det())
''',
    # The frozen prediction is made with H instead of H_eff = diag(gain) H, so the gains never enter it.
    "ex-layer-norm-threshold": '''
def final_cosine_and_prediction(stack, inputs, negative, seed):
    gain = torch.ones(stack.dim, dtype=torch.float64)
    gain[torch.randperm(stack.dim, generator=torch.Generator().manual_seed(seed))[:negative]] = -1
    flipped = ovs.models.RecomputedAttentionStack(stack.query.detach(), stack.key.detach(), stack.value_output.detach(),
                                                  stack.depth, gain=gain)
    with torch.no_grad():
        out = flipped.forward_intermediates(inputs, return_attention=True)
        predicted = ovs.spectrum.dominant_mode(out.attentions, flipped.value_output).regime_code == 0
    return float(ovs.mean_cosine_similarity(out.hidden_states[-1]).mean()), float(predicted.double().mean())
''',
}
