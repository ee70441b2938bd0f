#!/usr/bin/env python3
"""Writes configs/eval/general_choice.jsonl: 40 four-way multiple-choice questions of common
knowledge (geography, science, arithmetic, language), written here by hand, with the right
option placed by a seeded shuffle. For `align eval --task choice` on a real pretrained model
(e.g. SmolLM2-135M-Instruct): accuracy from the option letters' logits and the calibration
of those probabilities. Run: python3 scripts/gen_general_choice.py
"""
import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "configs/eval/general_choice.jsonl"
rng = random.Random(40)
# (question, right answer, three wrong answers)
ITEMS = [
    ("What is the capital of France?", "Paris", ["Berlin", "Madrid", "Rome"]),
    ("What is the capital of Japan?", "Tokyo", ["Beijing", "Seoul", "Bangkok"]),
    ("What is the capital of Italy?", "Rome", ["Milan", "Venice", "Naples"]),
    ("What is the capital of Germany?", "Berlin", ["Munich", "Hamburg", "Vienna"]),
    ("What is the capital of Spain?", "Madrid", ["Barcelona", "Lisbon", "Seville"]),
    ("What is the capital of Canada?", "Ottawa", ["Toronto", "Vancouver", "Montreal"]),
    ("What is the capital of Australia?", "Canberra", ["Sydney", "Melbourne", "Perth"]),
    ("What is the capital of Egypt?", "Cairo", ["Alexandria", "Nairobi", "Tunis"]),
    ("Which is the largest ocean on Earth?", "The Pacific Ocean", ["The Atlantic Ocean", "The Indian Ocean", "The Arctic Ocean"]),
    ("Which is the longest river in Africa?", "The Nile", ["The Congo", "The Niger", "The Zambezi"]),
    ("On which continent is Brazil?", "South America", ["Africa", "Asia", "Europe"]),
    ("Which planet is closest to the Sun?", "Mercury", ["Venus", "Mars", "Jupiter"]),
    ("Which planet is known as the Red Planet?", "Mars", ["Venus", "Saturn", "Neptune"]),
    ("What is the largest planet in the solar system?", "Jupiter", ["Saturn", "Earth", "Uranus"]),
    ("What do plants take in from the air for photosynthesis?", "Carbon dioxide", ["Oxygen", "Nitrogen", "Helium"]),
    ("What is the chemical symbol for water?", "H2O", ["CO2", "O2", "NaCl"]),
    ("What is the chemical symbol for gold?", "Au", ["Ag", "Fe", "Gd"]),
    ("At what temperature does water boil at sea level?", "100 degrees Celsius", ["50 degrees Celsius", "0 degrees Celsius", "200 degrees Celsius"]),
    ("What is the freezing point of water?", "0 degrees Celsius", ["10 degrees Celsius", "32 degrees Celsius", "100 degrees Celsius"]),
    ("How many legs does a spider have?", "Eight", ["Six", "Four", "Ten"]),
    ("How many legs does an insect have?", "Six", ["Eight", "Four", "Twelve"]),
    ("Which animal is the largest mammal?", "The blue whale", ["The elephant", "The giraffe", "The hippopotamus"]),
    ("What gas do humans need to breathe?", "Oxygen", ["Carbon dioxide", "Hydrogen", "Neon"]),
    ("Which organ pumps blood through the body?", "The heart", ["The liver", "The lungs", "The kidneys"]),
    ("What is 2 + 2?", "4", ["3", "5", "22"]),
    ("What is 7 times 8?", "56", ["54", "48", "64"]),
    ("What is 10 minus 3?", "7", ["6", "8", "13"]),
    ("What is half of 100?", "50", ["25", "20", "200"]),
    ("How many days are in a week?", "Seven", ["Five", "Six", "Ten"]),
    ("How many months are in a year?", "Twelve", ["Ten", "Eleven", "Thirteen"]),
    ("How many minutes are in an hour?", "Sixty", ["Thirty", "One hundred", "Twenty-four"]),
    ("How many sides does a triangle have?", "Three", ["Four", "Five", "Six"]),
    ("What is the opposite of hot?", "Cold", ["Warm", "Big", "Fast"]),
    ("What is the plural of mouse?", "Mice", ["Mouses", "Meese", "Mousen"]),
    ("Which word is a color?", "Blue", ["Table", "Run", "Quickly"]),
    ("Who wrote Romeo and Juliet?", "William Shakespeare", ["Charles Dickens", "Jane Austen", "Mark Twain"]),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci", ["Pablo Picasso", "Vincent van Gogh", "Claude Monet"]),
    ("In which country are the pyramids of Giza?", "Egypt", ["Mexico", "Peru", "Greece"]),
    ("What is the main language spoken in Brazil?", "Portuguese", ["Spanish", "French", "English"]),
    ("Which instrument has black and white keys?", "The piano", ["The violin", "The drum", "The flute"]),
]

OUT.parent.mkdir(parents=True, exist_ok=True)
with open(OUT, "w") as fh:
    for question, right, wrong in ITEMS:
        options = wrong + [right]
        rng.shuffle(options)
        fh.write(json.dumps({"question": question, "choices": options, "answer": "ABCD"[options.index(right)]}) + "\n")
print(OUT.relative_to(OUT.parents[2]), len(ITEMS), "questions")
