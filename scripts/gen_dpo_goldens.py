#!/usr/bin/env python3
"""Generate TRL parity goldens for the DPO-family losses (Sources/DPOTrainer/DPOLosses.swift).

What it writes
--------------
    Tests/DPOTrainerTests/Fixtures/dpo_goldens.json

Inputs are P = 8 fixed pairs of per-sequence log-probs (float32 values, drawn once with a
fixed seed): policy/reference log-probs SUMMED over the response tokens, and the response
lengths |y| (integers stored as floats). Every case runs Hugging Face TRL's OWN loss code on
them in float64 (so the goldens are the exact answer for the float32 inputs) and stores:

    losses            per-pair loss (P)
    loss              mean over the pairs (what the trainer back-propagates)
    align_loss        the align `loss` kind the case checks (name is the case's own label)
    chosen_rewards    per-pair rewards as TRL reports them (P)
    rejected_rewards
    grad_policy_chosen    d loss / d policy_chosen_logps (torch autograd, float64), (P)
    grad_policy_rejected  d loss / d policy_rejected_logps
    metrics           TRL's logged metrics for the whole batch (rewards/*, logps/*), where
                      the TRL code path computes them

Which TRL code
--------------
TRL 1.16 has no standalone `dpo_loss` any more: the DPO losses live inside
`trl.trainer.dpo_trainer.DPOTrainer._compute_loss(self, model, inputs, return_outputs)`.
We call that unbound method with a stub `self` carrying exactly the attributes it reads
(beta, loss_types, loss_weights, label_smoothing, f_divergence_type="reverse_kl",
ld_alpha=None, use_weighting=False, aux_loss_enabled=False, precompute_ref_logps=True,
accelerator with identity gather, _metrics, ...) and a fake `model` whose output carries
`log_probs` (per-token log-probs, zero outside the completion) that sum to the chosen
per-sequence values. Reference log-probs are passed as `ref_chosen_logps` /
`ref_rejected_logps` (the precomputed path). `completion_mask` marks |y| tokens per row,
which is what TRL's IPO and sigmoid_norm divide by.
  * Per-pair losses and rewards: `_compute_loss` returns only the batch mean, so each pair is
    also run as a batch of one (its loss = the per-pair loss; its logged rewards/chosen =
    that pair's reward).
  * Batch loss, gradients and metrics: one call on all P pairs.

SimPO is `trl.experimental.cpo.cpo_trainer.CPOTrainer.cpo_loss(self, chosen, rejected)` with
`loss_type="simpo"`, called through `CPOTrainer.get_batch_loss_metrics` on a stub whose
`concatenated_forward` returns the per-token AVERAGE log-probs sum/|y| (CPOTrainer computes
its logps with `get_batch_logps(average_log_prob=True)` for simpo), `alpha=0` (no AlphaPO),
`cpo_alpha=0` (no NLL term).

Name mapping (align `loss` -> TRL)
----------------------------------
    sigmoid  -> DPOTrainer loss_type "sigmoid"          (label_smoothing = 0 only, see below)
    sigmoid (cDPO, label_smoothing > 0)
             -> CPOTrainer.cpo_loss loss_type "sigmoid" applied to the log-RATIOS
                rho_w, rho_l (its formula is -(1-e)logsig(b*x) - e*logsig(-b*x), x = rho_w - rho_l)
    robust   -> DPOTrainer loss_type "robust"
    hinge    -> DPOTrainer loss_type "hinge"
    ipo      -> DPOTrainer loss_type "ipo"
    ln_dpo   -> DPOTrainer loss_type "sigmoid_norm"      (same formula)
    simpo    -> CPOTrainer loss_type "simpo"
    dpop     -> NOT IN TRL (no DPOP/Smaug loss in TRL 1.16); tested by hand in the Swift tests.

Convention differences (ALGORITHMS.md is the contract; it wins)
---------------------------------------------------------------
* sigmoid + label smoothing: TRL 1.16's DPOTrainer "sigmoid" is -logsig(beta*Delta) and
  ignores label_smoothing (it is used only by robust, exo_pair and aot). ALGORITHMS.md's
  sigmoid is cDPO: -(1-e)logsig(beta*Delta) - e*logsig(-beta*Delta). The DPOTrainer sigmoid
  golden is therefore generated with e = 0 only; the e > 0 golden comes from CPOTrainer's
  sigmoid formula on the log-ratios (TRL code with exactly the cDPO formula).
* simpo: TRL's CPO applies label smoothing to simpo too; ALGORITHMS.md (and align's config)
  do not, so the golden uses e = 0.
* ipo: both divide the log-ratios by |y| (TRL clamps |y| at >= 1, as align does). Agree.
* Rewards: TRL reports beta*rho (also for ipo and sigmoid_norm, unnormalised) and, for
  simpo, beta*logpi/|y|. Agree.

Run
---
    bash scripts/run-python.sh trl scripts/gen_dpo_goldens.py

from the repository root (the pinned 'trl' environment, scripts/requirements/trl.txt: torch 2.13 CPU
and TRL 1.16.0).
Deterministic for given versions. Python is not needed at Swift test time.
"""

import json
import math
import os
import sys
import types
import warnings
from collections import defaultdict

import torch

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import trl  # noqa: E402
from trl.experimental.cpo.cpo_trainer import CPOTrainer  # noqa: E402
from trl.trainer.dpo_trainer import DPOTrainer  # noqa: E402

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_PATH = os.path.join(REPO_ROOT, "Tests", "DPOTrainerTests", "Fixtures", "dpo_goldens.json")

torch.set_num_threads(1)
P = 8
PROMPT_LEN = 3


# ----------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------

def make_inputs():
    """Fixed float32 pairs. Summed log-probs in [-60, -4]; the reference is the policy moved
    by N(0, 3) so that beta*Delta spans both sides of the hinge at beta = 0.5, and rho_w has
    both signs."""
    g = torch.Generator().manual_seed(20240611)
    chosen_len = torch.randint(1, 25, (P,), generator=g).to(torch.float32)
    rejected_len = torch.randint(1, 25, (P,), generator=g).to(torch.float32)
    # roughly -1.2 nats per token plus noise, never above -0.5
    pc = -(chosen_len * (0.6 + 1.2 * torch.rand(P, generator=g)) + 0.5)
    pr = -(rejected_len * (0.6 + 1.2 * torch.rand(P, generator=g)) + 0.5)
    rc = pc - 3.0 * torch.randn(P, generator=g)
    rr = pr - 3.0 * torch.randn(P, generator=g)
    f32 = lambda t: t.to(torch.float32)
    return {
        "policy_chosen": f32(pc), "policy_rejected": f32(pr),
        "reference_chosen": f32(rc), "reference_rejected": f32(rr),
        "chosen_length": f32(chosen_len), "rejected_length": f32(rejected_len),
    }


def f64(t, requires_grad=False):
    out = t.detach().to(torch.float64).clone()
    if requires_grad:
        out.requires_grad_(True)
    return out


def floats(t):
    data = [float(v) for v in t.detach().to(torch.float64).reshape(-1).tolist()]
    for v in data:
        if not math.isfinite(v):
            raise ValueError("non-finite value in golden array")
    return data


def scalar(v):
    v = float(v.detach().item()) if torch.is_tensor(v) else float(v)
    if not math.isfinite(v):
        raise ValueError("non-finite scalar")
    return v


# ----------------------------------------------------------------------------
# TRL DPOTrainer._compute_loss through a stub
# ----------------------------------------------------------------------------

_ACCELERATOR = types.SimpleNamespace(
    device=torch.device("cpu"),
    gather=lambda x: x,
    gather_for_metrics=lambda x: x,
)


def dpo_stub(loss_type, beta, label_smoothing):
    """A stand-in for a DPOTrainer carrying every attribute `_compute_loss` reads."""
    return types.SimpleNamespace(
        model=types.SimpleNamespace(training=True),
        accelerator=_ACCELERATOR,
        aux_loss_enabled=False,
        ld_alpha=None,
        precompute_ref_logps=True,
        f_divergence_type="reverse_kl",
        f_alpha_divergence_coef=0.5,
        loss_types=[loss_type],
        loss_weights=[1.0],
        beta=beta,
        label_smoothing=label_smoothing,
        use_weighting=False,
        args=types.SimpleNamespace(discopop_tau=0.05, gradient_checkpointing_kwargs=None),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        _total_train_tokens=0,
        _tp_size=1,
    )


def dpo_batch(pc, pr, rc, rr, lc, lr):
    """Model inputs + a fake model for a batch [chosen rows; rejected rows].

    Row i has PROMPT_LEN prompt tokens, then |y_i| completion tokens, then right padding.
    The fake model's per-token log-probs (aligned with the shifted completion mask, zero
    elsewhere) are the summed value spread evenly over the completion tokens, so
    `per_token_logps.sum(dim=1)` in TRL recovers the sequence log-prob, and the autograd
    gradient w.r.t. the leaf is d loss / d logpi(y)."""
    logps = torch.cat([pc, pr])  # (2P), leaves or functions of leaves
    lengths = torch.cat([lc, lr]).to(torch.int64)
    n = logps.shape[0]
    T = PROMPT_LEN + int(lengths.max())
    completion_mask = torch.zeros(n, T, dtype=torch.int64)
    attention_mask = torch.zeros(n, T, dtype=torch.int64)
    for i in range(n):
        completion_mask[i, PROMPT_LEN:PROMPT_LEN + lengths[i]] = 1
        attention_mask[i, :PROMPT_LEN + lengths[i]] = 1
    input_ids = torch.arange(n * T).reshape(n, T) % 50 + 1
    shift_mask = completion_mask[:, 1:].to(torch.float64)
    weights = shift_mask / shift_mask.sum(dim=1, keepdim=True)

    def model(**kwargs):
        assert kwargs["fused_lm_head"] is True
        per_token = logps[:, None] * weights
        return types.SimpleNamespace(
            log_probs=per_token,
            entropy=torch.zeros(n, T - 1, dtype=torch.float64),
            mean_logits=torch.zeros(n, T - 1, dtype=torch.float64),
            is_top1=torch.zeros(n, T - 1, dtype=torch.bool),
        )

    inputs = {
        "input_ids": input_ids,
        "attention_mask": attention_mask,
        "completion_mask": completion_mask,
        "ref_chosen_logps": rc,
        "ref_rejected_logps": rr,
    }
    return model, inputs


def run_dpo(loss_type, beta, label_smoothing, x):
    """(batch loss, grads, metrics, per-pair losses, per-pair rewards) from TRL's DPOTrainer."""
    pc = f64(x["policy_chosen"], True)
    pr = f64(x["policy_rejected"], True)
    rc, rr = f64(x["reference_chosen"]), f64(x["reference_rejected"])
    lc, lr = x["chosen_length"], x["rejected_length"]

    stub = dpo_stub(loss_type, beta, label_smoothing)
    model, inputs = dpo_batch(pc, pr, rc, rr, lc, lr)
    loss = DPOTrainer._compute_loss(stub, model, inputs, return_outputs=False)
    gc, gr = torch.autograd.grad(loss, [pc, pr])
    metrics = {k: float(v[-1]) for k, v in stub._metrics["train"].items()
               if k.startswith("rewards/") or k.startswith("logps/")}

    losses, rw, rl = [], [], []
    for i in range(P):
        s = dpo_stub(loss_type, beta, label_smoothing)
        sl = slice(i, i + 1)
        m, inp = dpo_batch(pc[sl].detach(), pr[sl].detach(), rc[sl], rr[sl], lc[sl], lr[sl])
        losses.append(scalar(DPOTrainer._compute_loss(s, m, inp, return_outputs=False)))
        rw.append(s._metrics["train"]["rewards/chosen"][-1])
        rl.append(s._metrics["train"]["rewards/rejected"][-1])
    assert abs(sum(losses) / P - scalar(loss)) < 1e-12
    return {
        "losses": losses, "loss": scalar(loss),
        "chosen_rewards": rw, "rejected_rewards": rl,
        "grad_policy_chosen": floats(gc), "grad_policy_rejected": floats(gr),
        "metrics": metrics,
    }


# ----------------------------------------------------------------------------
# TRL CPOTrainer.cpo_loss / get_batch_loss_metrics through a stub
# ----------------------------------------------------------------------------

class CPOStub:
    """A stand-in for a CPOTrainer: TRL's own cpo_loss and get_batch_loss_metrics, with
    `concatenated_forward` replaced by the given per-sequence values."""

    cpo_loss = CPOTrainer.cpo_loss
    get_batch_loss_metrics = CPOTrainer.get_batch_loss_metrics

    def __init__(self, loss_type, beta, label_smoothing, simpo_gamma, chosen, rejected):
        self.loss_type = loss_type
        self.beta = beta
        self.label_smoothing = label_smoothing
        self.simpo_gamma = simpo_gamma
        self.alpha = 0.0          # no AlphaPO reward transform
        self.cpo_alpha = 0.0      # no NLL term
        self.aux_loss_enabled = False
        self.accelerator = _ACCELERATOR
        self._values = (chosen, rejected)

    def concatenated_forward(self, model, batch):
        chosen, rejected = self._values
        z = torch.zeros(1, dtype=torch.float64)
        return chosen, rejected, z, z, torch.tensor(0.0, dtype=torch.float64)


def run_cpo(loss_type, beta, label_smoothing, simpo_gamma, x, on):
    """`on="average"`: CPO's simpo inputs, logpi/|y| (get_batch_logps(average_log_prob=True)).
    `on="logratio"`: rho = logpi - logpi_ref (CPO's sigmoid formula as cDPO)."""
    pc = f64(x["policy_chosen"], True)
    pr = f64(x["policy_rejected"], True)
    if on == "average":
        chosen = pc / f64(x["chosen_length"]).clamp(min=1.0)
        rejected = pr / f64(x["rejected_length"]).clamp(min=1.0)
    else:
        chosen = pc - f64(x["reference_chosen"])
        rejected = pr - f64(x["reference_rejected"])
    stub = CPOStub(loss_type, beta, label_smoothing, simpo_gamma, chosen, rejected)
    losses, rw, rl = stub.cpo_loss(chosen, rejected)
    loss, metrics = stub.get_batch_loss_metrics(None, {}, train_eval="train")
    assert abs(scalar(losses.mean()) - scalar(loss)) < 1e-12
    gc, gr = torch.autograd.grad(loss, [pc, pr])
    out = {
        "losses": floats(losses), "loss": scalar(loss),
        "chosen_rewards": floats(rw), "rejected_rewards": floats(rl),
        "grad_policy_chosen": floats(gc), "grad_policy_rejected": floats(gr),
    }
    if on == "average":
        # CPO's logps/* are the per-token averages for simpo (its rewards are beta * those).
        out["metrics"] = {k: float(v) for k, v in metrics.items()
                          if k.startswith("rewards/") or k.startswith("logps/")}
    return out


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------

def case(name, loss, beta, trl_function, trl_loss_type, result, label_smoothing=0.0,
         simpo_gamma=0.0, note=None):
    c = {
        "name": name,
        "align_loss": loss,
        "beta": beta,
        "label_smoothing": label_smoothing,
        "simpo_gamma": simpo_gamma,
        "trl_function": trl_function,
        "trl_loss_type": trl_loss_type,
    }
    if note:
        c["note"] = note
    assert not set(c) & set(result)
    c.update(result)
    return c


def main():
    x = make_inputs()
    rho_w = x["policy_chosen"].double() - x["reference_chosen"].double()
    rho_l = x["policy_rejected"].double() - x["reference_rejected"].double()
    z = 0.5 * (rho_w - rho_l)
    # the hinge case (beta 0.5) has pairs on both sides of the hinge, none near the kink;
    # rho_w has both signs
    assert (z > 1.05).any() and (z < 0.95).any() and ((z - 1).abs() > 0.05).all(), z
    assert (rho_w > 0).any() and (rho_w < 0).any(), rho_w

    DPO = "trl.trainer.dpo_trainer.DPOTrainer._compute_loss"
    CPO = "trl.experimental.cpo.cpo_trainer.CPOTrainer.cpo_loss (via get_batch_loss_metrics)"
    cases = [
        case("sigmoid", "sigmoid", 0.1, DPO, "sigmoid", run_dpo("sigmoid", 0.1, 0.0, x)),
        case("sigmoid_cdpo", "sigmoid", 0.1, CPO, "sigmoid", run_cpo("sigmoid", 0.1, 0.2, 0.0, x, "logratio"),
             label_smoothing=0.2,
             note="TRL 1.16's DPOTrainer sigmoid ignores label_smoothing; ALGORITHMS.md's cDPO formula "
                  "-(1-e)logsig(b*D) - e*logsig(-b*D) is TRL's CPO sigmoid formula applied to the log-ratios "
                  "rho_w, rho_l (CPO's inputs are rho here, so its rewards are beta*rho as in DPO)."),
        case("robust", "robust", 0.1, DPO, "robust", run_dpo("robust", 0.1, 0.1, x), label_smoothing=0.1),
        case("hinge", "hinge", 0.5, DPO, "hinge", run_dpo("hinge", 0.5, 0.0, x)),
        case("ipo", "ipo", 0.1, DPO, "ipo", run_dpo("ipo", 0.1, 0.0, x),
             note="TRL divides the log-ratios by the completion length clamped >= 1 before squaring, "
                  "as ALGORITHMS.md (per-token means)."),
        case("ln_dpo", "ln_dpo", 0.1, DPO, "sigmoid_norm", run_dpo("sigmoid_norm", 0.1, 0.0, x),
             note="TRL calls the length-normalised DPO loss 'sigmoid_norm'."),
        case("simpo", "simpo", 2.0, CPO, "simpo", run_cpo("simpo", 2.0, 0.0, 0.5, x, "average"),
             simpo_gamma=0.5,
             note="CPO's inputs are per-token average log-probs logpi/|y|; rewards and logps/* metrics "
                  "are beta*average and the averages. Gradients are w.r.t. the SUMMED log-probs."),
    ]

    goldens = {
        "generator": "scripts/gen_dpo_goldens.py",
        "trl_version": trl.__version__,
        "torch_version": torch.__version__,
        "pairs": P,
        "inputs": {k: floats(v) for k, v in x.items()},
        "cases": cases,
        "not_in_trl": {
            "dpop": "TRL 1.16 has no DPOP (Smaug) loss; align tests it by hand only.",
        },
        "differences": {
            "sigmoid": "TRL 1.16 DPOTrainer 'sigmoid' has no label smoothing; align (ALGORITHMS.md) "
                       "uses cDPO. Compared with DPOTrainer at label_smoothing 0 and with CPOTrainer's "
                       "sigmoid formula (on log-ratios) at label_smoothing 0.2.",
            "simpo": "TRL's CPO applies label_smoothing to simpo; align does not (config rejects it). "
                     "Compared at label_smoothing 0.",
        },
    }
    text = json.dumps(goldens, indent=1)
    assert json.loads(text) == goldens
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(OUT_PATH, REPO_ROOT)} ({len(text) + 1} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
