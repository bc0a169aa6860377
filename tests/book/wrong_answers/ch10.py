WRONG = {
    # The eigen-decomposition is put together in the wrong order, V^-1 D V instead of V D V^-1.
    "ex-language-uniform-causal": '''
def limit_of_powers(M, scale=1):
    t = sp.Symbol("t", positive=True)
    V_M, D_M = M.diagonalize()
    return V_M.inv() * D_M.applyfunc(lambda z: sp.limit((z / scale) ** t, t, sp.oo)) * V_M
''',
    # The two weights of token 2 are swapped: A = [[1, 0], [a, 1 - a]].
    "ex-language-two-tokens": '''
def two_token_state(a, lam, x1, x2, L):
    P, D = (sp.eye(2) + lam * sp.Matrix([[1, 0], [a, 1 - a]])).diagonalize()
    return P * D.applyfunc(lambda entry: entry**L) * P.inv() * sp.Matrix([x1, x2])
''',
    # The largest eigenvalue, not the largest modulus (the absolute value is dropped).
    "ex-language-symmetry": '''
def block_moduli(H, weights):
    M_1, M_2 = sp.eye(H.rows) + H, sp.eye(H.rows) + H * sp.diag(*weights)
    return tuple(max(M.eigenvals(), key=lambda v: float(sp.re(v))) for M in (M_1, M_2))
''',
    # Natural logarithms: nats per character, not bits.
    "ex-language-ngram": '''
def ngram_bits_per_char(train_ids, val_ids, vocab_size, order):
    def pairs(ids):
        context = torch.zeros(len(ids) - order + 1, dtype=torch.int64)
        for shift in range(order - 1):
            context = context * vocab_size + ids[shift:len(ids) - order + 1 + shift]
        return context, ids[order - 1:]

    context, following = pairs(train_ids)
    counts = torch.bincount(context * vocab_size + following, minlength=vocab_size**order).double()
    table = (counts.reshape(-1, vocab_size) + 1).log()
    table = table - (counts.reshape(-1, vocab_size) + 1).sum(dim=1, keepdim=True).log()
    context, following = pairs(val_ids)
    return float(-table[context, following].mean())
''',
}
