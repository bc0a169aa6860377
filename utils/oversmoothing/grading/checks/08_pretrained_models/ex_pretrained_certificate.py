"""Checks of exercise ex-pretrained-certificate: ``dc_and_certified(lam_a, lam_h)``, from the spectra of row-stochastic
attention maps and value-output matrices, whether a DC mode dominates X -> X + AXH and whether the certificate
max_j |1 + lambda^H_j| > 1 + r_2 max_j |lambda^H_j| holds."""

import torch
from otter.test_files import test_case

import oversmoothing as ovs

OK_FORMAT = False
name = "ex_pretrained_certificate"
points = 3


def _answer(dc_and_certified, lam_a, lam_h):
    result = dc_and_certified(lam_a.to(torch.complex128), lam_h.to(torch.complex128))
    assert len(result) == 2, f"dc_and_certified returns two bool tensors (is_dc, certified), got {result!r}"
    return tuple(torch.as_tensor(part).bool() for part in result)


@test_case(hidden=False)
def the_worked_examples(dc_and_certified):
    lam_a = torch.tensor([1.0, 0.5])
    is_dc, certified = _answer(dc_and_certified, lam_a, torch.tensor([0.2, -1.8]))   # exercise (a)
    assert bool(is_dc) and not bool(certified), ("A with eigenvalues 1, 1/2 and H with 0.2, -1.8: the DC mode dominates "
                                                 f"(1.2 > 1.1) but 1.2 < 1 + 1.8/2, no certificate; got {is_dc}, {certified}")
    is_dc, certified = _answer(dc_and_certified, lam_a, torch.tensor([1.2, -0.3 + 0.4j, -0.3 - 0.4j]))
    assert bool(is_dc) and bool(certified), ("H with eigenvalues 1.2, -0.3 +- 0.4i: 2.2 > 1 + 1.2/2, certified DC, "
                                             f"got {is_dc}, {certified}")


@test_case(hidden=True)
def sharpening_is_never_certified(dc_and_certified):
    is_dc, certified = _answer(dc_and_certified, torch.tensor([1.0, -0.5]), torch.tensor([0.3, -1.5]))
    assert not bool(is_dc) and not bool(certified), ("eigenvalues 1, -1/2 and 0.3, -1.5: the HC mode 1.75 beats "
                                                     f"1.3, neither DC nor certified; got {is_dc}, {certified}")


@test_case(hidden=True)
def a_batch_of_maps(dc_and_certified):
    generator = torch.Generator().manual_seed(3)
    attention = (3 * torch.randn(40, 5, 5, generator=generator, dtype=torch.float64)).softmax(dim=-1)
    value_output = 1.5 * torch.randn(40, 4, 4, generator=generator, dtype=torch.float64)
    lam_a, lam_h = torch.linalg.eigvals(attention), torch.linalg.eigvals(value_output)
    is_dc, certified = _answer(dc_and_certified, lam_a, lam_h)
    assert is_dc.shape == certified.shape == (40,), f"40 maps give shape (40,), got {tuple(is_dc.shape)}, {tuple(certified.shape)}"
    expected_dc = ovs.spectrum.dominant_mode(attention, value_output).is_dc
    moduli = lam_a.abs().sort(dim=-1, descending=True).values          # the Perron eigenvalue 1 comes first
    bound = 1 + moduli[:, 1] * lam_h.abs().amax(-1)
    expected_certified = (1 + lam_h).abs().amax(-1) > bound
    assert torch.equal(is_dc, expected_dc), f"is_dc: expected {expected_dc.int().tolist()}, got {is_dc.int().tolist()}"
    assert torch.equal(certified, expected_certified), (f"certified: expected {expected_certified.int().tolist()}, "
                                                        f"got {certified.int().tolist()}")
