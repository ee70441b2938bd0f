#!/usr/bin/env python3
"""TRL side of the SFT benchmark: TRL's SFTTrainer on the same model directory and the same
conversations as `align sft` (scripts/bench_sft_vs_trl.sh), CPU, float32, given threads,
batch 8, max_length 128, no packing, AdamW, optionally LoRA (r 8, alpha 16, q/k/v/o).
Timed steps exclude the first two (warm-up). tokens/s counts non-padding tokens of the timed
batches. Prints one JSON line.
"""
import argparse, json, resource, statistics, time

import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
from trl import SFTConfig, SFTTrainer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--data", required=True)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--lora", action="store_true")
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

tok = AutoTokenizer.from_pretrained(a.model)
model = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
peft_config = None
if a.lora:
    from peft import LoraConfig
    peft_config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                             task_type="CAUSAL_LM")
ds = load_dataset("json", data_files=a.data, split="train")


class Timer(TrainerCallback):
    def __init__(self):
        self.t, self.times = None, []
    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()
    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter() - self.t)


class CountTokens:
    def __init__(self, collator):
        self.collator, self.tokens = collator, []
    def __call__(self, examples):
        batch = self.collator(examples)
        self.tokens.append(int(batch["attention_mask"].sum()) if "attention_mask" in batch else int(batch["input_ids"].numel()))
        return batch


cfg = SFTConfig(output_dir="/tmp/trl-sft-bench", per_device_train_batch_size=8, gradient_accumulation_steps=1,
                max_length=128, max_steps=a.steps, learning_rate=2e-4, lr_scheduler_type="cosine", warmup_steps=1,
                logging_steps=1000, save_strategy="no", report_to=[], use_cpu=True, packing=False, seed=0,
                dataloader_num_workers=0, bf16=False, fp16=False)
trainer = SFTTrainer(model=model, args=cfg, train_dataset=ds, processing_class=tok, peft_config=peft_config)
counter = CountTokens(trainer.data_collator)
trainer.data_collator = counter
trainer.train_dataset  # tokenised by now
timer = Timer()
trainer.add_callback(timer)
dl_tokens = counter.tokens
trainer.train()
times, tokens = timer.times[2:], counter.tokens[2:len(timer.times)]
print(json.dumps({"impl": "trl", "lora": a.lora, "steps_timed": len(times), "seconds_per_step": statistics.median(times),
                  "tokens_per_second": sum(tokens) / sum(times),
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
