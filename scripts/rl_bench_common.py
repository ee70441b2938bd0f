"""What the TRL halves of the RL benchmarks share (scripts/bench_ppo_trl.py, bench_grpo_trl.py):
reading prompts in the formats align ppo reads."""


def prompt_messages(row):
    """The prompt of a JSONL row as chat messages: {"prompt": text}, {"prompt": [messages]}, or the
    messages of {"messages": [...]} before the first assistant turn."""
    if "messages" in row:
        msgs = []
        for m in row["messages"]:
            if m["role"] == "assistant":
                break
            msgs.append(m)
        return msgs
    prompt = row["prompt"]
    return [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
