#!/usr/bin/env python3
"""TRL side of the PPO benchmark: TRL 1.12.0's trl.experimental.ppo.PPOTrainer (the last TRL that
has it; environment scripts/requirements/trl-ppo.txt) on a Hugging Face causal-LM directory, CPU,
float32, 2 threads. Set up as TRL's own examples/scripts/ppo/ppo.py does: the policy and a separate
reference policy from --model, the reward model AND the value model both loaded from
--reward-model as AutoModelForSequenceClassification(num_labels=1) (TRL initialises the critic
from the reward model), a "[PAD]" pad token added to the tokenizer (TRL finds the end of each
response by its first pad token, so pad must differ from EOS; the id is never fed to the model),
stop_token="eos", left-padded chat-template prompts.

One PPO iteration = rollout of --batch prompts (sampling, temperature 0.7 as PPOConfig's
default, up to --response-length new tokens), reference/value/reward forward passes, GAE, then
--ppo-epochs passes over --num-minibatches minibatches (one optimizer step per minibatch).

Prints one JSON line: median and mean seconds per iteration excluding the first (warm-up),
generated tokens (response tokens up to and including the first EOS, as TRL's truncate_response
keeps them) per second of iteration wall time and per second of generation time, peak RSS, and
the first iteration's logged policy/clipfrac_avg and policy/approxkl_avg (plus every
iteration's logs).

    python scripts/bench_ppo_trl.py --model DIR --reward-model DIR --prompts FILE.jsonl \
        --iterations 3 --batch 8 --response-length 24 --num-minibatches 2 --ppo-epochs 2 --seed 0

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

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
warnings.filterwarnings("ignore")

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback

import trl
import trl.experimental.ppo.ppo_trainer as ppo_module
from trl.experimental.ppo import PPOConfig, PPOTrainer

p = argparse.ArgumentParser()
p.add_argument("--model", required=True)
p.add_argument("--reward-model", required=True)
p.add_argument("--prompts", required=True)
p.add_argument("--iterations", type=int, default=3)
p.add_argument("--batch", type=int, default=8)
p.add_argument("--response-length", type=int, default=24)
p.add_argument("--num-minibatches", type=int, default=2)
p.add_argument("--ppo-epochs", type=int, default=2)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--learning-rate", type=float, default=1e-6)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(a.seed)


tok = AutoTokenizer.from_pretrained(a.model, padding_side="left")
tok.add_special_tokens({"pad_token": "[PAD]"})
rows = [json.loads(line) for line in open(a.prompts) if line.strip()]
ids = [tok.apply_chat_template(prompt_messages(r), add_generation_prompt=True, tokenize=True) for r in rows]
ids = [list(x["input_ids"]) if hasattr(x, "keys") else list(x) for x in ids]  # transformers 5 returns a BatchEncoding
train = Dataset.from_dict({"input_ids": ids, "lengths": [len(x) for x in ids]})

policy = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
ref_policy = AutoModelForCausalLM.from_pretrained(a.model, dtype=torch.float32)
reward_model = AutoModelForSequenceClassification.from_pretrained(a.reward_model, num_labels=1, dtype=torch.float32)
value_model = AutoModelForSequenceClassification.from_pretrained(a.reward_model, num_labels=1, dtype=torch.float32)

# Count generated tokens and time generation: wrap TRL's batch_generation (the trainer calls it
# through the module global).
gen = {"seconds": [], "tokens": []}
_batch_generation = ppo_module.batch_generation


def counted_batch_generation(model, queries, *args, **kwargs):
    t = time.perf_counter()
    query_responses, logitss = _batch_generation(model, queries, *args, **kwargs)
    gen["seconds"].append(time.perf_counter() - t)
    responses = query_responses[:, queries.shape[1]:]
    is_eos = responses == tok.eos_token_id
    n = responses.shape[1]
    first = torch.where(is_eos.any(1), is_eos.int().argmax(1) + 1, torch.full_like(is_eos[:, 0], n, dtype=torch.long))
    gen["tokens"].append(int(first.sum()))
    return query_responses, logitss


ppo_module.batch_generation = counted_batch_generation


class Timer(TrainerCallback):
    def __init__(self):
        self.t, self.times, self.logs = None, [], []

    def on_train_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kw):
        self.logs.append(dict(logs or {}))

    def on_step_end(self, args, state, control, **kw):
        now = time.perf_counter()
        self.times.append(now - self.t)
        self.t = now


out_dir = tempfile.mkdtemp(prefix="trl-ppo-bench-")
cfg = PPOConfig(
    output_dir=out_dir, per_device_train_batch_size=a.batch, gradient_accumulation_steps=1,
    num_mini_batches=a.num_minibatches, num_ppo_epochs=a.ppo_epochs, response_length=a.response_length,
    total_episodes=a.batch * a.iterations, stop_token="eos", learning_rate=a.learning_rate, seed=a.seed,
    num_sample_generations=0, logging_steps=1, save_strategy="no", report_to=[], use_cpu=True,
    local_rollout_forward_batch_size=a.batch, dataloader_num_workers=0,
    # TRL's configs default to bf16=True (bfloat16 autocast, on CPU as well) and
    # gradient_checkpointing=True (the forward run again during backward): neither is the
    # float32 job align runs
    bf16=False, gradient_checkpointing=False,
)
assert not cfg.bf16 and not cfg.fp16 and not cfg.gradient_checkpointing
trainer = PPOTrainer(args=cfg, processing_class=tok, model=policy, ref_model=ref_policy, reward_model=reward_model,
                     value_model=value_model, train_dataset=train)
timer = Timer()
trainer.add_callback(timer)
started = time.perf_counter()
trainer.train()
total = time.perf_counter() - started

times = timer.times[1:] if len(timer.times) > 1 else timer.times
per_iter = statistics.median(times)
tokens = gen["tokens"][1:] if len(gen["tokens"]) > 1 else gen["tokens"]
gen_s = gen["seconds"][1:] if len(gen["seconds"]) > 1 else gen["seconds"]
logs = [{k: v for k, v in log.items() if isinstance(v, (int, float))} for log in timer.logs if "policy/clipfrac_avg" in log]
first = logs[0] if logs else {}
print(json.dumps({
    "impl": "trl", "trainer": "PPOTrainer", "trl_version": trl.__version__,
    "iterations": len(timer.times), "batch": a.batch, "response_length": a.response_length,
    "num_minibatches": a.num_minibatches, "ppo_epochs": a.ppo_epochs, "threads": a.threads,
    "seconds_per_iteration": per_iter, "seconds_per_iteration_mean": statistics.mean(times),
    "iteration_seconds": timer.times, "generation_seconds": gen["seconds"], "generated_tokens": gen["tokens"],
    "generated_tokens_per_second": statistics.mean(tokens) / per_iter,
    "generation_tokens_per_second": sum(tokens) / sum(gen_s),
    "total_seconds": total, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "first_iteration": {"policy/clipfrac_avg": first.get("policy/clipfrac_avg"),
                        "policy/approxkl_avg": first.get("policy/approxkl_avg")},
    "logs": logs,
}))
