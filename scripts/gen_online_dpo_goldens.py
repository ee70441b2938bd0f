#!/usr/bin/env python3
"""Generate TRL parity goldens for align online-dpo's loss and metrics.

What it writes
--------------
    Tests/OnlineDPOTrainerTests/Fixtures/online_dpo_goldens.json

Run `bash scripts/gen_online_dpo_goldens.sh` from the repository root: it makes (once, cached)
the pinned environment scripts/requirements/trl-grpo.txt (TRL 1.16.0) and runs this script in it.

How TRL's code is called
------------------------
TRL's `OnlineDPOTrainer.training_step` (trl/experimental/online_dpo/online_dpo_trainer.py) builds
the pairs, the loss and every logged metric inline, after generating and scoring. The lines from
"# Split rewards into chosen/rejected pairs" to `self.stats["beta"].append(self.beta)` are READ
FROM THE INSTALLED FILE at run time, dedented and executed in a namespace that holds the inputs
(per-token log-probs of 2B completions under the policy and the reference, their completion
mask, the rewards and the EOS flags) and a stub `self` (args.loss_type, beta, stats, an
accelerator whose gather is the identity, reward_funcs set). The fixture records the file and the
line range executed (`trl_source`). The loss is then differentiated with respect to the policy's
per-token log-probs.

Inputs are drawn once from fixed seeds as float32 values; the computation runs in float64.
Tolerance intended for the Swift side (float32): 1e-5 relative with a 1e-6 absolute floor.

Cases: sigmoid (β 0.1 and 0.5; rewards with a tie, which TRL gives to the first completion) and
ipo (β 0.1), each once with completions of varied lengths and, for ipo, once with one token per
completion (TRL's online ipo does not divide by the length, align's ipo, as DPOTrainer's, does;
with one token the two agree).

Fixture schema (B pairs, 2B completions: completion i and B+i answer prompt i; T tokens)
  versions, tolerance, trl_source{file, lines[first,last]}, cases[]:
    name, loss_type, beta, batch_size,
    logprobs[2B][T], ref_logprobs[2B][T], completion_mask[2B][T] (1 = a response token),
    rewards[2B], contain_eos[2B] (0/1),
    out{loss, chosen_indices[B], rejected_indices[B], stats{name: value},
        grad_logprobs[2B][T] (d loss / d per-token log-prob; 0 on padding)}
"""
import json
import os
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/OnlineDPOTrainerTests/Fixtures/online_dpo_goldens.json"


def trl_block(path, start, end):
    lines = open(path).read().split("\n")
    a = next(i for i, l in enumerate(lines) if start in l)
    b = next(i for i in range(a, len(lines)) if end in lines[i])
    return textwrap.dedent("\n".join(lines[a:b + 1])), (a + 1, b + 1)


def main():
    import numpy as np
    import torch
    import torch.nn.functional as F
    import trl
    from trl.experimental.online_dpo import online_dpo_trainer as mod

    path = mod.__file__
    code, (lo, hi) = trl_block(path, "# Split rewards into chosen/rejected pairs", 'self.stats["beta"].append(self.beta)')
    site = str(Path(path).resolve()).split("site-packages/")[-1]

    class Accel:
        def gather_for_metrics(self, t):
            return t

    class Args:
        pass

    class Self:
        pass

    def case(name, loss_type, beta, seed, lengths, rewards, eos):
        rng = np.random.default_rng(seed)
        B2 = len(lengths)
        B = B2 // 2
        T = max(lengths)
        lp = (-rng.uniform(0.05, 3.0, size=(B2, T))).astype(np.float32)
        ref = (lp + rng.normal(0, 0.3, size=(B2, T))).astype(np.float32)
        mask = np.array([[1 if t < n else 0 for t in range(T)] for n in lengths], dtype=np.int64)
        rw = np.array(rewards, dtype=np.float32)
        logprobs = torch.tensor(lp, dtype=torch.float64, requires_grad=True)
        s = Self()
        s.args = Args()
        s.args.loss_type = loss_type
        s.beta = beta
        s.stats = defaultdict(list)
        s.accelerator = Accel()
        s.reward_funcs = [object()]
        ns = {"self": s, "torch": torch, "F": F, "batch_size": B, "device": "cpu",
              "rewards": torch.tensor(rw, dtype=torch.float64), "logprobs": logprobs,
              "ref_logprobs": torch.tensor(ref, dtype=torch.float64), "completion_mask": torch.tensor(mask),
              "contain_eos_token": torch.tensor([bool(e) for e in eos])}
        exec(compile(code, f"{path}:{lo}-{hi}", "exec"), ns)
        loss = ns["loss"]
        loss.backward()
        grad = (logprobs.grad * torch.tensor(mask, dtype=torch.float64)).tolist()
        return {"name": name, "loss_type": loss_type, "beta": beta, "batch_size": B,
                "logprobs": lp.astype(float).tolist(), "ref_logprobs": ref.astype(float).tolist(),
                "completion_mask": mask.tolist(), "rewards": rw.astype(float).tolist(), "contain_eos": [int(e) for e in eos],
                "out": {"loss": float(loss.item()), "chosen_indices": ns["chosen_indices"].tolist(),
                        "rejected_indices": ns["rejected_indices"].tolist(),
                        "stats": {k: float(v[-1]) for k, v in s.stats.items()}, "grad_logprobs": grad}}

    varied = [5, 3, 1, 4, 2, 5, 3, 4]
    rewards = [0.5, -1.0, 2.0, 0.25, 0.5, 0.75, 1.0, -0.5]   # prompt 0: a tie (first chosen)
    eos = [1, 0, 1, 1, 1, 1, 0, 1]
    cases = [
        case("sigmoid_beta0.1", "sigmoid", 0.1, 1, varied, rewards, eos),
        case("sigmoid_beta0.5", "sigmoid", 0.5, 2, varied, rewards, eos),
        case("ipo_beta0.1_varied_lengths", "ipo", 0.1, 3, varied, rewards, eos),
        case("ipo_beta0.1_one_token", "ipo", 0.1, 4, [1] * 8, rewards, eos),
    ]
    fixture = {"versions": {"trl": trl.__version__, "torch": torch.__version__},
               "tolerance": {"relative": 1e-5, "absolute": 1e-6},
               "trl_source": {"file": site, "lines": [lo, hi]}, "cases": cases}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(cases)} cases; TRL {trl.__version__}, {site}:{lo}-{hi})", file=sys.stderr)


if __name__ == "__main__":
    main()
