r"""Audit a real Transformer: smoothing metrics per layer, the spectrum of its value-output matrices, which mode
of the fixed-attention update dominates on each input, and whether that prediction matches what the layer does.

For block :math:`\ell` and input :math:`b` the audit takes the model's own attention maps :math:`A_h` and

- the **head-averaged** map :math:`\bar A = \tfrac1h \sum_h A_h` with :math:`H = W_V W_O`;
- **each head** :math:`A_h` with :math:`H_h = W_V^{(h)} W_O^{(h)}` (rank :math:`d_h`, so 0 is an eigenvalue),

and asks which eigenvalue :math:`1 + \lambda^A_i \lambda^H_j` has the largest modulus
(:func:`oversmoothing.spectrum.dominant_mode_from_spectra`). The **effective** :math:`H` is the one the
residual stream sees: :math:`W_V W_O` for post-LN models (the LayerNorm gain is part of the stream, see
:class:`oversmoothing.adapters.LayerWeights`), and :math:`C\operatorname{diag}(\gamma) W_V W_O / \sigma_b`
for pre-LN models, with :math:`\sigma_b` the mean normalisation scale of input :math:`b`'s tokens. The
prediction ("smoothing" when the DC mode wins) is compared with the measured change of the HC/DC ratio
and of the mean cosine similarity across the attention sub-layer (stream before it to stream right after
its residual add) and across the whole block.

Padding never enters: inputs are grouped by length (:func:`oversmoothing.adapters.group_by_length`), so
every batch has only real tokens and every metric is computed per sequence over its own tokens.

The package's modules: :mod:`~oversmoothing.audit.driver` (:func:`audit`),
:mod:`~oversmoothing.audit.analysis` (the maths and the per-block tables) and
:mod:`~oversmoothing.audit.report` (:class:`AuditReport`); its figures are in :mod:`oversmoothing.plotting`.
"""

from .analysis import MEASURED_CHANGES, iterate_heads, layer_spectra
from .driver import audit
from .report import AuditReport

__all__ = ["MEASURED_CHANGES", "AuditReport", "audit", "iterate_heads", "layer_spectra"]
