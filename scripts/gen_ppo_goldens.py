#!/usr/bin/env python3
"""Generate TRL parity goldens for the PPO-family math (align ppo: PPO, GRPO, RLOO).

What it writes
--------------
    Tests/PPOTrainerTests/Fixtures/ppo_goldens.json

Run `bash scripts/gen_ppo_goldens.sh` from the repository root: it makes three pinned virtual
environments (scripts/requirements/trl-ppo.txt, trl-grpo.txt, trl-legacy.txt), runs one part of
this script in each, and merges the parts:

    python gen_ppo_goldens.py ppo    PART.json   # TRL 1.12.0 (last TRL with trl.experimental.ppo)
    python gen_ppo_goldens.py grpo   PART.json   # TRL 1.16.0 (GRPOTrainer, RLOOTrainer)
    python gen_ppo_goldens.py legacy PART.json   # TRL 0.13.0 (last TRL with AdaptiveKLController)
    python3 gen_ppo_goldens.py merge PPO.json GRPO.json LEGACY.json   # no torch needed

All inputs are drawn once from fixed seeds as float32 values (so the Swift side can hold them
exactly) and every computation runs in float64. Floats are written with repr (shortest
round-trip). Tolerance intended for the Swift side (float32 arithmetic): relative 1e-5 with an
absolute floor of 1e-6 (1e-5 absolute for whitened values and advantages, which divide by a std).

How TRL's code is called
------------------------
Wherever TRL has a function, it is imported and called. Where the computation is inline in a
long trainer method, the lines are READ FROM THE INSTALLED TRL FILE at run time (between two
marker lines, see `trl_block`), dedented and executed in a namespace holding the inputs, so the
golden is TRL's own text, not a copy. The fixture records, for each such block, the file (relative
to site-packages) and the 1-based line range that was executed. Where a whole method can be
called (GRPOTrainer._compute_loss, RLOOTrainer._compute_loss) it is called on a stub `self`.

Line numbers in the pinned versions (as recorded in the fixture's `trl_source`):
  TRL 1.12.0, trl/experimental/ppo/ppo_trainer.py
      masked_mean 237-242, masked_var 245-261 (UNBIASED, Bessel n/(n-1) over the mask),
      masked_whiten 264-270 (rsqrt(var + 1e-8); shift_mean=False adds the mean back)
      rollout block: masks, INVALID_LOGPROB fill, KL, rewards, GAE, returns     762-796
                     whitened advantages + masked_fill                          797-798
      policy/value loss block (one micro-batch, from `logits = output.logits`)   821-868
      objective/* metrics 882-886; policy/*, loss/*, val/* logged metrics 897-904
  TRL 1.12.0, trl/trainer/utils.py: selective_log_softmax 480-524, entropy_from_logits 527-561
  TRL 1.12.0, trl/experimental/utils.py: first_true_indices 723-743
  TRL 1.16.0, trl/trainer/utils.py: nanstd 1021-1054 (unbiased: count/(count-1), line 1041)
  TRL 1.16.0, trl/trainer/grpo_trainer.py
      group advantages 2759-2810 (inside _generate_and_score_completions)
      _compute_loss 3020-3290 (called on a stub)
  TRL 1.16.0, trl/trainer/rloo_trainer.py
      leave-one-out advantages 1653-1699 (inside _generate_and_score_completions)
      _compute_loss 1794-1861 (called on a stub)
  TRL 0.13.0, trl/trainer/utils.py: AdaptiveKLController 66-81 (called)
(`trl_source` in the fixture is authoritative; it is recomputed on every run.)

Cases (keys of the fixture; shapes are [rows][tokens] unless said)
----------------------------------------------------------------
  whiten       masked_mean / masked_var / masked_whiten, shift_mean True and False
  ppo_rollout  TRL 1.12 PPO rollout math: padding masks from sequence_lengths, INVALID_LOGPROB
               fill, k1/k3 KL, non-score reward, score placement, optional reward whitening,
               GAE (advantages raw), returns, whitened advantages; objective/* metrics
  kl           per-token k1 / k3 and -kl_coef*kl, taken from the ppo_rollout runs
  ppo_loss     TRL 1.12 PPO micro-batch losses: new logprobs from logits/temperature,
               pg_loss, pg_clipfrac, approxkl, ratio mean, vf_loss, vf_clipfrac, entropy,
               gradients of pg_loss + vf_coef*vf_loss, and the logged */avg metrics over the
               micro-batches (val/ratio_var included)
  entropy      entropy_from_logits (and the PPO inline formula, identical)
  adaptive_kl  AdaptiveKLController(0.2, 6, 10000) over a sequence of updates
  grpo         GRPO group advantages (scale_rewards group, batch, none) + GRPOTrainer._compute_loss
               (default loss_type "dapo", and "grpo", "bnpo", "dr_grpo"; epsilon_high 0.28), beta 0 and 0.04, metrics, gradient w.r.t. per-token logps
  rloo         RLOO leave-one-out advantages (KL in the reward) + RLOOTrainer._compute_loss

Fixture schema (B = rows, T = response tokens, V = vocabulary; masks are 0/1 ints; PPO
masks follow TRL: padding_mask[b][t] = 1 where t > sequence_lengths[b], padding_mask_p1 = 1 where
t > sequence_lengths[b] + 1; null stands for NaN)
---------------------------------------------------------------------------------------------
  versions, tolerance, trl_source{part: {name: {file, lines[first,last]}}}, ppo_defaults,
  invalid_logprob (1.0), grpo_defaults, rloo_defaults
  whiten[]       name, values[B][T], mask[B][T] (1 = counted), shift_mean, masked_mean,
                 masked_var_unbiased, masked_var_biased, whitened[B][T] (every position is
                 transformed, masked ones too: (x - mean) * rsqrt(var_unbiased + 1e-8) [+ mean])
  ppo_rollout[]  name,
                 inputs{responses[B][T] token ids (pad 0, EOS 2), pad_token_id, eos_token_id,
                        sequence_lengths[B] (index of the last real token, EOS included),
                        logprobs[B][T], ref_logprobs[B][T] (raw, before any fill), values[B][T]
                        (raw critic outputs), scores[B], kl_estimator "k1"|"k3", kl_coef, gamma,
                        lam, whiten_rewards}
                 padding_mask[B][T], padding_mask_p1[B][T], response_mask (= 1 - padding_mask),
                 value_mask (= 1 - padding_mask_p1),
                 logprobs_filled, ref_logprobs_filled (1.0 where padding_mask), values_filled
                 (0 where padding_mask_p1), kl[B][T], non_score_reward[B][T] (= -kl_coef*kl),
                 score_index[B] (where the score was added), rewards[B][T] (non_score_reward +
                 score at score_index, then reward whitening if whiten_rewards),
                 advantages_raw[B][T] (GAE over all T positions), returns[B][T] (= advantages_raw
                 + values_filled), advantages[B][T] (masked_whiten over response_mask, then 0 at
                 padding), metrics{objective/kl, objective/entropy, objective/non_score_reward,
                 objective/rlhf_reward, objective/scores}
  kl[]           name, from_ppo_rollout, kl_estimator, kl_coef, logprobs, ref_logprobs (filled),
                 kl[B][T], non_score_reward[B][T]
  ppo_loss[]     name,
                 inputs{responses[B][T], sequence_lengths[B], logits[B][T][V] (the logits that
                        predict response token t), temperature, old_logprobs[B][T] (1.0 at
                        padding, as TRL stores them), advantages[B][T] (0 at padding),
                        old_values[B][T] (0 where padding_mask_p1), returns[B][T], vpred[B][T]
                        (raw value-head outputs), cliprange, cliprange_value, vf_coef}
                 padding_mask, padding_mask_p1,
                 microbatches[]{rows (indices into B, in order), and for those rows:
                        new_logprobs[b][T] (log_softmax(logits/(temperature+1e-7)) at the
                        response token, 1.0 at padding), ratio[b][T], pg_loss, pg_clipfrac,
                        approxkl, ratio_mean, vpred_filled[b][T], vf_loss, vf_clipfrac,
                        loss (= pg_loss + vf_coef*vf_loss), entropy[b][T], entropy_mean,
                        grad_logits[b][T][V] = d loss/d logits, grad_vpred[b][T] = d loss/d vpred}
                 metrics{policy/approxkl_avg, policy/clipfrac_avg, loss/policy_avg,
                        loss/value_avg, val/clipfrac_avg, policy/entropy_avg, val/ratio,
                        val/ratio_var} over the micro-batches (all in one PPO epoch)
  entropy[]      name, logits[B][T][V], entropy[B][T]
  adaptive_kl    init_kl_coef, target, horizon, updates[]{current_kl, n_steps, value_after}
                 (applied in order, starting from init_kl_coef), fixed_value_after_update
  grpo           num_prompts P, num_generations G (rows are prompt-major: row = p*G + g),
                 rewards[P*G], mean_grouped_rewards[P*G], std_rewards[P*G] (unbiased),
                 advantages[P*G] (scale_rewards "group"), is_std_zero[P*G],
                 advantages_scale_batch, advantages_scale_none, completion_mask[B][T],
                 per_token_logps, old_per_token_logps, ref_per_token_logps, entropies [B][T],
                 cases[]{name, loss_type, beta, epsilon_low, epsilon_high, num_items_in_batch,
                        loss, grad_logps[B][T] = d loss/d per_token_logps, metrics{kl (beta>0),
                        entropy, clip_ratio/low_mean, clip_ratio/high_mean,
                        clip_ratio/region_mean, clip_ratio/low_min, clip_ratio/high_max}}
  rloo           num_prompts, num_generations, rewards[P*G], completion_mask, per_token_logps,
                 old_per_token_logps, ref_per_token_logps, entropies [B][T],
                 cases[]{name, beta, normalize_advantages, epsilon_low, epsilon_high,
                        kl_per_sequence[B] (null when beta 0), rewards_with_kl[B], baselines[B],
                        advantages[B], old_logps[B], logps[B] (sums over the completion mask),
                        loss, grad_logps[B][T], metrics{entropy, clip_ratio/*}}

TRL conventions worth knowing (surprising ones first)
-----------------------------------------------------
* PPO score placement: the sequence score is added at index `sequence_lengths + 1`, i.e. ONE
  PAST the last real response token (the EOS): the first padding position, unless the response
  fills all T positions, then at T-1 (ppo_trainer.py 777-779, `actual_end`, line 778). The value at that
  first pad position is kept (values are zeroed only where idx > seq_len + 1, padding_mask_p1,
  768-769) and the value loss counts it (~padding_mask_p1, 837-839), but the policy loss and the
  advantage whitening do not (~padding_mask, 797, 846). ALGORITHMS.md puts r_seq on the EOS.
* `sequence_lengths` is the index of the last real token = first_true_indices(resp == pad) - 1
  (the EOS is kept by truncate_response); a response with no pad at all gets T-1.
* GAE runs over all T positions (padding included): at padding beyond seq_len+1 rewards and
  values are 0, and logprobs/ref_logprobs are both INVALID_LOGPROB = 1.0 there, so kl = 0.
  V_{T} = 0 (no bootstrap).
* Whitening (masked_whiten) uses the UNBIASED masked variance and rsqrt(var + 1e-8) (not
  std + eps); advantages are then zeroed at padding (masked_fill, 798). whiten_rewards uses
  shift_mean=False (the mean is added back) over ~padding_mask_p1.
* k1 = logp - ref_logp; k3 = (exp(logr) - 1) - logr with logr = ref_logp - logp (774).
* PPO logged metrics: `policy/approxkl_avg` is 0.5*mean((logp_new - logp_old)^2) over ALL
  T positions of the micro-batch, padding included (padding contributes 0 but counts in the
  denominator; 857). `val/ratio` is ratio.mean() over all positions too (ratio = 1 at padding,
  868). pg_clipfrac is masked (852-854). `policy/entropy_avg` is the unmasked mean of the
  per-token entropy of logits/temperature. `*_avg` metrics are means over the
  (ppo_epochs, minibatches, grad-accum) grid of micro-batch values; `val/ratio_var` is the
  UNBIASED variance over that grid (NaN with one micro-batch).
* PPO logits are divided by (temperature + 1e-7), not temperature (lines 622, 713, 822);
  PPOConfig's default temperature is 0.7, so TRL's logprobs are of the tempered distribution.
* GRPO (1.16): default loss_type is "dapo": sum(per_token_loss * mask) / num_items_in_batch,
  where num_items_in_batch is the number of completion tokens of the WHOLE generation batch
  (all processes, all steps_per_generation micro-steps; grpo_trainer.py 2498, 3168-3173) -- a
  token-level mean over the batch, not per sequence; with gradient accumulation each micro-batch
  loss is scaled by GA/steps_per_generation (1 by default). loss_type "grpo" is mean over sequences of the per-sequence token mean.
* GRPO group std is UNBIASED (trl.trainer.utils.nanstd, Bessel n/(n-1)); A = (r - mean) /
  (std + 1e-4); a group with equal rewards gets A = 0.
* GRPO KL (beta != 0) is k3 of the CURRENT policy vs the reference (not the old policy), added
  per token to the loss, and by default (use_bias_correction_kl=True) MULTIPLIED by the
  importance ratio exp(logp - logp_old) (line 3105) -- also in the logged `kl` metric.
* GRPO beta default 0.0; epsilon 0.2; epsilon_high defaults to epsilon.
* RLOO (1.16): beta default 0.05; KL is k1 of the OLD (sampling) policy vs the reference,
  summed over completion tokens, subtracted from the reward BEFORE the leave-one-out baseline:
  r_i' = r_i - beta * sum_t (logp_old - logp_ref). normalize_advantages default False (if True:
  whole-batch (A - mean)/(unbiased std + 1e-4)).
* RLOO loss is SEQUENCE-level: ratio = exp(sum_t logp - sum_t logp_old) per sequence, PPO clip
  on that, loss = mean over sequences. Its clip_ratio/* metrics are per-sequence means.
* Legacy AdaptiveKLController (0.13.0 utils.py 77-81): e = clip(kl/target - 1, -0.2, 0.2);
  value *= 1 + e*n_steps/horizon; n_steps is the number of samples (batch size) in the update.
  TRL 1.x's PPOTrainer has only a fixed kl_coef.
* Logged clip fractions are computed in float32 by TRL (`.float()`), e.g. 4/15 = 0.26666668.

Python is not needed at Swift test time.
"""

import json
import math
import os
import sys
import textwrap
import types
import warnings
from collections import defaultdict

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_PATH = os.path.join(REPO_ROOT, "Tests", "PPOTrainerTests", "Fixtures", "ppo_goldens.json")

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def site_relative(path):
    """A TRL file path relative to its site-packages (trl/...)."""
    i = path.rfind(os.sep + "trl" + os.sep)
    return path[i + 1:] if i >= 0 else path


def trl_block(path, start, end, start_after=None):
    """The dedented source lines of `path` from the first line containing `start` (searched after
    the first line containing `start_after`, if given) to the next line containing `end`,
    inclusive, and the 1-based (first, last) line numbers."""
    with open(path) as f:
        lines = f.read().split("\n")
    i0 = 0
    if start_after is not None:
        i0 = next(i for i, l in enumerate(lines) if start_after in l)
    a = next(i for i in range(i0, len(lines)) if start in lines[i])
    b = next(i for i in range(a, len(lines)) if end in lines[i])
    return textwrap.dedent("\n".join(lines[a:b + 1])), (a + 1, b + 1)


SOURCES = {}


def run_block(key, path, start, end, ns, start_after=None):
    """Execute TRL's own lines (see trl_block) in namespace `ns`; records where they came from."""
    code, (lo, hi) = trl_block(path, start, end, start_after)
    SOURCES[key] = {"file": site_relative(path), "lines": [lo, hi]}
    exec(compile(code, f"{path}:{lo}-{hi}", "exec"), ns)
    return ns


def cite(key, fn):
    """Record the file and line range of a TRL function or class."""
    import inspect
    src, lo = inspect.getsourcelines(fn)
    SOURCES[key] = {"file": site_relative(inspect.getsourcefile(fn)), "lines": [lo, lo + len(src) - 1]}


def num(v):
    import torch
    v = float(v.detach().item()) if torch.is_tensor(v) else float(v)
    return v


def arr(t):
    """Nested lists of floats (full precision); NaN is written as null."""
    import torch
    t = t.detach()
    if t.dtype == torch.bool:
        return t.to(torch.int64).tolist()
    if not t.is_floating_point():
        return t.tolist()
    out = t.to(torch.float64).tolist()

    def clean(x):
        if isinstance(x, list):
            return [clean(y) for y in x]
        return None if math.isnan(x) else x
    return clean(out)


def f32(g, shape, scale=1.0, shift=0.0):
    """float32 N(shift, scale) values as float64 (exact)."""
    import torch
    return (torch.randn(*shape, generator=g) * scale + shift).to(torch.float32).to(torch.float64)


def f32u(g, shape, lo, hi):
    import torch
    return (torch.rand(*shape, generator=g) * (hi - lo) + lo).to(torch.float32).to(torch.float64)


def metrics_of(d):
    return {k: (None if math.isnan(v[-1]) else float(v[-1])) for k, v in d.items()}


# ----------------------------------------------------------------------------
# part "ppo": TRL 1.12.0
# ----------------------------------------------------------------------------

PAD, EOS = 0, 2


def responses_with_eos(g, T, eos_at, vocab=11):
    """Token rows: random non-special tokens, EOS at eos_at[i] (None: no EOS, no padding), pad
    after it -- what truncate_response leaves."""
    import torch
    rows = []
    for e in eos_at:
        r = torch.randint(3, vocab, (T,), generator=g)
        if e is not None:
            r[e] = EOS
            r[e + 1:] = PAD
        rows.append(r)
    return torch.stack(rows)


def part_ppo():
    import torch
    import trl
    from trl.experimental.ppo import ppo_trainer as P
    from trl.experimental.utils import first_true_indices
    from trl.trainer.utils import entropy_from_logits, selective_log_softmax
    from trl.experimental.ppo.ppo_config import PPOConfig

    torch.set_num_threads(1)
    path = P.__file__
    cite("masked_mean", P.masked_mean)
    cite("masked_var", P.masked_var)
    cite("masked_whiten", P.masked_whiten)
    cite("first_true_indices", first_true_indices)
    cite("selective_log_softmax", selective_log_softmax)
    cite("entropy_from_logits", entropy_from_logits)
    defaults = PPOConfig.__dataclass_fields__
    ppo_defaults = {k: defaults[k].default for k in
                    ["temperature", "kl_coef", "kl_estimator", "cliprange", "vf_coef", "cliprange_value",
                     "gamma", "lam", "whiten_rewards", "num_ppo_epochs", "num_mini_batches"]}
    out = {"trl_version_ppo": trl.__version__, "torch_version": torch.__version__,
           "ppo_defaults": ppo_defaults, "invalid_logprob": P.INVALID_LOGPROB}

    # --- whiten -------------------------------------------------------------
    g = torch.Generator().manual_seed(101)
    whiten = []
    values = f32(g, (3, 6), 1.5, 0.7)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype=torch.bool)
    for shift in (True, False):
        whiten.append({
            "name": f"shift_mean_{str(shift).lower()}",
            "values": arr(values), "mask": arr(mask), "shift_mean": shift,
            "masked_mean": num(P.masked_mean(values, mask)),
            "masked_var_unbiased": num(P.masked_var(values, mask)),
            "masked_var_biased": num(P.masked_var(values, mask, unbiased=False)),
            "whitened": arr(P.masked_whiten(values, mask, shift_mean=shift)),
        })
    out["whiten"] = whiten

    # --- rollout: masks, KL, rewards, GAE ----------------------------------------
    def rollout(name, seed, T, eos_at, kl_estimator, kl_coef, gamma, lam, whiten_rewards):
        g = torch.Generator().manual_seed(seed)
        B = len(eos_at)
        responses = responses_with_eos(g, T, eos_at)
        sequence_lengths = first_true_indices(responses == PAD) - 1
        logprobs_in = -f32u(g, (B, T), 0.05, 3.0)
        ref_in = (logprobs_in + f32(g, (B, T), 0.4)).to(torch.float32).to(torch.float64)
        values_in = f32(g, (B, T), 1.0, 0.2)
        scores = f32(g, (B,), 2.0)
        args = types.SimpleNamespace(kl_estimator=kl_estimator, kl_coef=kl_coef, gamma=gamma, lam=lam,
                                     whiten_rewards=whiten_rewards)
        ns = {"torch": torch, "args": args, "responses": responses, "sequence_lengths": sequence_lengths,
              "logprobs": logprobs_in.clone(), "ref_logprobs": ref_in.clone(), "values": values_in.clone(),
              "scores": scores.clone(), "masked_whiten": P.masked_whiten, "INVALID_LOGPROB": P.INVALID_LOGPROB}
        run_block("ppo_rollout_to_returns", path, "# be very careful with `padding_mask_p1`",
                  "returns = advantages + values", ns)
        raw = ns["advantages"].clone()
        run_block("ppo_rollout_whiten_advantages", path, "advantages = masked_whiten(advantages, ~padding_mask)",
                  "advantages = torch.masked_fill(advantages, padding_mask, 0)", ns)
        ns_m = dict(ns)
        run_block("ppo_objective_metrics", path, "mean_kl = kl.sum(1).mean()",
                  "rlhf_reward = mean_non_score_reward + scores.mean()", ns_m)
        pm = ns["padding_mask"]
        score_index = ns["actual_end"]
        return {
            "name": name,
            "inputs": {
                "responses": arr(responses), "pad_token_id": PAD, "eos_token_id": EOS,
                "sequence_lengths": arr(sequence_lengths),
                "logprobs": arr(logprobs_in), "ref_logprobs": arr(ref_in), "values": arr(values_in),
                "scores": arr(scores),
                "kl_estimator": kl_estimator, "kl_coef": kl_coef, "gamma": gamma, "lam": lam,
                "whiten_rewards": whiten_rewards,
            },
            "padding_mask": arr(pm), "padding_mask_p1": arr(ns["padding_mask_p1"]),
            "response_mask": arr(~pm), "value_mask": arr(~ns["padding_mask_p1"]),
            "logprobs_filled": arr(ns["logprobs"]), "ref_logprobs_filled": arr(ns["ref_logprobs"]),
            "values_filled": arr(ns["values"]),
            "kl": arr(ns["kl"]), "non_score_reward": arr(ns["non_score_reward"]),
            "score_index": arr(score_index), "rewards": arr(ns["rewards"]),
            "advantages_raw": arr(raw), "returns": arr(ns["returns"]), "advantages": arr(ns["advantages"]),
            "metrics": {
                "objective/kl": num(ns_m["mean_kl"]), "objective/entropy": num(ns_m["mean_entropy"]),
                "objective/non_score_reward": num(ns_m["mean_non_score_reward"]),
                "objective/rlhf_reward": num(ns_m["rlhf_reward"]), "objective/scores": num(scores.mean()),
            },
        }

    out["ppo_rollout"] = [
        rollout("k1_gamma1_lam095", 201, 7, [3, None, 6, 0], "k1", 0.05, 1.0, 0.95, False),
        rollout("k3_gamma099_lam09", 202, 7, [4, 1, None, 5], "k3", 0.1, 0.99, 0.9, False),
        rollout("k1_whiten_rewards", 203, 5, [2, None, 3], "k1", 0.2, 0.95, 0.8, True),
    ]
    out["kl"] = [{
        "name": r["name"], "from_ppo_rollout": r["name"], "kl_estimator": r["inputs"]["kl_estimator"],
        "kl_coef": r["inputs"]["kl_coef"], "logprobs": r["logprobs_filled"], "ref_logprobs": r["ref_logprobs_filled"],
        "kl": r["kl"], "non_score_reward": r["non_score_reward"],
    } for r in out["ppo_rollout"][:2]]

    # --- policy / value loss (one PPO micro-batch at a time) ---------------------
    def ppo_loss(name, seed, T, V, eos_at, temperature, cliprange, cliprange_value, vf_coef, microbatches):
        g = torch.Generator().manual_seed(seed)
        B = len(eos_at)
        responses = responses_with_eos(g, T, eos_at, V)
        sequence_lengths = first_true_indices(responses == PAD) - 1
        idx = torch.arange(T).repeat(B, 1)
        padding_mask = idx > sequence_lengths.unsqueeze(1)
        padding_mask_p1 = idx > (sequence_lengths + 1).unsqueeze(1)
        logits_in = f32(g, (B, T, V), 1.5)
        with torch.no_grad():
            cur = selective_log_softmax(logits_in / (temperature + 1e-7), responses)
        # old logprobs: current ones moved by N(0, 0.25) so some ratios leave [1-eps, 1+eps]
        old = (cur + f32(g, (B, T), 0.25)).to(torch.float32).to(torch.float64)
        old = torch.masked_fill(old, padding_mask, P.INVALID_LOGPROB)  # as TRL stores them
        adv = torch.masked_fill(f32(g, (B, T), 1.0), padding_mask, 0)
        old_values = torch.masked_fill(f32(g, (B, T), 1.0), padding_mask_p1, 0)
        returns = f32(g, (B, T), 1.0)
        vpred_in = (old_values + f32(g, (B, T), 0.3)).to(torch.float32).to(torch.float64)

        S = (1, len(microbatches), 1)
        stats = {k: torch.zeros(S, dtype=torch.float64) for k in
                 ["approxkl_stats", "pg_clipfrac_stats", "pg_loss_stats", "vf_loss_stats", "vf_clipfrac_stats",
                  "entropy_stats", "ratio_stats"]}
        args = types.SimpleNamespace(temperature=temperature, cliprange=cliprange, cliprange_value=cliprange_value,
                                     vf_coef=vf_coef)
        mbs = []
        for mi, rows in enumerate(microbatches):
            rows_t = torch.tensor(rows)
            leaf_logits = logits_in[rows_t].clone().requires_grad_(True)
            leaf_vpred = vpred_in[rows_t].clone().requires_grad_(True)
            b = len(rows)
            # model output over [context (1 token) + response]: logits[:, c-1:-1] are the given ones
            full_logits = torch.cat([leaf_logits * 1.0, torch.zeros(b, 1, V, dtype=torch.float64)], dim=1)
            full_v = torch.cat([leaf_vpred, torch.zeros(b, 1, dtype=torch.float64)], dim=1).unsqueeze(-1)
            ns = {"torch": torch, "args": args, "output": types.SimpleNamespace(logits=full_logits),
                  "vpred_temp": full_v, "context_length": 1, "micro_batch_inds": rows_t,
                  "mb_responses": responses[rows_t], "mb_logprobs": old[rows_t], "mb_advantage": adv[rows_t],
                  "mb_values": old_values[rows_t], "mb_return": returns[rows_t],
                  "padding_mask": padding_mask, "padding_mask_p1": padding_mask_p1,
                  "selective_log_softmax": selective_log_softmax, "INVALID_LOGPROB": P.INVALID_LOGPROB,
                  "masked_mean": P.masked_mean,
                  "accelerator": types.SimpleNamespace(backward=lambda loss: loss.backward()),
                  "optimizer": types.SimpleNamespace(step=lambda: None, zero_grad=lambda: None),
                  "ppo_epoch_idx": 0, "minibatch_idx": mi, "gradient_accumulation_idx": 0, **stats}
            run_block("ppo_loss_microbatch", path, "logits = output.logits[:, context_length - 1 : -1]",
                      "ratio_stats[ppo_epoch_idx, minibatch_idx, gradient_accumulation_idx] = ratio.mean()", ns)
            ent_util = entropy_from_logits(ns["logits"].detach())
            assert torch.allclose(ent_util, ns["entropy"], atol=1e-12, rtol=1e-12)
            mbs.append({
                "rows": rows,
                "new_logprobs": arr(ns["new_logprobs"]), "ratio": arr(ns["ratio"]),
                "pg_loss": num(ns["pg_loss"]), "pg_clipfrac": num(ns["pg_clipfrac"]),
                "approxkl": num(ns["approxkl"]), "ratio_mean": num(ns["ratio"].mean()),
                "vpred_filled": arr(ns["vpred"]),
                "vf_loss": num(ns["vf_loss"]), "vf_clipfrac": num(ns["vf_clipfrac"]),
                "loss": num(ns["loss"]),
                "entropy": arr(ns["entropy"]), "entropy_mean": num(ns["entropy"].mean()),
                "grad_logits": arr(leaf_logits.grad), "grad_vpred": arr(leaf_vpred.grad),
            })
        self_stub = types.SimpleNamespace(accelerator=types.SimpleNamespace(gather_for_metrics=lambda x: x))
        ns = {"self": self_stub, "metrics": {}, **stats}
        run_block("ppo_logged_metrics", path, 'metrics["policy/approxkl_avg"]', 'metrics["val/ratio_var"]', ns)
        return {
            "name": name,
            "inputs": {
                "responses": arr(responses), "sequence_lengths": arr(sequence_lengths),
                "logits": arr(logits_in), "temperature": temperature,
                "old_logprobs": arr(old), "advantages": arr(adv), "old_values": arr(old_values),
                "returns": arr(returns), "vpred": arr(vpred_in),
                "cliprange": cliprange, "cliprange_value": cliprange_value, "vf_coef": vf_coef,
            },
            "padding_mask": arr(padding_mask), "padding_mask_p1": arr(padding_mask_p1),
            "microbatches": mbs,
            "metrics": {k: (None if math.isnan(v) else v) for k, v in ns["metrics"].items()},
        }

    out["ppo_loss"] = [
        ppo_loss("one_microbatch_t07", 301, 6, 11, [2, None, 4, 0], 0.7, 0.2, 0.2, 0.1, [[0, 1, 2, 3]]),
        ppo_loss("two_microbatches_t1", 302, 5, 9, [3, 1, None, 2], 1.0, 0.1, 0.05, 0.1, [[2, 0], [3, 1]]),
    ]

    # --- entropy --------------------------------------------------------------
    g = torch.Generator().manual_seed(401)
    logits = f32(g, (2, 5, 7), 2.0)
    logits[1, 2] = torch.tensor([9.0, -9.0, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=torch.float64)  # peaked row
    ent = entropy_from_logits(logits)
    prob = torch.nn.functional.softmax(logits, dim=-1)
    inline = torch.logsumexp(logits, dim=-1) - torch.sum(prob * logits, dim=-1)  # ppo_trainer.py inline formula
    assert torch.allclose(ent, inline, atol=1e-12, rtol=1e-12)
    out["entropy"] = [{"name": "random_2x5x7", "logits": arr(logits), "entropy": arr(ent)}]

    out["trl_source_ppo"] = dict(SOURCES)
    return out


# ----------------------------------------------------------------------------
# part "grpo": TRL 1.16.0
# ----------------------------------------------------------------------------

def _accel():
    import torch
    return types.SimpleNamespace(
        num_processes=1, process_index=0, sync_gradients=True, device=torch.device("cpu"),
        gather=lambda x: x, gather_for_metrics=lambda x: x, reduce=lambda x, reduction="sum": x)


def _fake_logps(per_token_logps, entropies):
    def f(model, input_ids, attention_mask, logits_to_keep, compute_entropy=False, compute_aux_loss=False, **kw):
        return per_token_logps, entropies, None
    return f


def part_grpo():
    import torch
    import trl
    from trl.trainer import grpo_trainer as G
    from trl.trainer import rloo_trainer as R
    from trl.trainer.grpo_config import GRPOConfig
    from trl.trainer.rloo_config import RLOOConfig
    from trl.trainer.utils import nanstd

    torch.set_num_threads(1)
    cite("nanstd", nanstd)
    cite("GRPOTrainer._compute_loss", G.GRPOTrainer._compute_loss)
    cite("RLOOTrainer._compute_loss", R.RLOOTrainer._compute_loss)
    gd = GRPOConfig.__dataclass_fields__
    rd = RLOOConfig.__dataclass_fields__
    out = {"trl_version_grpo": trl.__version__,
           "grpo_defaults": {k: gd[k].default for k in ["loss_type", "scale_rewards", "beta", "epsilon", "epsilon_high",
                                                         "use_bias_correction_kl", "multi_objective_aggregation",
                                                         "importance_sampling_level", "num_generations"]},
           "rloo_defaults": {k: rd[k].default for k in ["beta", "epsilon", "epsilon_high", "normalize_advantages",
                                                         "reward_clip_range", "num_generations"]}}

    def batch(seed, P, Gn, T, lengths):
        g = torch.Generator().manual_seed(seed)
        B = P * Gn
        mask = torch.zeros(B, T, dtype=torch.int64)
        for i, n in enumerate(lengths):
            mask[i, :n] = 1
        logps = -f32u(g, (B, T), 0.05, 3.0)
        old = (logps + f32(g, (B, T), 0.35)).to(torch.float32).to(torch.float64)
        ref = (logps + f32(g, (B, T), 0.4)).to(torch.float32).to(torch.float64)
        ent = f32u(g, (B, T), 0.1, 2.5)
        return g, mask, logps, old, ref, ent

    # --- GRPO ---------------------------------------------------------------
    def grpo_advantages(rewards_per_func, num_generations, scale_rewards="group"):
        self = types.SimpleNamespace(multi_objective_aggregation="sum_then_normalize", scale_rewards=scale_rewards,
                                     reward_weights=torch.ones(rewards_per_func.shape[1], dtype=torch.float64))
        ns = {"torch": torch, "self": self, "rewards_per_func": rewards_per_func, "num_generations": num_generations,
              "device": torch.device("cpu"), "nanstd": nanstd}
        run_block("grpo_advantages", G.__file__, "unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)",
                  "advantages = torch.nan_to_num(advantages, nan=0.0)", ns,
                  start_after="def _generate_and_score_completions")
        return ns

    def grpo_loss(loss_type, beta, eps_low, eps_high, mask, logps, old, ref, ent, advantages):
        leaf = logps.clone().requires_grad_(True)
        stub = types.SimpleNamespace(
            _get_per_token_logps_and_entropies=_fake_logps(leaf, ent), aux_loss_enabled=False,
            top_entropy_quantile=1.0, off_policy_mask_threshold=None, importance_sampling_level="token",
            beta=beta, loss_type=loss_type, epsilon_low=eps_low, epsilon_high=eps_high,
            args=types.SimpleNamespace(use_bias_correction_kl=True, delta=None, steps_per_generation=1),
            use_vllm=False, vllm_importance_sampling_correction=False,
            model=types.SimpleNamespace(training=True), current_gradient_accumulation_steps=1,
            max_completion_length=mask.shape[1], _entropy_bonus_enabled=False, accelerator=_accel(),
            _metrics={"train": defaultdict(list), "eval": defaultdict(list)})
        B, T = mask.shape
        inputs = {"prompt_ids": torch.ones(B, 2, dtype=torch.int64), "prompt_mask": torch.ones(B, 2, dtype=torch.int64),
                  "completion_ids": torch.ones(B, T, dtype=torch.int64), "completion_mask": mask,
                  "advantages": advantages, "old_per_token_logps": old, "ref_per_token_logps": ref,
                  "num_items_in_batch": mask.sum()}
        loss = G.GRPOTrainer._compute_loss(stub, None, inputs)
        (grad,) = torch.autograd.grad(loss, [leaf])
        return {"loss": num(loss), "grad_logps": arr(grad), "metrics": metrics_of(stub._metrics["train"])}

    P_, Gn, T = 3, 4, 6
    lengths = [6, 3, 5, 1, 4, 6, 2, 5, 6, 6, 3, 4]
    g, mask, logps, old, ref, ent = batch(501, P_, Gn, T, lengths)
    rewards = torch.cat([f32(g, (8,), 1.0), torch.full((4,), 0.5, dtype=torch.float64)])  # group 3: equal rewards
    rewards[3] = 1.0  # a 0/1-style value in group 1
    rpf = rewards.unsqueeze(1)
    adv_ns = grpo_advantages(rpf, Gn)
    adv = adv_ns["advantages"]
    grpo_cases = []
    for name, lt, beta, el, eh in [("dapo_beta0", "dapo", 0.0, 0.2, 0.2), ("dapo_beta004", "dapo", 0.04, 0.2, 0.2),
                                   ("dapo_beta004_epshigh028", "dapo", 0.04, 0.2, 0.28),
                                   ("grpo_beta004", "grpo", 0.04, 0.2, 0.2),
                                   ("bnpo_beta004", "bnpo", 0.04, 0.2, 0.2),
                                   ("dr_grpo_beta004_epshigh028", "dr_grpo", 0.04, 0.2, 0.28)]:
        r = grpo_loss(lt, beta, el, eh, mask, logps, old, ref, ent, adv)
        grpo_cases.append({"name": name, "loss_type": lt, "beta": beta, "epsilon_low": el, "epsilon_high": eh,
                           "num_items_in_batch": int(mask.sum()), **r})
    out["grpo"] = {
        "num_prompts": P_, "num_generations": Gn,
        "rewards": arr(rewards),
        "mean_grouped_rewards": arr(adv_ns["mean_grouped_rewards"]), "std_rewards": arr(adv_ns["std_rewards"]),
        "advantages": arr(adv), "is_std_zero": arr(adv_ns["is_std_zero"]),
        "advantages_scale_batch": arr(grpo_advantages(rpf, Gn, "batch")["advantages"]),
        "advantages_scale_none": arr(grpo_advantages(rpf, Gn, "none")["advantages"]),
        "completion_mask": arr(mask), "per_token_logps": arr(logps), "old_per_token_logps": arr(old),
        "ref_per_token_logps": arr(ref), "entropies": arr(ent),
        "cases": grpo_cases,
    }

    # --- RLOO ---------------------------------------------------------------
    def rloo_advantages(rewards_per_func, num_generations, beta, old, ref, mask, normalize):
        self = types.SimpleNamespace(reward_weights=torch.ones(rewards_per_func.shape[1], dtype=torch.float64),
                                     reward_clip_range=None, beta=beta, normalize_advantages=normalize)
        ns = {"torch": torch, "self": self, "rewards_per_func": rewards_per_func, "num_generations": num_generations,
              "device": torch.device("cpu"), "nanstd": nanstd, "gather": lambda x: x,
              "old_per_token_logps": old, "ref_per_token_logps": ref, "completion_mask": mask}
        run_block("rloo_advantages", R.__file__, "unscorable_mask = torch.isnan(rewards_per_func).all(dim=1)",
                  "advantages = torch.nan_to_num(advantages, nan=0.0)", ns,
                  start_after="def _generate_and_score_completions")
        return ns

    def rloo_loss(beta, eps_low, eps_high, mask, logps, old, ent, advantages):
        leaf = logps.clone().requires_grad_(True)
        stub = types.SimpleNamespace(
            _get_per_token_logps_and_entropies=_fake_logps(leaf, ent), aux_loss_enabled=False,
            epsilon_low=eps_low, epsilon_high=eps_high, beta=beta, model=types.SimpleNamespace(training=True),
            accelerator=_accel(), _metrics={"train": defaultdict(list), "eval": defaultdict(list)})
        B, T = mask.shape
        old_logps = (old * mask).sum(1)  # rloo_trainer.py: old_logps = (old_per_token_logps * completion_mask).sum(1)
        inputs = {"prompt_ids": torch.ones(B, 2, dtype=torch.int64), "prompt_mask": torch.ones(B, 2, dtype=torch.int64),
                  "completion_ids": torch.ones(B, T, dtype=torch.int64), "completion_mask": mask,
                  "advantages": advantages, "old_logps": old_logps}
        loss = R.RLOOTrainer._compute_loss(stub, None, inputs)
        (grad,) = torch.autograd.grad(loss, [leaf])
        return {"old_logps": arr(old_logps), "logps": arr((logps * mask).sum(1)), "loss": num(loss),
                "grad_logps": arr(grad), "metrics": metrics_of(stub._metrics["train"])}

    P_, Gn, T = 2, 4, 5
    lengths = [5, 2, 4, 3, 5, 5, 1, 4]
    g, mask, logps, old, ref, ent = batch(601, P_, Gn, T, lengths)
    # the current policy has moved more for RLOO's sequence ratios to clip: per-token shifts sum up
    logps = (old + f32(g, (P_ * Gn, T), 0.08)).to(torch.float32).to(torch.float64)
    rewards = f32(g, (P_ * Gn,), 1.0)
    rpf = rewards.unsqueeze(1)
    rloo_cases = []
    for name, beta, norm in [("beta005", 0.05, False), ("beta0", 0.0, False), ("beta005_normalized", 0.05, True)]:
        ns = rloo_advantages(rpf, Gn, beta, old, ref, mask, norm)
        r = rloo_loss(beta, 0.2, 0.2, mask, logps, old, ent, ns["advantages"])
        rloo_cases.append({
            "name": name, "beta": beta, "normalize_advantages": norm, "epsilon_low": 0.2, "epsilon_high": 0.2,
            "kl_per_sequence": arr(ns["kl"]) if beta != 0 else None,
            "rewards_with_kl": arr(ns["rewards"]), "baselines": arr(ns["baselines"]),
            "advantages": arr(ns["advantages"]), **r})
    out["rloo"] = {
        "num_prompts": P_, "num_generations": Gn, "rewards": arr(rewards),
        "completion_mask": arr(mask), "per_token_logps": arr(logps), "old_per_token_logps": arr(old),
        "ref_per_token_logps": arr(ref), "entropies": arr(ent), "cases": rloo_cases,
    }
    out["trl_source_grpo"] = dict(SOURCES)
    return out


# ----------------------------------------------------------------------------
# part "legacy": TRL 0.13.0 AdaptiveKLController (removed in 0.14.0)
# ----------------------------------------------------------------------------

def part_legacy():
    import trl
    from trl.trainer.utils import AdaptiveKLController, FixedKLController

    cite("AdaptiveKLController", AdaptiveKLController)
    steps = [(0.0, 256), (3.0, 256), (6.0, 256), (7.2, 256), (9.0, 512), (12.0, 64), (25.0, 1000),
             (5.5, 128), (1.0, 2000), (6.6, 1)]
    ctl = AdaptiveKLController(0.2, 6.0, 10000)
    seq = []
    for kl, n in steps:
        ctl.update(kl, n)
        seq.append({"current_kl": kl, "n_steps": n, "value_after": float(ctl.value)})
    fixed = FixedKLController(0.05)
    fixed.update(10.0, 100)
    return {"trl_version_legacy": trl.__version__,
            "adaptive_kl": {"init_kl_coef": 0.2, "target": 6.0, "horizon": 10000, "updates": seq,
                            "fixed_value_after_update": float(fixed.value)},
            "trl_source_legacy": dict(SOURCES)}


# ----------------------------------------------------------------------------
# merge
# ----------------------------------------------------------------------------

def dump(obj, indent=0):
    """JSON with objects indented and numeric arrays on one line."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k)}: {dump(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(x, dict) for x in obj):
        return "[\n" + ",\n".join(pad + " " + dump(x, indent + 1) for x in obj) + "\n" + pad + "]"
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ValueError("non-finite value in golden")
    return json.dumps(obj, separators=(",", ":"))


def merge(paths):
    parts = {}
    for p in paths:
        with open(p) as f:
            parts.update(json.load(f))
    g = {
        "generator": "scripts/gen_ppo_goldens.py (run: bash scripts/gen_ppo_goldens.sh)",
        "versions": {"trl_ppo": parts.pop("trl_version_ppo"), "trl_grpo": parts.pop("trl_version_grpo"),
                     "trl_legacy": parts.pop("trl_version_legacy"), "torch": parts.pop("torch_version")},
        "tolerance": {"relative": 1e-5, "absolute": 1e-6, "absolute_whitened": 1e-5,
                      "note": "float32 Swift arithmetic vs float64 goldens computed from float32-exact inputs"},
        "trl_source": {"trl_ppo": parts.pop("trl_source_ppo"), "trl_grpo": parts.pop("trl_source_grpo"),
                       "trl_legacy": parts.pop("trl_source_legacy")},
    }
    g.update(parts)
    text = dump(g)
    assert json.loads(text) == json.loads(json.dumps(g))
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    with open(OUT_PATH, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(OUT_PATH, REPO_ROOT)} ({len(text) + 1} bytes)", file=sys.stderr)


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "merge":
        merge(sys.argv[2:])
        return
    parts = {"ppo": part_ppo, "grpo": part_grpo, "legacy": part_legacy}
    if cmd not in parts or len(sys.argv) != 3:
        sys.exit("usage: gen_ppo_goldens.py {ppo|grpo|legacy} OUT.json | merge PART.json...")
    result = parts[cmd]()
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
