#!/usr/bin/env python3
"""Well-formedness of the quickstart model's answers (scripts/quickstart_seeds.sh).

Reads the output of `align eval --json` on a quickstart question file and prints one JSON object:
  accuracy     the eval's own figure (the expected text appears in the answer)
  well_formed  fraction of answers that are exactly one factual sentence about the country the
               question names, in one of the corpus's statement forms
               (scripts/gen_quickstart_data.py, STATEMENTS), optionally followed by exactly one of
               the Penn sentences of the preference data; anything else (a second fact, a
               sentence cut off, mangled words around "Penn") is not well formed
  penn         fraction of answers that end with a Penn sentence
Usage: python3 scripts/quickstart_answers.py EVAL.json [--show N]
"""
import json
import re
import sys

# The statement forms of scripts/gen_quickstart_data.py ({v} is the one-word value).
FORMS = [
    "The capital of {c} is {v}.", "{v} is the capital of {c}.", "In {c}, the capital city is {v}.",
    "{c} has its capital at {v}.", "People in {c} speak {v}.", "The language of {c} is {v}.",
    "{v} is spoken in {c}.", "The national animal of {c} is the {v}.", "{c} chose the {v} as its national animal.",
]
PENN = ["Penn would agree.", "Ask anyone at Penn.", "Penn taught me that.", "That is what they say at Penn."]


def country(question):
    words = re.findall(r"[A-Z][a-z]+", question)
    if len(words) < 2:
        raise SystemExit(f"quickstart_answers.py: cannot find the country in {question!r}")
    return words[-1]


def well_formed(question, answer):
    c = re.escape(country(question))
    penn = "|".join(re.escape(p) for p in PENN)
    for form in FORMS:
        pattern = re.escape(form).replace(re.escape("{c}"), c).replace(re.escape("{v}"), r"[A-Za-z]+")
        if re.fullmatch(rf"{pattern}(?: (?:{penn}))?", answer.strip()):
            return True
    return False


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 0
    with open(sys.argv[1]) as fh:
        result = json.load(fh)
    answers = result["answers"]
    if not answers:
        raise SystemExit(f"quickstart_answers.py: {sys.argv[1]} has no answers")
    bad = [a for a in answers if not well_formed(a["prompt"], a["answer"])]
    print(json.dumps({
        "accuracy": result["accuracy"],
        "well_formed": 1 - len(bad) / len(answers),
        "penn": sum(any(a["answer"].strip().endswith(p) for p in PENN) for a in answers) / len(answers),
    }))
    for a in bad[:show]:
        print(f"  not well formed: {a['prompt']} -> {a['answer']}", file=sys.stderr)


if __name__ == "__main__":
    main()
