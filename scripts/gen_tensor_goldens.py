#!/usr/bin/env python3
"""Generate golden values for the AlignTensor Swift tests.

What it writes
--------------
    Tests/AlignTensorTests/Fixtures/tensor_goldens.json

A single JSON object with a top-level "generator" (this script's path),
"torch_version", and one key per test case (cross_entropy, cross_entropy_sum,
log_softmax, layer_norm, rms_norm, gelu_tanh, attention, adamw, sgd_momentum,
clip_grad_norm, schedules, logsigmoid_softplus).

Conventions
-----------
* Every array is stored as {"shape": [...], "data": [...]} with "data" a flat
  list in row-major (C) order. Float data is written with Python's repr
  (json default), i.e. full round-trip double precision, never rounded.
  Integer arrays (targets, masks) use the same layout with int data.
* Scalars (losses, eps, lr, ...) are plain JSON numbers.
* Inputs are drawn in float32 (so they are exactly representable as Float in
  Swift), then cast to float64 and the reference (forward and backward) is
  computed in float64 with torch.autograd. The goldens are therefore the exact
  answer for the float32 inputs, not a float32 computation.
* For the op cases, a random upstream gradient "dout" of the output's shape is
  stored and the stored gradients are d/d(input) of sum(out * dout).
  Cross-entropy cases store the gradient of the (scalar) loss itself; the
  logsigmoid/softplus case uses dout = ones.
* Randomness: torch.manual_seed(0) at start, then each case reseeds with its
  own fixed seed so that adding/changing one case does not perturb the others.

Run
---
    bash scripts/run-python.sh reference scripts/gen_tensor_goldens.py

(from the repository root; needs only PyTorch, from the pinned 'reference' environment). The output is deterministic
for a given torch version. Python is not needed at Swift test time.

Tolerances
----------
The Swift tests compute in float32 and compare against these float64 goldens
with tolerances stated in the tests themselves: about 1e-5 absolute for
forward values and about 1e-4 for gradients (optimizer/schedule values are
compared similarly tightly).
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_PATH = os.path.join(
    REPO_ROOT, "Tests", "AlignTensorTests", "Fixtures", "tensor_goldens.json"
)

torch.manual_seed(0)
torch.set_num_threads(1)


# ----------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------

def seed(s):
    torch.manual_seed(s)


def f32(t):
    """Round a tensor to float32 (the 'input' precision)."""
    return t.to(torch.float32)


def f64(t, requires_grad=False):
    """Exact float64 copy of a float32 tensor, optionally a leaf needing grad."""
    out = t.detach().to(torch.float64).clone()
    if requires_grad:
        out.requires_grad_(True)
    return out


def arr(t):
    """Serialize a tensor as {"shape", "data"} (row-major, full precision)."""
    t = t.detach().cpu().contiguous()
    shape = list(t.shape)
    if t.dtype in (torch.int64, torch.int32, torch.int16, torch.int8,
                   torch.uint8, torch.bool):
        data = [int(v) for v in t.reshape(-1).tolist()]
    else:
        data = [float(v) for v in t.to(torch.float64).reshape(-1).tolist()]
        for v in data:
            if not math.isfinite(v):
                raise ValueError("non-finite value in golden array")
    return {"shape": shape, "data": data}


def scalar(t):
    v = float(t.detach().to(torch.float64).item()) if torch.is_tensor(t) else float(t)
    if not math.isfinite(v):
        raise ValueError("non-finite scalar")
    return v


def randn32(*shape):
    return f32(torch.randn(*shape, dtype=torch.float32))


def grads_of(out, dout, inputs):
    """Gradients of sum(out * dout) w.r.t. inputs (float64 autograd)."""
    return torch.autograd.grad(out, inputs, grad_outputs=dout)


# ----------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------

def case_cross_entropy(reduction):
    seed(1)
    N, V = 6, 11
    logits32 = randn32(N, V) * 2.0
    logits32[2] = logits32[2] * 50.0          # large-magnitude row
    logits32[5, 3] = 80.0                     # one large single logit
    logits32 = f32(logits32)
    targets = torch.randint(0, V, (N,), dtype=torch.int64)
    targets[1] = -100
    targets[4] = -100
    logits = f64(logits32, requires_grad=True)
    loss = F.cross_entropy(logits, targets, ignore_index=-100, reduction=reduction)
    (g,) = torch.autograd.grad(loss, (logits,))
    return {
        "logits": arr(logits32),
        "targets": arr(targets),
        "ignore_index": -100,
        "reduction": reduction,
        "loss": scalar(loss),
        "grad_logits": arr(g),
    }


def case_log_softmax():
    seed(2)
    x32 = randn32(3, 7)
    x32[1] = torch.tensor([1000.0, -1000.0, 999.5, 1.0, -999.0, 1000.0, 998.0])
    x32 = f32(x32)
    x = f64(x32, requires_grad=True)
    out = F.log_softmax(x, dim=-1)
    dout = f64(randn32(3, 7))
    (dx,) = grads_of(out, dout, (x,))
    return {"x": arr(x32), "dim": -1, "out": arr(out), "dout": arr(dout), "dx": arr(dx)}


def case_layer_norm():
    seed(3)
    x32 = f32(randn32(5, 8) * 1.5 + 0.3)
    w32 = f32(1.0 + 0.2 * randn32(8))
    b32 = f32(0.1 * randn32(8))
    eps = 1e-5
    x, w, b = f64(x32, True), f64(w32, True), f64(b32, True)
    out = F.layer_norm(x, (8,), w, b, eps)
    dout = f64(randn32(5, 8))
    dx, dw, db = grads_of(out, dout, (x, w, b))
    return {
        "x": arr(x32), "weight": arr(w32), "bias": arr(b32), "eps": eps,
        "out": arr(out), "dout": arr(dout),
        "dx": arr(dx), "dweight": arr(dw), "dbias": arr(db),
    }


def case_rms_norm():
    seed(4)
    x32 = f32(randn32(5, 8) * 1.5)
    w32 = f32(1.0 + 0.2 * randn32(8))
    eps = 1e-6
    x, w = f64(x32, True), f64(w32, True)
    out = x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * w
    dout = f64(randn32(5, 8))
    dx, dw = grads_of(out, dout, (x, w))
    return {
        "x": arr(x32), "weight": arr(w32), "eps": eps,
        "out": arr(out), "dout": arr(dout), "dx": arr(dx), "dweight": arr(dw),
    }


def case_gelu_tanh():
    seed(5)
    base = torch.linspace(-6.0, 6.0, 24, dtype=torch.float32)
    x32 = f32((base + 0.1 * randn32(24)).clamp(-6.0, 6.0).reshape(4, 6))
    x = f64(x32, True)
    out = F.gelu(x, approximate="tanh")
    dout = f64(randn32(4, 6))
    (dx,) = grads_of(out, dout, (x,))
    return {"x": arr(x32), "approximate": "tanh", "out": arr(out),
            "dout": arr(dout), "dx": arr(dx)}


def case_attention():
    seed(6)
    B, H, T, D = 2, 3, 5, 4
    q32, k32, v32 = randn32(B, H, T, D), randn32(B, H, T, D), randn32(B, H, T, D)
    key_mask = torch.ones(B, T, dtype=torch.int64)
    key_mask[1, T - 2:] = 0                   # right padding in batch 1
    scale = 1.0 / math.sqrt(D)
    q, k, v = f64(q32, True), f64(k32, True), f64(v32, True)

    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    causal_block = (j > i).view(1, 1, T, T)                  # key after query
    pad_block = (key_mask == 0).view(B, 1, 1, T)
    blocked = causal_block | pad_block                       # (B,1,T,T)
    assert not blocked.all(dim=-1).any(), "a query row is fully masked"

    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    scores = scores.masked_fill(blocked, float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = torch.matmul(probs, v)
    dout = f64(randn32(B, H, T, D))
    dq, dk, dv = grads_of(out, dout, (q, k, v))
    return {
        "q": arr(q32), "k": arr(k32), "v": arr(v32),
        "key_mask": arr(key_mask), "causal": True, "scale": scale,
        "out": arr(out), "dout": arr(dout),
        "dq": arr(dq), "dk": arr(dk), "dv": arr(dv),
    }


def case_adamw():
    seed(7)
    lr, betas, eps, wd = 1e-2, (0.9, 0.999), 1e-8, 0.1
    W32, b32 = randn32(3, 4), randn32(4)
    grads32 = [(randn32(3, 4), randn32(4)) for _ in range(3)]
    W, b = f64(W32, True), f64(b32, True)
    opt = torch.optim.AdamW(
        [{"params": [W], "weight_decay": wd},
         {"params": [b], "weight_decay": 0.0}],
        lr=lr, betas=betas, eps=eps, weight_decay=wd,
        amsgrad=False, foreach=False, maximize=False,
    )
    steps = []
    for gW32, gb32 in grads32:
        W.grad = f64(gW32)
        b.grad = f64(gb32)
        opt.step()
        steps.append({"grad_W": arr(gW32), "grad_b": arr(gb32),
                      "W": arr(W), "b": arr(b)})
    return {
        "lr": lr, "beta1": betas[0], "beta2": betas[1], "eps": eps,
        "groups": {"decay": {"param": "W", "weight_decay": wd},
                   "no_decay": {"param": "b", "weight_decay": 0.0}},
        "W0": arr(W32), "b0": arr(b32),
        "steps": steps,
    }


def case_sgd_momentum():
    seed(8)
    lr, momentum = 0.1, 0.9
    p32 = randn32(5)
    grads32 = [randn32(5) for _ in range(3)]
    p = f64(p32, True)
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, weight_decay=0.0,
                          dampening=0.0, nesterov=False, foreach=False)
    steps = []
    for g32 in grads32:
        p.grad = f64(g32)
        opt.step()
        steps.append({"grad": arr(g32), "param": arr(p)})
    return {"lr": lr, "momentum": momentum, "weight_decay": 0.0,
            "dampening": 0.0, "nesterov": False,
            "param0": arr(p32), "steps": steps}


def case_clip_grad_norm():
    seed(9)
    max_norm = 1.0
    g1_32, g2_32 = randn32(3, 4), randn32(4)
    p1 = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
    p2 = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    p1.grad, p2.grad = f64(g1_32), f64(g2_32)
    total = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=max_norm,
                                           norm_type=2.0, foreach=False)
    assert float(total) > max_norm, "choose grads that actually get clipped"
    clip_coef = min(1.0, max_norm / (float(total) + 1e-6))
    return {
        "max_norm": max_norm, "norm_type": 2.0,
        "grad1": arr(g1_32), "grad2": arr(g2_32),
        "total_norm": scalar(total),
        "clip_coef": clip_coef,
        "clipped_grad1": arr(p1.grad), "clipped_grad2": arr(p2.grad),
    }


# transformers is not installed, so the two lr_lambda formulas below are
# reimplemented verbatim from transformers.optimization
# (get_linear_schedule_with_warmup / get_cosine_schedule_with_warmup) and
# driven through torch's real LambdaLR.

def _linear_warmup_decay(num_warmup_steps, num_training_steps):
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        return max(0.0, float(num_training_steps - current_step)
                   / float(max(1, num_training_steps - num_warmup_steps)))
    return lr_lambda


def _cosine_warmup(num_warmup_steps, num_training_steps, num_cycles=0.5):
    def lr_lambda(current_step):
        if current_step < num_warmup_steps:
            return float(current_step) / float(max(1, num_warmup_steps))
        progress = float(current_step - num_warmup_steps) / float(
            max(1, num_training_steps - num_warmup_steps))
        return max(0.0, 0.5 * (1.0 + math.cos(
            math.pi * float(num_cycles) * 2.0 * progress)))
    return lr_lambda


def _lambda_lr_trace(lr_lambda, base_lr, n):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    lrs = []
    for step in range(n):
        lr = opt.param_groups[0]["lr"]
        assert lr == base_lr * lr_lambda(step)
        lrs.append(float(lr))
        opt.step()
        sched.step()
    return lrs


def case_schedules():
    base_lr, warmup, total, n = 1.0, 5, 20, 20
    return {
        "base_lr": base_lr, "num_warmup_steps": warmup,
        "num_training_steps": total, "num_cycles": 0.5,
        "steps": list(range(n)),
        "linear": _lambda_lr_trace(_linear_warmup_decay(warmup, total), base_lr, n),
        "cosine": _lambda_lr_trace(_cosine_warmup(warmup, total, 0.5), base_lr, n),
    }


def case_logsigmoid_softplus():
    x32 = f32(torch.tensor([-100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, -3.5, 2.25]))
    x1, x2 = f64(x32, True), f64(x32, True)
    ls = F.logsigmoid(x1)
    sp = F.softplus(x2)   # beta=1, threshold=20 (torch defaults)
    dout = torch.ones(9, dtype=torch.float64)
    (dls,) = grads_of(ls, dout, (x1,))
    (dsp,) = grads_of(sp, dout, (x2,))
    return {
        "x": arr(x32),
        "logsigmoid": arr(ls), "softplus": arr(sp),
        "softplus_beta": 1.0, "softplus_threshold": 20.0,
        "dout": arr(dout),
        "dlogsigmoid": arr(dls), "dsoftplus": arr(dsp),
    }


def to_json(obj, indent=0):
    """Pretty JSON: objects indented, lists of scalars kept on one line.
    Numbers are written by json.dumps (repr: full round-trip precision)."""
    pad, pad1 = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [pad1 + json.dumps(k) + ": " + to_json(v, indent + 1)
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        items = [pad1 + to_json(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False, separators=(", ", ": "))


def main():
    goldens = {
        "generator": "scripts/gen_tensor_goldens.py",
        "torch_version": torch.__version__,
        "cross_entropy": case_cross_entropy("mean"),
        "cross_entropy_sum": case_cross_entropy("sum"),
        "log_softmax": case_log_softmax(),
        "layer_norm": case_layer_norm(),
        "rms_norm": case_rms_norm(),
        "gelu_tanh": case_gelu_tanh(),
        "attention": case_attention(),
        "adamw": case_adamw(),
        "sgd_momentum": case_sgd_momentum(),
        "clip_grad_norm": case_clip_grad_norm(),
        "schedules": case_schedules(),
        "logsigmoid_softplus": case_logsigmoid_softplus(),
    }
    os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
    text = to_json(goldens)
    assert json.loads(text) == goldens
    with open(OUT_PATH, "w") as f:
        f.write(text + "\n")
    print(f"wrote {os.path.relpath(OUT_PATH, REPO_ROOT)} ({len(text) + 1} bytes)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
