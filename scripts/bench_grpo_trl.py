#!/usr/bin/env python3
"""TRL side of the GRPO benchmark: TRL 1.16's GRPOTrainer (environment
scripts/requirements/trl-grpo.txt) on a Hugging Face causal-LM directory, CPU, float32, 2 threads,
with a rule reward (no reward model): 1.0 if the completion has at most --max-words words (15)
else 0.0. Batch --batch completions = --batch / --num-generations prompts x --num-generations
(8 = 2 x 4), max completion length 24, one optimizer step per generation batch
(steps_per_generation 1, num_iterations 1: asserted), TRL's algorithmic defaults otherwise
(loss_type "dapo", scale_rewards "group", beta 0 so no reference model, temperature 1.0).

Settings that differ from GRPOConfig's defaults, so that TRL does the float32 work align does:
  bf16=False                    GRPOConfig defaults to bf16=True, which on CPU runs every forward
                                (generation included) under bfloat16 autocast.
  gradient_checkpointing=False  GRPOConfig defaults to True (the forward is run again in backward).
  lr_scheduler_type="constant"  align's bench config (configs/bench/grpo_smollm2.json) keeps the
                                learning rate constant; TRL's default decays it linearly.

Measured 2026-12-02 (2 cores, PyTorch 2.13 +cpu, a CPU with AVX512-BF16), seconds per step,
medians over the steps after the first, 2-4 runs each:
  idle host                             GRPOConfig defaults 5.0-6.5    these settings 6.2-7.1
  another process holding one core      GRPOConfig defaults 66-102     these settings 72-85
The second line is PyTorch's OpenMP threads spinning at every barrier while the other thread
waits for the busy core (OMP_WAIT_POLICY=PASSIVE brings it to 10-12 s but costs 5-25% on an idle
host, so it is not set here). A figure is only comparable when other_processes_cores (below) is
near 0 for the timed steps.

Prints one JSON line: median and mean seconds per step excluding the first (warm-up), generated
tokens per second (completions/mean_length x batch per step / seconds per step), peak RSS, the
cores other processes kept busy during each step (Linux /proc; near 0 on an idle host; a figure
taken with them near 1 is not comparable: see above), and every step's logged metrics.

    python scripts/bench_grpo_trl.py --model DIR --prompts FILE.jsonl --steps 3 --batch 8 \
        --num-generations 4 --max-completion-length 24 --seed 0

Prompts: JSONL rows {"prompt": "text"}, {"prompt": [messages]} or {"messages": [...]} (the
messages before the first assistant turn are the prompt).
"""
import argparse
import json
import os
import resource
import statistics
import tempfile
import time
import warnings

from rl_bench_common import prompt_messages

warnings.filterwarnings("ignore")

import torch
import trl
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--prompts", required=True)
p.add_argument("--steps", type=int, default=3)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--num-generations", type=int, default=4)
p.add_argument("--max-completion-length", type=int, default=24)
p.add_argument("--max-words", type=int, default=15)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--learning-rate", type=float, default=1e-6)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


rows = [json.loads(line) for line in open(a.prompts) if line.strip()]
train = Dataset.from_list([{"prompt": prompt_messages(r)} for r in rows])


def short_answer(completions, **kwargs):
    """1.0 if the completion has at most --max-words words, else 0.0."""
    texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
    return [1.0 if len(t.split()) <= a.max_words else 0.0 for t in texts]


def cpu_ticks():
    """(ticks all CPUs were busy, ticks this process ran) since boot, from /proc; None off Linux."""
    try:
        with open("/proc/stat") as f:
            t = [int(x) for x in f.readline().split()[1:]]
        with open("/proc/self/stat") as f:
            own = f.read().rsplit(")", 1)[1].split()
        return sum(t) - t[3] - t[4], int(own[11]) + int(own[12])
    except (OSError, IndexError, ValueError):
        return None


class Timer(TrainerCallback):
    """Wall time of each step and the cores other processes kept busy meanwhile."""

    def __init__(self):
        self.t, self.ticks, self.times, self.other_cores, self.logs = None, None, [], [], []

    def on_step_begin(self, args, state, control, **kw):
        self.t, self.ticks = time.perf_counter(), cpu_ticks()

    def on_step_end(self, args, state, control, **kw):
        seconds, ticks = time.perf_counter() - self.t, cpu_ticks()
        self.times.append(seconds)
        if ticks and self.ticks:
            busy, own = ticks[0] - self.ticks[0], ticks[1] - self.ticks[1]
            self.other_cores.append(round(max(0, busy - own) / os.sysconf("SC_CLK_TCK") / seconds, 2))

    def on_log(self, args, state, control, logs=None, **kw):
        self.logs.append({k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))})


tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
cfg = GRPOConfig(
    output_dir=tempfile.mkdtemp(prefix="trl-grpo-bench-"), per_device_train_batch_size=a.batch,
    gradient_accumulation_steps=1, num_generations=a.num_generations, max_completion_length=a.max_completion_length,
    max_steps=a.steps, learning_rate=a.learning_rate, seed=a.seed, logging_steps=1, save_strategy="no",
    report_to=[], use_cpu=True, dataloader_num_workers=0,
    # GRPOConfig's defaults are bf16=True (bfloat16 autocast around every forward, generation
    # included) and gradient_checkpointing=True: neither is the float32 job align runs.
    bf16=False, gradient_checkpointing=False,
    lr_scheduler_type="constant",  # as configs/bench/grpo_smollm2.json; TRL's default decays
)
assert not cfg.bf16 and not cfg.fp16 and not cfg.gradient_checkpointing
assert cfg.steps_per_generation == 1 and cfg.num_iterations == 1 and cfg.generation_batch_size == a.batch
trainer = GRPOTrainer(model=model, reward_funcs=short_answer, args=cfg, train_dataset=train, processing_class=tok)
timer = Timer()
trainer.add_callback(timer)
started = time.perf_counter()
trainer.train()
total = time.perf_counter() - started

times = timer.times[1:] if len(timer.times) > 1 else timer.times
per_step = statistics.median(times)
logs = [log for log in timer.logs if "completions/mean_length" in log]
tokens = [log["completions/mean_length"] * a.batch for log in logs]
tok_timed = tokens[1:] if len(tokens) > 1 else tokens
print(json.dumps({
    "impl": "trl", "trainer": "GRPOTrainer", "trl_version": trl.__version__, "steps": len(timer.times),
    "batch": a.batch, "num_generations": a.num_generations, "max_completion_length": a.max_completion_length,
    "threads": a.threads, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "bf16": cfg.bf16,
    "gradient_checkpointing": cfg.gradient_checkpointing, "loss_type": cfg.loss_type, "beta": cfg.beta,
    "seconds_per_step": per_step, "seconds_per_step_mean": statistics.mean(times), "step_seconds": timer.times,
    "other_processes_cores": timer.other_cores,
    "generated_tokens": tokens, "generated_tokens_per_second": statistics.mean(tok_timed) / per_step,
    "total_seconds": total, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "logs": logs,
}))
