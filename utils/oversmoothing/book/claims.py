r"""The book's claims in one registry (chapter 11's table): each names its chapter, the cell that shows it,
the formal results behind it and the strength of its evidence (:data:`STATUSES`). The cheap ones carry a
check that chapter 11 runs again on fresh random draws (:func:`fresh_draws`, :func:`run_checks`).

A claim's ``chapter``, ``target`` and ``results`` are labels of the book's pages: a chapter label
(``ch-...``), the ``(claim-...)=`` target of the cell that shows it, and the ``:label:`` of each theorem,
lemma or proposition; ``tests/book/test_course_kit.py`` checks that every one exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import torch

import oversmoothing as ovs
from oversmoothing.spectrum import dominant_mode, update_eigenvalues

__all__ = ["CLAIMS", "STATUSES", "Claim", "Draws", "fresh_draws", "run_checks", "same_multiset"]

STATUSES: tuple[str, ...] = ("proved", "shown by simulation", "shown on real models", "not tested at this scale",
                             "not reproduced")
"""The strength of a claim's evidence: a theorem with a proof (checked in SymPy or numerically in its
chapter), a PyTorch experiment that asserts it, or a measurement on a pretrained checkpoint; or none yet:
a claim about models far larger than the book trains (its chapter measures the small-scale analogue and says
what it found), or one that needs weights the book cannot load offline (its ``reproduce`` command checks it)."""


@dataclass(frozen=True)
class Draws:
    """Fresh random inputs for the checks: ``batch`` softmax attention matrices ``A`` ``(batch, n, n)``,
    tokens ``X`` ``(batch, n, d)``, value-output maps ``H_any`` (Gaussian), ``H_positive`` and ``H_negative``
    (spectra in ``(0, 1]`` and ``[-1, 0)``), LayerNorm ``gains`` of mixed signs ``(batch, d)`` and the moduli
    of the eigenvalues of ``A``, largest first ``(batch, n)``; all float64."""

    batch: int
    n: int
    d: int
    A: torch.Tensor
    X: torch.Tensor
    H_any: torch.Tensor
    H_positive: torch.Tensor
    H_negative: torch.Tensor
    gains: torch.Tensor
    moduli: torch.Tensor


def fresh_draws(seed: int = 11, batch: int = 64, n: int = 6, d: int = 4) -> Draws:
    """The :class:`Draws` of ``seed`` (every random number generator of the process is seeded)."""
    generator = ovs.seed_everything(seed)
    A = ovs.generators.softmax_attention(n, batch=(batch,), generator=generator)
    X = torch.randn(batch, n, d, generator=generator, dtype=torch.float64)
    H_any = torch.randn(batch, d, d, generator=generator, dtype=torch.float64) / 2
    unit_interval = 1 - torch.rand(batch, d, generator=generator, dtype=torch.float64)   # in (0, 1]
    H_positive = ovs.generators.value_output_from_spectrum(unit_interval, generator=generator)
    H_negative = ovs.generators.value_output_from_spectrum(-unit_interval, generator=generator)
    gains = torch.randn(batch, d, generator=generator, dtype=torch.float64)
    moduli = torch.linalg.eigvals(A).abs().sort(dim=-1, descending=True).values
    return Draws(batch, n, d, A, X, H_any, H_positive, H_negative, gains, moduli)


def same_multiset(u: torch.Tensor, v: torch.Tensor, tolerance: float = 1e-9) -> bool:
    """Whether every entry of ``u`` (shape ``(..., k)``) is within ``tolerance`` of an entry of ``v``
    (``(..., m)``), in every batch element: the eigenvalue sets agree."""
    return bool((u[..., :, None] - v[..., None, :]).abs().amin(-1).max() < tolerance)


class Claim(NamedTuple):
    """One claim of the book and where it is shown."""

    statement: str
    chapter: str                    # label of the chapter
    target: str                     # label of the cell (or section) that shows it
    results: tuple[str, ...]        # labels of the formal results
    status: str                     # one of STATUSES
    check: Callable[[Draws], bool] | None = None
    reproduce: str = ""             # the command that checks a claim "not reproduced" here


CLAIMS: tuple[Claim, ...] = (
    Claim(r"The mean pairwise cosine similarity is $(\lVert \sum_i \hat x_i \rVert^2 - n)/(n(n-1))$: it costs $O(nd)$, not $O(n^2 d)$.",
          "ch-measuring", "claim-cosine-identity", ("lem-cosine-identity",), "proved",
          lambda w: torch.allclose(ovs.mean_cosine_similarity(w.X),
                                 (ovs.cosine_similarity_matrix(w.X).sum((-2, -1)) - w.n) / (w.n * (w.n - 1)))),
    Claim("Consensus implies rank one, and so does a mean cosine near one; the converses fail.",
          "ch-measuring", "claim-metric-relations", ("prop-metric-relations",), "proved",
          lambda w: bool((ovs.rank_one_residual(w.X) <= ovs.consensus_distance(w.X) + 1e-12).all())),
    Claim("At initialisation, a deep Transformer without residual connections collapses within a few layers; "
          "with residual connections and pre-LN it does not; with post-LN it still smooths.",
          "ch-measuring", "claim-init-depth", (), "shown by simulation"),
    Claim(r"Softmax attention has the simple eigenvalue 1 with eigenvector $\mathbf 1$, every other eigenvalue has "
          r"modulus below one, and $A^t \to \mathbf 1 \pi^\top$.",
          "ch-low-pass", "claim-perron", ("thm-perron-stochastic",), "proved",
          lambda w: bool((w.moduli[:, 0] - 1).abs().max() < 1e-12 and (w.moduli[:, 1] < 1).all())),
    Claim(r"Attention alone is a low-pass filter: the HC/DC ratio of $A^t X$ decays like $\lvert\lambda_2(A)\rvert^t$.",
          "ch-low-pass", "claim-low-pass", ("thm-attention-low-pass",), "proved",
          lambda w: bool((ovs.hc_dc_ratio(torch.linalg.matrix_power(w.A, 60) @ w.X) < 1e-3 * ovs.hc_dc_ratio(w.X)).all())),
    Claim("A higher softmax temperature raises a lower bound on the spectral gap.",
          "ch-low-pass", "claim-temperature", ("prop-ergodicity-bound", "prop-temperature-gap"), "proved"),
    Claim(r"AttnScale multiplies the HC component of the attention output by $1 + \omega$; FeatScale multiplies the "
          r"HC/DC ratio by $\lvert 1 + s_{HC}\rvert / \lvert 1 + s_{DC}\rvert$.",
          "ch-low-pass", "claim-attnscale", ("prop-attnscale", "prop-featscale"), "proved"),
    Claim(r"Without a residual connection every $H$ smooths: the Perron mode wins, and the HC/DC ratio decays at the "
          r"rate $\lvert\lambda_2(A)\rvert$.",
          "ch-rank-collapse", "claim-no-residual", ("thm-no-residual-smoothing", "cor-sharpening-needs-residual"),
          "proved", lambda w: bool((dominant_mode(w.A, w.H_any, residual=False).regime == "smoothing").all())),
    Claim("Pure attention recomputed from the tokens collapses faster than exponentially; skip connections stop it.",
          "ch-rank-collapse", "claim-dong", ("prop-quadratic-contraction",), "shown by simulation"),
    Claim(r"A residual attention layer is the linear map $I + H^\top \otimes A$ on $\operatorname{vec}(X)$, with the "
          r"eigenvalues $1 + \lambda^A_i \lambda^H_j$ and the eigen-matrices $v_i w_j^\top$.",
          "ch-linear-system", "claim-kronecker", ("lem-vec-kronecker", "lem-kronecker-spectrum", "prop-eigen-matrices"),
          "proved",
          lambda w: same_multiset(update_eigenvalues(w.A[:8], w.H_any[:8]).flatten(-2),
                                torch.linalg.eigvals(torch.eye(w.n * w.d, dtype=torch.float64)
                                                     + torch.stack([torch.kron(h.T.contiguous(), a) for a, h in zip(w.A[:8], w.H_any[:8])])))),
    Claim("Depth is power iteration: the normalised tokens converge to the dominant eigen-matrix, with the predicted "
          "mode and rate.",
          "ch-linear-system", "claim-power-iteration", ("thm-spectral-expansion", "thm-limit-object"), "proved"),
    Claim(r"The phase lemma: for attention with a real spectrum, the DC candidate wins its row exactly when "
          r"$\cos\theta > -r(1 + \lambda_{\min})/2$.",
          "ch-which-eigenvalue", "claim-phase-lemma", ("lem-phase", "thm-dominance"), "proved"),
    Claim(r"Over the plane of $\lambda^H$, the predicted regime is the simulated one wherever the simulation has "
          r"converged.",
          "ch-which-eigenvalue", "claim-phase-diagram", (), "shown by simulation"),
    Claim(r"Eigenvalues of $H$ in $[-1, 0)$ rule out smoothing for every attention matrix; a positive spectrum "
          r"forces it.",
          "ch-which-eigenvalue", "claim-sign-conditions", ("cor-negative-spectrum", "prop-positive-spectrum"), "proved",
          lambda w: bool((dominant_mode(w.A, w.H_negative).regime == "sharpening").all()
                       and (dominant_mode(w.A, w.H_positive).regime == "smoothing").all())),
    Claim(r"The bound $-1$ is sharp: eigenvalues of $H$ below $-1$ can smooth.",
          "ch-which-eigenvalue", "claim-tightness", ("prop-tightness",), "proved"),
    Claim("Oversmoothing is not inevitable: with the residual connection the HC/DC ratio of a sharpening model grows, "
          "at the predicted rate.",
          "ch-which-eigenvalue", "claim-not-inevitable", ("lem-hc-dynamics", "thm-not-inevitable"), "proved"),
    Claim(r"$H$ with a mixed spectrum usually smooths.",
          "ch-which-eigenvalue", "claim-mixed-spectra", (), "shown by simulation"),
    Claim("Input convergence implies angle convergence, which implies rank collapse; input convergence happens "
          r"exactly when the Perron mode dominates, and never when the spectrum of $H$ lies in $[-1, 0)$.",
          "ch-convergence", "sec-census", ("prop-convergence-implications", "thm-input-convergence", "cor-input-convergence-spectrum"),
          "proved"),
    Claim("Angle convergence is possible but not guaranteed: a dominant non-Perron mode splits the tokens into "
          "two antipodal clusters.",
          "ch-convergence", "sec-antipodal", ("thm-angle-convergence", "cor-unmasked-angle"), "proved"),
    Claim("Under a causal mask, tokens can align without becoming equal.",
          "ch-convergence", "sec-causal", ("prop-causal-angle",), "proved"),
    Claim(r"Rank collapse is likely but not required: a dominant complex pair of $\lambda^A$ and $\lambda^H$ gives "
          "a rank-two limit.",
          "ch-convergence", "sec-rank-two", ("thm-rank-collapse", "rem-rotating-rank-one"), "proved"),
    Claim(r"In a pre-LN block the spectrum that decides is that of $\mathrm{diag}(\gamma) H$; negating the gains "
          "negates it and swaps smoothing and sharpening.",
          "ch-layer-norm", "claim-gain-flip", ("lem-pre-ln-branch", "prop-gain-flip"), "proved",
          lambda w: same_multiset(torch.linalg.eigvals(-w.gains[..., :, None] * w.H_any),
                                -torch.linalg.eigvals(w.gains[..., :, None] * w.H_any))),
    Claim("The flip of the regime by the gains survives attention recomputed from the tokens at every layer.",
          "ch-layer-norm", "claim-recomputed", (), "shown by simulation"),
    Claim(r"For a symmetric positive definite $H$, $\mathrm{diag}(\gamma) H$ has as many negative eigenvalues as "
          r"$\gamma$ has negative entries; flipping all gains flips the regime, flipping a few does not.",
          "ch-layer-norm", "claim-gain-count", ("prop-gain-inertia",), "shown by simulation"),
    Claim("In post-LN the sign of the gains does not change any metric: the spectrum of $H$ decides.",
          "ch-layer-norm", "claim-post-ln", ("prop-post-ln-gain",), "proved"),
    Claim("MiniLM's mean cosine similarity grows at every layer.",
          "ch-pretrained", "claim-minilm-cosine", (), "shown on real models"),
    Claim(r"About half of the eigenvalues of $W_V W_O$ have a negative real part, in every layer of MiniLM.",
          "ch-pretrained", "claim-minilm-spectrum", (), "shown on real models"),
    Claim("Yet the DC mode dominates every MiniLM layer with head-averaged attention, and a certificate proves it.",
          "ch-pretrained", "claim-minilm-dominance", ("prop-multihead-dc-modes", "prop-dc-certificate"),
          "shown on real models"),
    Claim("The predicted regime agrees with the measured change of the HC/DC ratio and of the mean cosine across "
          "MiniLM's attention sub-layers in more than 95 % of the cases.",
          "ch-pretrained", "claim-minilm-prediction", (), "shown on real models"),
    Claim("Some pretrained Transformers become less smooth in their deeper layers (v3).",
          "ch-pretrained", "claim-pretrained-less-smooth", (), "not reproduced",
          reproduce="oversmoothing audit bert-base-uncased --out audit-bert"),
    Claim("In some layers of pretrained models a mode other than the DC mode dominates (v1, Table 1).",
          "ch-pretrained", "claim-pretrained-other-modes", (), "not reproduced",
          reproduce="oversmoothing audit google/vit-base-patch16-224 --out audit-vit"),
    Claim("In pretrained pre-LN models the sign of the LayerNorm gains changes the predicted regime of some "
          "layers (v3).",
          "ch-pretrained", "claim-pretrained-layer-norm", ("rem-gains-post-pre",), "not reproduced",
          reproduce="oversmoothing audit facebook/deit-small-patch16-224 --out audit-deit"),
    Claim(r"With $H = V_H \Lambda_H V_H^\top$, $V_H$ from a QR decomposition and $\Lambda_H = \pm\psi^2$ clipped, "
          "the spectrum of $H$ is real and stays in its interval through training; the layer-norm gains change "
          "its signs only where they are negative.",
          "ch-controlling-spectrum", "claim-trained-spectra", ("lem-spectral-parameterisation",), "proved"),
    Claim("In trained vision Transformers with layer norm and real attention, the last-layer mean cosine "
          "similarity is higher, and the HC/DC ratio lower, for smoothing than for sharpening models, in every seed.",
          "ch-controlling-spectrum", "claim-trained-smoothing", ("prop-spectral-guarantees",), "shown by simulation"),
    Claim("The paper's accuracy reports for image classification (v1: the sharpening model beats a prior fix with "
          "more layers, fewer data and corrupted data; v2: smoothing can generalise better) concern ViT-Ti on CIFAR "
          "and ImageNet; chapter 9 measures the small-scale analogue against each version separately.",
          "ch-controlling-spectrum", "claim-vision-accuracy", (), "not tested at this scale"),
    Claim("A Gaussian-initialised $W_V W_O$ already has an asymmetry close to $1/\\sqrt 2 \\approx 0.71$, the paper's "
          "end value; the fall during training that v1 reports (about 0.95 to 0.7) is not tested at this scale.",
          "ch-controlling-spectrum", "claim-asymmetry-training", ("prop-gaussian-asymmetry",), "not tested at this scale"),
    Claim(r"Under a causal mask the DC mode has right eigenvector $\mathbf 1$ and left eigenvector $e_1$: with a "
          "positive $H$ the tokens converge to a vector fixed by the first token alone.",
          "ch-language", "claim-causal-dc-limit", ("prop-causal-dc-mode",), "proved"),
    Claim(r"A causal multi-head layer is block triangular over tokens, with eigenvalues those of "
          r"$M_k = I + \sum_h (A_h)_{kk} H_h$; with one shared symmetric $H$, a positive spectrum always smooths "
          r"and a spectrum in $[-1, 0)$ never does.",
          "ch-language", "claim-causal-multihead", ("prop-causal-multihead-spectrum", "cor-causal-regimes"), "proved"),
    Claim("v2 reports that forcing either smoothing or sharpening hurts text generation (v3: masked-language "
          "pretraining on The Pile, then SuperGLUE); chapter 10 compares the validation loss of small character "
          "models against that report.",
          "ch-language", "claim-language-loss", (), "not tested at this scale"),
    Claim("In trained character models the last-layer mean cosine is higher for smoothing than for sharpening "
          "models, in every seed.",
          "ch-language", "claim-language-smoothing", ("cor-causal-regimes",), "shown by simulation"),
    Claim("The trained character models' spectra sit in their intervals, and the gains flip as many signs as "
          "they have negative entries.",
          "ch-language", "claim-language-spectra", (), "shown by simulation"),
    Claim("With the trained models' own attention, the DC block dominates in every analysed window for the "
          "smoothing model and in none for the sharpening model.",
          "ch-language", "claim-language-dominance", ("cor-causal-regimes",), "shown by simulation"),
)


def run_checks(claims: Iterable[Claim], draws: Draws) -> dict[str, bool]:
    """Run the check of every claim that has one on ``draws``; ``{target: True}`` for each.

    Raises:
        ValueError: a claim has a status not in :data:`STATUSES`, or two claims share a target.
        AssertionError: a check fails; the message names every failing claim's target.
    """
    claims = list(claims)
    unknown = [claim.target for claim in claims if claim.status not in STATUSES]
    if unknown:
        raise ValueError(f"claims with a status not in {STATUSES}: {unknown}")
    if len({claim.target for claim in claims}) != len(claims):
        raise ValueError("two claims point at the same cell")
    checked = {claim.target: bool(claim.check(draws)) for claim in claims if claim.check is not None}
    failing = [target for target, holds in checked.items() if not holds]
    if failing:
        raise AssertionError(f"claims that fail their check on these draws: {failing}")
    return checked
