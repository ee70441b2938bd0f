#!/usr/bin/env python3
"""TRL side of the DPO benchmark: TRL's DPOTrainer (sigmoid loss, beta 0.1, its defaults: the
reference model scores every batch) on the same model directory and preference pairs as
`align dpo` (scripts/bench_dpo_vs_trl.sh), CPU, float32, batch 8, max_length 128, 2 threads.
Steps after the first two are timed; tokens/s counts non-padding prompt+response tokens of
chosen and rejected rows. Prints one JSON line.
"""
import argparse, json, resource, statistics, time

import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import DPOConfig, DPOTrainer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--data", required=True)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
ds = load_dataset("json", data_files=a.data, split="train")


class Timer(TrainerCallback):
    def __init__(self):
        self.t, self.times = None, []
    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()
    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter() - self.t)


cfg = DPOConfig(output_dir="/tmp/trl-dpo-bench", per_device_train_batch_size=8, gradient_accumulation_steps=1,
                max_length=128, max_steps=a.steps, learning_rate=1e-4, beta=0.1, loss_type="sigmoid",
                logging_steps=1000, save_strategy="no", report_to=[], use_cpu=True, seed=0, dataloader_num_workers=0)
trainer = DPOTrainer(model=model, args=cfg, train_dataset=ds, processing_class=tok)
timer = Timer()
trainer.add_callback(timer)
started = time.perf_counter()
trainer.train()
total = time.perf_counter() - started
times = timer.times[2:]
# tokens: TRL's own count of non-padding input tokens (chosen and rejected rows) over the run
num_tokens = max(float(h.get("num_tokens", 0)) for h in trainer.state.log_history)
per_step = num_tokens / max(len(timer.times), 1)
print(json.dumps({"impl": "trl", "seconds_per_step": statistics.median(times), "total_seconds": total, "tokens_per_step": per_step,
                  "tokens_per_second": per_step / statistics.median(times),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
