#!/usr/bin/env python3
"""Real model answers for the IFEval agreement test: turns the `--json` output of
`align eval --task ifeval` into the answers file that scripts/gen_ifeval_goldens.sh scores with
the reference checker (Tests/IFEvalTests/Fixtures/ifeval_model_answers.jsonl).

    python3 scripts/ifeval_answers_fixture.py PROMPTS.jsonl EVAL.json [EVAL.json ...] > answers.jsonl

PROMPTS.jsonl is the IFEval-format file that was evaluated (its kwargs are joined by key);
each EVAL.json contributes every answer it holds, in order. Standard library only.
"""
import json
import sys


def main(prompts_path, evals):
    records = {}
    for line in open(prompts_path, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            records[str(r["key"])] = r
    for path in evals:
        for a in json.load(open(path, encoding="utf-8"))["answers"]:
            r = records.get(str(a["key"]))
            if r is None:
                sys.exit(f"error: {path}: key {a['key']} is not in {prompts_path}")
            print(json.dumps({"prompt": r["prompt"], "instruction_id_list": r["instruction_id_list"], "kwargs": r["kwargs"],
                              "response": a["response"]}, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
