#!/usr/bin/env python3
"""Writes IFEval-style instruction-following prompts for RL training and a held-out evaluation set.

What it makes (configs/ifeval/):
  train.jsonl    1,500 prompts, keys 1..1500
  heldout.jsonl    300 prompts, keys 100000..100299
  README.md      format, counts, split rules and per-instruction counts (written from the data)

Every line is one JSON object in IFEval's own format (Zhou et al. 2023, "Instruction-Following
Evaluation for Large Language Models"; checks from Google's reference implementation):
  {"key": int, "prompt": str, "instruction_id_list": [...], "kwargs": [{...}, ...]}
kwargs[i] belongs to instruction_id_list[i] and carries exactly the keyword arguments that
checker's build_description takes ({} for the instructions that take none), so any IFEval
checker (the reference one or a port) can score a response to the prompt.

Prompts: a base task (a chat request such as "Write a limerick about a stray dog." or a yes/no
question, made from task forms x topics, all written here; nothing is taken from the public IFEval
test set) plus 1-3 verifiable constraints (45 % one, 35 % two, 20 % three), compatible under
IFEval's INSTRUCTION_CONFLICTS (made symmetric as the reference's conflict_make does) and under a
few extra rules that keep a prompt satisfiable (no "less than 30 words" with "at least 8
sentences", no forbidden word that the prompt itself uses, ...). Each of the 25 instruction ids is
phrased in IFEval's build_description wording or one of a few paraphrases, after the task (about
one prompt in six: before it). Within a file the ids are drawn towards equal counts.

How the split works:
  * topics: ten domains (objects and nature, science and history, hobbies, everyday life, places,
    products, events, debates, people, food) of 34-36 topics each; a fixed seeded shuffle puts
    7 topics of every domain in the held-out set only. Task forms marked held-out only (two per
    domain, plus one yes/no question form) are never used for training, so every held-out base
    task is new, and no held-out topic phrase occurs anywhere in a training prompt (checked).
  * arguments: every categorical pool (keywords, forbidden words, first words, end phrases,
    postscript markers, section splitters, letters, languages) and every integer range
    (num_bullets, num_words, frequencies, ...) has a training part and a disjoint held-out part:
    no string argument of a held-out line (other than the relation strings "less than" /
    "at least", which IFEval fixes) occurs in any training line, and no (instruction id, kwarg,
    integer) of a held-out line occurs in a training line.
  * The generator asserts all of this at the end (topics, base tasks, argument values, kwargs
    keys and types per id, conflicts, keys) and prints the counts per instruction id.

Run:
  python3 scripts/gen_ifeval_prompts.py
regenerates the three files byte-identically (fixed seed, Python 3 standard library only, no
network). Optional, by hand: `--checker DIR` with DIR the `ifeval` directory of a copy of the
reference checkers (instructions.py, instructions_registry.py, instructions_util.py) also builds
every line's checkers from its kwargs, compares INSTRUCTION_DICT, INSTRUCTION_CONFLICTS and
LANGUAGE_CODES with the copies below, and runs the regex checkers on synthetic responses that use
the invented argument values (postscript markers, section splitters, end phrases, first words).
langdetect, nltk and immutabledict are stubbed when absent (only the language/sentence checks
use them, and those are not run here).
"""
import argparse
import importlib.util
import json
import random
import re
import sys
import types
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "configs/ifeval"
SEED = 20231114
N_TRAIN = 1500
N_HELDOUT = 300
KEY_TRAIN = 1
KEY_HELDOUT = 100000
HELDOUT_TOPICS_PER_DOMAIN = 7
N_CONSTRAINTS_WEIGHTS = ((1, 45), (2, 35), (3, 20))

# --------------------------------------------------------------------------------------------
# IFEval's 25 instruction ids, the kwargs each checker's build_description takes (in its order),
# and INSTRUCTION_CONFLICTS as written in instructions_registry.py.
# --------------------------------------------------------------------------------------------
ARG_KEYS = {
    "keywords:existence": ("keywords",),
    "keywords:frequency": ("keyword", "frequency", "relation"),
    "keywords:forbidden_words": ("forbidden_words",),
    "keywords:letter_frequency": ("letter", "let_frequency", "let_relation"),
    "language:response_language": ("language",),
    "length_constraints:number_sentences": ("num_sentences", "relation"),
    "length_constraints:number_paragraphs": ("num_paragraphs",),
    "length_constraints:number_words": ("num_words", "relation"),
    "length_constraints:nth_paragraph_first_word": ("num_paragraphs", "nth_paragraph", "first_word"),
    "detectable_content:number_placeholders": ("num_placeholders",),
    "detectable_content:postscript": ("postscript_marker",),
    "detectable_format:number_bullet_lists": ("num_bullets",),
    "detectable_format:constrained_response": (),
    "detectable_format:number_highlighted_sections": ("num_highlights",),
    "detectable_format:multiple_sections": ("section_spliter", "num_sections"),
    "detectable_format:json_format": (),
    "detectable_format:title": (),
    "combination:two_responses": (),
    "combination:repeat_prompt": ("prompt_to_repeat",),
    "startend:end_checker": ("end_phrase",),
    "change_case:capital_word_frequency": ("capital_frequency", "capital_relation"),
    "change_case:english_capital": (),
    "change_case:english_lowercase": (),
    "punctuation:no_comma": (),
    "startend:quotation": (),
}
IDS = list(ARG_KEYS)
RELATIONS = ("less than", "at least")
RELATION_KWARGS = {"relation", "let_relation", "capital_relation"}


def _raw_conflicts():
    every = set(IDS)
    return {
        "keywords:existence": {"keywords:existence"},
        "keywords:frequency": {"keywords:frequency"},
        "keywords:forbidden_words": {"keywords:forbidden_words"},
        "keywords:letter_frequency": {"keywords:letter_frequency"},
        "language:response_language": {
            "language:response_language", "detectable_format:multiple_sections",
            "keywords:existence", "keywords:frequency", "keywords:forbidden_words",
            "startend:end_checker", "change_case:english_capital", "change_case:english_lowercase",
        },
        "length_constraints:number_sentences": {"length_constraints:number_sentences"},
        "length_constraints:number_paragraphs": {
            "length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word",
            "length_constraints:number_sentences",
        },
        "length_constraints:number_words": {"length_constraints:number_words"},
        "length_constraints:nth_paragraph_first_word": {
            "length_constraints:nth_paragraph_first_word", "length_constraints:number_paragraphs",
        },
        "detectable_content:number_placeholders": {"detectable_content:number_placeholders"},
        "detectable_content:postscript": {"detectable_content:postscript"},
        "detectable_format:number_bullet_lists": {"detectable_format:number_bullet_lists"},
        "detectable_format:constrained_response": set(every),
        "detectable_format:number_highlighted_sections": {
            "detectable_format:number_highlighted_sections"},
        "detectable_format:multiple_sections": {
            "detectable_format:multiple_sections", "language:response_language",
            "detectable_format:number_highlighted_sections",
        },
        "detectable_format:json_format": every - {"keywords:forbidden_words", "keywords:existence"},
        "detectable_format:title": {"detectable_format:title"},
        "combination:two_responses": every - {
            "keywords:forbidden_words", "keywords:existence", "language:response_language",
            "detectable_format:title", "punctuation:no_comma",
        },
        "combination:repeat_prompt": every - {
            "keywords:existence", "detectable_format:title", "punctuation:no_comma"},
        "startend:end_checker": {"startend:end_checker"},
        "change_case:capital_word_frequency": {
            "change_case:capital_word_frequency", "change_case:english_lowercase",
            "change_case:english_capital",
        },
        "change_case:english_capital": {"change_case:english_capital"},
        "change_case:english_lowercase": {
            "change_case:english_lowercase", "change_case:english_capital"},
        "punctuation:no_comma": {"punctuation:no_comma"},
        "startend:quotation": {"startend:quotation", "detectable_format:title"},
    }


def make_symmetric(conflicts):
    """The reference's conflict_make: every id conflicts with itself; A-B implies B-A."""
    out = {k: set(v) for k, v in conflicts.items()}
    for key in list(out):
        for other in list(out[key]):
            out[other].add(key)
        out[key].add(key)
    return out


CONFLICTS = make_symmetric(_raw_conflicts())

# The reference's LANGUAGE_CODES (instructions_util.py).
LANGUAGE_CODES = {
    "en": "English", "es": "Spanish", "pt": "Portuguese", "ar": "Arabic", "hi": "Hindi",
    "fr": "French", "ru": "Russian", "de": "German", "ja": "Japanese", "it": "Italian",
    "bn": "Bengali", "uk": "Ukrainian", "th": "Thai", "ur": "Urdu", "ta": "Tamil",
    "te": "Telugu", "bg": "Bulgarian", "ko": "Korean", "pl": "Polish", "he": "Hebrew",
    "fa": "Persian", "vi": "Vietnamese", "ne": "Nepali", "sw": "Swahili", "kn": "Kannada",
    "mr": "Marathi", "gu": "Gujarati", "pa": "Punjabi", "ml": "Malayalam", "fi": "Finnish",
}
NO_SPACE_LANGUAGES = {"ja", "th"}  # word and sentence counts are meaningless there

# --------------------------------------------------------------------------------------------
# Base tasks: domains of topics x task forms. "{t}" is the topic. A form is (text, flags) with
# flags from: "short" (a haiku, limerick, ...: no paragraph/section/bullet structure, no
# "at least" length), "yesno" (a yes/no question: only for constrained_response), "heldout"
# (the form is used for held-out base tasks only).
# --------------------------------------------------------------------------------------------
DOMAINS = {
    "objects and nature": {
        "topics": [
            "a lighthouse", "an old oak tree", "a lost umbrella", "a sleepy cat",
            "the first snowfall of winter", "a paper boat", "a broken clock", "a hot air balloon",
            "a family of ducks", "a rainy afternoon", "an old library book", "a garden snail",
            "the full moon", "a pair of worn-out shoes", "a lonely robot", "a field of sunflowers",
            "a thunderstorm", "a sandcastle", "a grandfather's pocket watch", "a stray dog",
            "a kite on a windy day", "a dragonfly", "an empty playground", "a cup of hot cocoa",
            "a mountain goat", "a message in a bottle", "a tiny seed", "an old bicycle",
            "a jar of fireflies", "a penguin", "an octopus", "a rainbow", "a snowman",
            "an owl", "a wooden rocking chair", "a fox in the snow",
        ],
        "forms": [
            ("Write a short story about {t}.", ""),
            ("Write a poem about {t}.", ""),
            ("Write a limerick about {t}.", "short"),
            ("Write a haiku about {t}.", "short"),
            ("Write a riddle about {t} and reveal the answer at the end.", "short"),
            ("Write a bedtime story for children about {t}.", ""),
            ("Write a diary entry from the point of view of {t}.", ""),
            ("Write a vivid description of {t}.", ""),
            ("Write a song chorus about {t}.", "short"),
            ("Write a fable starring {t}.", "heldout"),
            ("Write a four-line rhyme about {t}.", "short heldout"),
            ("Could {t} be the main subject of a good children's book?", "yesno"),
            ("Is {t} a good subject for a painting?", "yesno"),
            ("Would {t} make a good symbol for a school sports team?", "yesno heldout"),
        ],
    },
    "science and history": {
        "topics": [
            "photosynthesis", "the water cycle", "vaccines and the immune system", "black holes",
            "compound interest", "the invention of the printing press", "plate tectonics",
            "the formation of rainbows", "the life cycle of a butterfly", "gravity",
            "the history of the bicycle", "the early internet", "supply and demand",
            "the phases of the moon", "electric circuits", "the Roman Empire", "climate change",
            "honey making by bees", "the solar system", "plastic recycling",
            "the causes of earthquakes", "the science of flight", "the history of chocolate",
            "renewable energy", "the first moon landing", "human memory", "inflation",
            "the food chain", "ocean tides", "binary numbers", "the Silk Road",
            "the invention of the telephone", "volcanoes", "the digestive system",
            "the color of the sky", "the ancient Olympic Games",
        ],
        "forms": [
            ("Explain {t} to a ten-year-old.", ""),
            ("Write a short summary of {t} for a school newsletter.", ""),
            ("Write a blog post about {t}.", ""),
            ("Write a short FAQ about {t}.", ""),
            ("List some interesting facts about {t}.", ""),
            ("Write a lesson plan for teaching {t} to high school students.", ""),
            ("Write a dialogue between a teacher and a curious student about {t}.", ""),
            ("Write a poem that explains {t}.", ""),
            ("Write a short quiz about {t} and include the answers.", "heldout"),
            ("Explain {t} using an everyday analogy.", "heldout"),
            ("Should {t} be taught in primary school?", "yesno"),
            ("Is {t} easy to explain without any technical words?", "yesno"),
            ("Do most adults understand {t} well?", "yesno heldout"),
        ],
    },
    "hobbies": {
        "topics": [
            "learning to play the guitar", "starting a vegetable garden",
            "training for a first 5K run", "baking sourdough bread", "learning a new language",
            "keeping a daily journal", "birdwatching", "starting a small podcast",
            "rock climbing", "knitting", "camping with children", "learning to code",
            "practicing yoga at home", "painting with watercolors",
            "volunteering at an animal shelter", "cycling to work", "learning chess",
            "photographing wildlife", "hiking in the mountains", "building furniture by hand",
            "swimming in open water", "playing in a community orchestra",
            "growing herbs on a balcony", "writing a first novel", "keeping backyard chickens",
            "learning to juggle", "making pottery", "meditating every morning", "stargazing",
            "composting food scraps", "learning to skateboard", "making homemade candles",
            "collecting vinyl records", "learning magic tricks", "sewing your own clothes",
        ],
        "forms": [
            ("Give advice to a beginner who wants to try {t}.", ""),
            ("Write a four-week plan for someone who is new to {t}.", ""),
            ("Write a list of tips for {t}.", ""),
            ("Write an email to a friend encouraging them to try {t}.", ""),
            ("Write a blog post about the benefits of {t}.", ""),
            ("Write a short motivational speech about {t}.", ""),
            ("Describe the most common mistakes beginners make when {t}.", ""),
            ("Compare {t} with watching television as a way to relax.", ""),
            ("Write a letter to your future self about {t}.", "heldout"),
            ("Write a thirty-day challenge for {t}.", "heldout"),
            ("Is {t} a good hobby for someone with a busy schedule?", "yesno"),
            ("Would you recommend {t} to a complete beginner?", "yesno"),
            ("Is {t} worth the time and money it takes?", "yesno heldout"),
        ],
    },
    "everyday life": {
        "topics": [
            "preparing for a job interview", "moving to a new city", "sleeping better",
            "saving money on groceries", "making friends at a new school", "working from home",
            "starting a first job", "dealing with stress before exams",
            "planning a wedding on a budget", "adopting a rescue dog", "buying a first car",
            "teaching a child to read", "caring for elderly parents", "managing screen time",
            "traveling alone for the first time", "renting a first apartment",
            "staying healthy during winter", "getting along with roommates", "asking for a raise",
            "learning to cook for one", "organizing a small home office",
            "recovering from a sports injury", "preparing for a long flight",
            "choosing a college major", "reducing food waste at home", "keeping houseplants alive",
            "packing for a camping trip", "writing a good resume",
            "balancing school and a part-time job", "setting goals for the new year",
            "welcoming a new baby", "handling a difficult conversation",
            "keeping a long-distance friendship alive", "training a new puppy",
        ],
        "forms": [
            ("Give practical advice on {t}.", ""),
            ("Write a checklist for {t}.", ""),
            ("Write an email to a friend with advice about {t}.", ""),
            ("Write a short guide to {t}.", ""),
            ("Write a blog post about {t}.", ""),
            ("Write a list of common mistakes to avoid when {t}.", ""),
            ("Write a dialogue between two friends about {t}.", ""),
            ("Write an advice column answer for a reader who is worried about {t}.", ""),
            ("Write a short speech for a school assembly about {t}.", "heldout"),
            ("Write a week-by-week plan for {t}.", "heldout"),
            ("Is {t} harder than most people expect?", "yesno"),
            ("Can {t} be done well without spending much money?", "yesno"),
            ("Should schools teach students about {t}?", "yesno heldout"),
        ],
    },
    "places": {
        "topics": [
            "a small fishing village", "the Amazon rainforest", "a busy train station",
            "a desert oasis", "an abandoned amusement park", "a floating market",
            "a mountain cabin", "a night market", "a quiet public library", "an underwater city",
            "a space station", "a medieval castle", "a rooftop garden", "a snowy ski town",
            "a crowded beach in summer", "a hidden valley", "a city park in autumn",
            "an old bookshop", "a bamboo forest", "a volcanic island", "a farmers market",
            "a tiny mountain village", "a museum at night", "a roadside diner in the desert",
            "a futuristic city", "a coastal town in winter", "a jungle river",
            "a mountain railway town", "a seaside cafe", "an ice hotel", "a city of canals",
            "a vineyard", "a busy airport", "a treehouse village", "a lakeside campsite",
        ],
        "forms": [
            ("Write a travel guide entry for {t}.", ""),
            ("Write a short story set in {t}.", ""),
            ("Write a poem describing {t} at sunrise.", ""),
            ("Write a postcard message from {t} to a friend back home.", "short"),
            ("Write a blog post about a weekend spent in {t}.", ""),
            ("Describe a typical day in {t}.", ""),
            ("Write a letter inviting a friend to visit {t}.", ""),
            ("Write a radio advertisement inviting tourists to {t}.", "heldout"),
            ("Write a ghost story set in {t}.", "heldout"),
            ("Would {t} be a good place for a family holiday?", "yesno"),
            ("Is {t} worth visiting in winter?", "yesno"),
            ("Would {t} be a good place to live for a year?", "yesno heldout"),
        ],
    },
    "products": {
        "topics": [
            "a solar-powered phone charger", "a reusable water bottle", "noise-cancelling headphones",
            "a smart plant pot", "a folding electric bike", "a self-heating lunch box",
            "a waterproof notebook", "a robot vacuum cleaner", "a language-learning app",
            "a handmade wool scarf", "an ergonomic office chair", "a portable coffee maker",
            "a coding kit for kids", "a sleep-tracking ring", "a board game about space travel",
            "a compact camping stove", "a bamboo toothbrush", "a smart doorbell",
            "a budgeting app for students", "an indoor herb garden kit", "a weighted blanket",
            "a pair of trail running shoes", "a meal-planning service", "a digital photo frame",
            "a wireless keyboard", "a cookbook for busy parents", "a travel backpack",
            "an automatic pet feeder", "an electric toothbrush", "a desk lamp that changes color",
            "a fitness tracker for seniors", "a collapsible kayak", "a smart thermostat",
            "a puzzle subscription box", "a rain jacket made from recycled plastic",
        ],
        "forms": [
            ("Write a product description for {t}.", ""),
            ("Write a customer review of {t}.", ""),
            ("Write an advertisement for {t}.", ""),
            ("Write an email announcing the launch of {t}.", ""),
            ("Write a short FAQ for people thinking of buying {t}.", ""),
            ("Write a pitch to investors for {t}.", ""),
            ("Write a comparison of {t} and a cheaper alternative.", ""),
            ("Write a social media post announcing a sale on {t}.", "short heldout"),
            ("Write the opening page of a user manual for {t}.", "heldout"),
            ("Is {t} worth buying for a college student?", "yesno"),
            ("Would {t} make a good birthday gift?", "yesno"),
            ("Is {t} worth its price?", "yesno heldout"),
        ],
    },
    "events": {
        "topics": [
            "a neighborhood cleanup day", "a school science fair", "a charity bake sale",
            "a surprise birthday party", "a company picnic", "a book club's first meeting",
            "a family reunion", "a community garden opening", "a local music festival",
            "a retirement party", "a graduation ceremony", "a village talent show",
            "a fundraising fun run", "a board game night", "a farewell party for a coworker",
            "a town hall meeting about parking", "a cultural food fair",
            "a winter holiday concert", "a beach cleanup", "a library reading marathon",
            "a welcome day for new employees", "a robotics competition", "a kite festival",
            "a pet adoption fair", "a wedding anniversary dinner", "a science museum sleepover",
            "an outdoor movie night", "a chess tournament", "a poetry reading night",
            "a clothing swap", "a tree planting day", "a student art exhibition",
            "a neighborhood block party", "a charity auction", "a cooking competition",
        ],
        "forms": [
            ("Write an invitation to {t}.", ""),
            ("Write a short speech to open {t}.", ""),
            ("Write a checklist for organizing {t}.", ""),
            ("Write an announcement for {t} to post on a community notice board.", ""),
            ("Write a thank-you note to the volunteers who helped with {t}.", ""),
            ("Write a plan for {t}.", ""),
            ("Write a poem celebrating {t}.", ""),
            ("Write a news report about {t}.", "heldout"),
            ("Write a text message reminding friends about {t}.", "short heldout"),
            ("Is {t} a good way to bring people together?", "yesno"),
            ("Can {t} be organized in just one week?", "yesno"),
            ("Would {t} work well on a rainy day?", "yesno heldout"),
        ],
    },
    "debates": {
        "topics": [
            "remote work", "school uniforms", "a four-day work week",
            "banning cars from city centers", "homework for young children",
            "social media for teenagers", "year-round schooling", "free public transport",
            "video games as a school subject", "a ban on single-use plastic",
            "online classes instead of lectures", "paying students for good grades", "zoos",
            "funding for space exploration", "self-driving cars", "a universal basic income",
            "daylight saving time", "smartphones in classrooms", "later school start times",
            "cash-free shops", "mandatory voting", "tipping in restaurants", "open-plan offices",
            "electric scooters in cities", "standardized testing", "a sugar tax",
            "artificial intelligence in schools", "working while studying", "pets in the office",
            "competitive sports for young children", "fast fashion", "reality television",
            "nuclear power", "meat-free school lunches", "teaching cursive handwriting",
        ],
        "forms": [
            ("Write a persuasive essay about {t}.", ""),
            ("List the pros and cons of {t}.", ""),
            ("Write a short debate between two friends about {t}.", ""),
            ("Write a letter to the editor of a local newspaper about {t}.", ""),
            ("Summarize the main arguments for and against {t}.", ""),
            ("Write an opinion piece about {t}.", ""),
            ("Explain why people disagree about {t}.", ""),
            ("Write a speech for a school debate about {t}.", "heldout"),
            ("Write a balanced news article about {t}.", "heldout"),
            ("Do the benefits of {t} outweigh the drawbacks?", "yesno"),
            ("Should governments encourage {t}?", "yesno"),
            ("Will {t} become more common in the next ten years?", "yesno heldout"),
        ],
    },
    "people": {
        "topics": [
            "a retired astronaut", "a nervous new teacher", "a night-shift nurse",
            "a young inventor", "a street musician", "a beekeeper", "a small-town baker",
            "a professional chess player", "a deep-sea diver", "a wildlife photographer",
            "a school bus driver", "a firefighter on her first day",
            "a chef who lost her sense of taste", "a shy librarian",
            "a time traveler from the future", "a retired circus performer",
            "a farmer during a drought", "a teenage video game designer", "a marathon runner",
            "a museum night guard", "a mail carrier in the mountains", "an elderly gardener",
            "a ship captain", "a new student from another country",
            "a detective who is afraid of the dark", "a robot learning to paint", "a tour guide",
            "a park ranger", "a doctor in a remote village", "an ice cream truck driver",
            "a kindergarten teacher", "a pilot", "a puppeteer", "a zookeeper",
            "a retired opera singer",
        ],
        "forms": [
            ("Write a short story about {t}.", ""),
            ("Write a letter from {t} to their younger self.", ""),
            ("Write an interview with {t}.", ""),
            ("Write a diary entry written by {t}.", ""),
            ("Write a poem about {t}.", ""),
            ("Write a monologue for {t}.", ""),
            ("Write a short magazine profile of {t}.", ""),
            ("Write a dialogue between {t} and a curious child.", "heldout"),
            ("Write a day-in-the-life article about {t}.", "heldout"),
            ("Would {t} make a good main character for a novel?", "yesno"),
            ("Is the life of {t} harder than most people think?", "yesno"),
            ("Would {t} enjoy a quiet weekend at home?", "yesno heldout"),
        ],
    },
    "food": {
        "topics": [
            "a quick vegetable soup", "homemade pizza", "banana bread", "a summer fruit salad",
            "spicy lentil stew", "pancakes for breakfast", "a chocolate birthday cake",
            "fresh lemonade", "a club sandwich", "roasted autumn vegetables", "fried rice",
            "apple pie", "a green smoothie", "mushroom risotto", "chicken noodle soup",
            "oatmeal cookies", "a cheese platter", "grilled corn", "homemade granola",
            "a tomato pasta sauce", "blueberry muffins", "hot ginger tea", "vegetable curry",
            "a simple omelet", "peanut butter cookies", "a hearty winter stew", "fish tacos",
            "cinnamon rolls", "a chickpea salad", "strawberry jam", "baked potatoes",
            "a rice bowl with vegetables", "carrot cake", "tomato soup", "garlic bread",
        ],
        "forms": [
            ("Write a recipe for {t}.", ""),
            ("Write a menu description of {t} for a small cafe.", "short"),
            ("Write a poem praising {t}.", ""),
            ("Write a food blog post about making {t}.", ""),
            ("Explain how to make {t} to someone who has never cooked before.", ""),
            ("Write a customer review of {t} at a local restaurant.", ""),
            ("Write a haiku about {t}.", "short"),
            ("Write a shopping list and a plan for making {t}.", ""),
            ("Write a cooking show script about making {t}.", "heldout"),
            ("Write a short story about a family making {t} together.", "heldout"),
            ("Is {t} a healthy choice for dinner?", "yesno"),
            ("Can a beginner make {t} at home?", "yesno"),
            ("Is {t} a good dish for a picnic?", "yesno heldout"),
        ],
    },
}

# --------------------------------------------------------------------------------------------
# Argument pools: (training values, held-out values), disjoint.
# Words are plain lowercase English words (the checkers use them as regular expressions).
# --------------------------------------------------------------------------------------------
KEYWORDS = (
    [
        "adventure", "anchor", "balance", "basket", "blanket", "bottle", "bridge", "butter",
        "cactus", "candle", "canvas", "captain", "carpet", "castle", "century", "cherry",
        "circle", "comfort", "compass", "cotton", "courage", "crystal", "diamond", "dragon",
        "eagle", "engine", "fabric", "falcon", "feather", "forest", "freedom", "galaxy",
        "garden", "glacier", "golden", "hammer", "harbor", "harmony", "harvest", "helmet",
        "horizon", "island", "jacket", "jungle", "kettle", "kingdom", "ladder", "lantern",
        "legend", "lemon", "machine", "magnet", "marble", "meadow", "mirror", "mountain",
        "mystery", "needle", "network", "ocean", "orchard", "palace", "pattern", "pebble",
        "pepper", "pillow", "pirate", "planet", "pocket", "puzzle", "rabbit", "rhythm", "river",
        "rocket", "saddle", "sailor", "shadow", "signal", "silver", "spider", "sponge", "storm",
        "stream", "thunder", "ticket", "tiger", "timber", "treasure", "tunnel", "turtle",
        "valley", "velvet", "village", "violin", "voyage", "walnut", "whisper", "window",
        "wizard", "zebra",
    ],
    [
        "beacon", "blossom", "cabinet", "canyon", "carnival", "copper", "dolphin", "emerald",
        "fountain", "granite", "iceberg", "lagoon", "meteor", "monsoon", "nectar", "parrot",
        "prism", "quartz", "raven", "satellite", "scarlet", "tornado", "tulip", "walrus",
        "willow", "orbit",
    ],
)
FORBIDDEN = (
    [
        "very", "really", "just", "great", "good", "amazing", "beautiful", "important",
        "things", "always", "many", "also", "often", "people", "simple", "easy", "best", "love",
        "world", "life", "time", "help", "like", "need", "make", "nice", "perfect", "special",
        "unique", "fun", "happy", "enjoy", "new", "big", "small", "little", "hard", "different",
        "interesting", "wonderful", "definitely", "probably", "truly", "feel", "think",
    ],
    [
        "quite", "certainly", "lovely", "awesome", "incredible", "basically", "together",
        "favorite", "stuff", "huge", "usually", "absolutely",
    ],
)
FIRST_WORDS = (
    [
        "first", "however", "finally", "imagine", "meanwhile", "overall", "next", "once",
        "sometimes", "although", "after", "when", "while", "most", "this", "our", "still",
        "instead", "recently", "perhaps", "indeed", "yet", "there", "then", "today",
    ],
    ["besides", "later", "luckily", "now", "suddenly", "because", "clearly"],
)
END_PHRASES = (
    [
        "Is there anything else I can help with?", "Any other questions?",
        "Let me know if you have additional questions.", "Thank you for reading.",
        "That is all for now.", "Hope this helps!", "Have a wonderful day!", "Stay curious.",
        "See you next time.", "The end.", "Until next time!", "Good luck!",
    ],
    [
        "Thanks for your time.", "That is my final answer.", "Happy exploring!",
        "Take care and goodbye.", "Enjoy the rest of your day.",
    ],
)
POSTSCRIPT_MARKERS = (["P.S.", "P.P.S", "PS:", "Addendum:", "Footnote:"], ["Note:", "N.B.", "Reminder:"])
SECTION_SPLITTERS = (["Section", "SECTION", "Part", "Chapter"], ["PART", "Segment"])
# Letters: "less than" only with letters a response can do without; very rare letters get small
# "at least" counts.
LETTERS = (
    [c for c in "abcdefghijklmnopqrstuvwxyz" if c not in "bdmwz"],
    ["b", "d", "m", "w", "z"],
)
LESS_THAN_LETTERS = set("jqxzkvwybpfg")
VERY_RARE_LETTERS = set("jqxz")
# Languages (codes of the reference's LANGUAGE_CODES; English is never asked for). The weight
# favours languages a small chat model has seen most.
LANGUAGES = (
    [("es", 3), ("fr", 3), ("de", 3), ("pt", 3), ("ru", 2), ("ja", 2), ("ar", 2), ("hi", 2),
     ("pl", 1), ("vi", 1), ("fi", 1), ("he", 1), ("fa", 1), ("bn", 1), ("ur", 1), ("te", 1),
     ("mr", 1), ("ne", 1), ("kn", 1), ("gu", 1), ("pa", 1), ("ml", 1), ("bg", 1)],
    [("it", 3), ("ko", 2), ("uk", 1), ("th", 1), ("ta", 1), ("sw", 1)],
)
# Integers: (id, kwarg) -> (training values, held-out values).
INTS = {
    ("keywords:frequency", "frequency"): ([1, 3, 5, 6], [2, 4]),
    ("keywords:letter_frequency", "let_frequency"): ([2, 3, 4, 6, 7, 9, 10, 12], [5, 8, 11]),
    ("length_constraints:number_sentences", "num_sentences"): ([2, 3, 5, 6, 8, 9, 11, 12], [4, 7, 10]),
    ("length_constraints:number_words", "num_words"):
        ([30, 40, 50, 75, 100, 150, 200, 250, 300], [60, 80, 120, 180]),
    ("length_constraints:number_paragraphs", "num_paragraphs"): ([2, 4, 5], [3]),
    ("length_constraints:nth_paragraph_first_word", "num_paragraphs"): ([2, 3, 5], [4]),
    ("length_constraints:nth_paragraph_first_word", "nth_paragraph"): ([1, 3, 5], [2, 4]),
    ("detectable_content:number_placeholders", "num_placeholders"): ([1, 2, 4], [3]),
    ("detectable_format:number_bullet_lists", "num_bullets"): ([1, 2, 4, 5], [3]),
    ("detectable_format:number_highlighted_sections", "num_highlights"): ([1, 2, 4], [3]),
    ("detectable_format:multiple_sections", "num_sections"): ([2, 4, 5], [3]),
    ("change_case:capital_word_frequency", "capital_frequency"):
        ([2, 3, 5, 6, 8, 10, 12, 15, 20], [4, 7, 9]),
}
SIDES = ("train", "heldout")
SIDE_INDEX = {"train": 0, "heldout": 1}

# Example texts shown inside some constraints (not arguments).
TITLE_EXAMPLES = ["poem of joy", "a day to remember", "my summer plans", "morning light", "the big idea"]
PLACEHOLDER_EXAMPLES = ["[address]", "[name]", "[date]", "[city]"]

# --------------------------------------------------------------------------------------------
# Constraint phrasing: IFEval's build_description text first, then paraphrases.
# --------------------------------------------------------------------------------------------


def quoted_list(words, conj):
    q = [f'"{w}"' for w in words]
    if len(q) == 1:
        return q[0]
    return ", ".join(q[:-1]) + f" {conj} " + q[-1]


def plain_list(words, conj):
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + f" {conj} " + words[-1]


def times(n):
    return "1 time" if n == 1 else f"{n} times"


def rel_words(rel, paraphrase):
    """'less than' / 'at least', or a paraphrase of 'less than' with the same meaning."""
    if rel == "less than" and paraphrase:
        return "fewer than"
    return rel


ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}


def describe(iid, a, rng):
    v = rng.randrange(3)
    if iid == "keywords:existence":
        kw = a["keywords"]
        s = "s" if len(kw) > 1 else ""
        return [
            f"Include the keyword{s} {quoted_list(kw, 'and')} in the response.",
            f"Make sure your answer uses the word{s} {plain_list(kw, 'and')}.",
            f"Your response must contain the word{s} {quoted_list(kw, 'and')}.",
        ][v]
    if iid == "keywords:frequency":
        k, n, rel = a["keyword"], a["frequency"], a["relation"]
        return [
            f"In your response, the word {k} should appear {rel} {times(n)}.",
            f'Use the word "{k}" {rel_words(rel, True)} {times(n)} in your answer.',
            f'The word "{k}" must appear {rel_words(rel, True)} {times(n)} in your response.',
        ][v]
    if iid == "keywords:forbidden_words":
        fw = a["forbidden_words"]
        s = "s" if len(fw) > 1 else ""
        return [
            f"Do not include the keyword{s} {quoted_list(fw, 'or')} in the response.",
            f"Avoid the word{s} {plain_list(fw, 'and')} in your answer.",
            f"Never use the word{s} {quoted_list(fw, 'or')} anywhere in your response.",
        ][v]
    if iid == "keywords:letter_frequency":
        l, n, rel = a["letter"], a["let_frequency"], a["let_relation"]
        return [
            f"In your response, the letter {l} should appear {rel} {times(n)}.",
            f'Make sure the letter "{l}" appears {rel_words(rel, True)} {times(n)} in your answer.',
            f"Use the letter {l} {rel_words(rel, True)} {times(n)} in your response.",
        ][v]
    if iid == "language:response_language":
        name = LANGUAGE_CODES[a["language"]]
        return [
            f"Your ENTIRE response should be in {name} language, no other language is allowed.",
            f"Please respond only in {name}; do not use any other language.",
            f"Write your whole answer in {name} and in no other language.",
        ][v]
    if iid == "length_constraints:number_sentences":
        n, rel = a["num_sentences"], a["relation"]
        return [
            f"Your response should contain {rel} {n} sentences.",
            f"Answer in {rel_words(rel, True)} {n} sentences.",
            f"The answer must have {rel_words(rel, True)} {n} sentences.",
        ][v]
    if iid == "length_constraints:number_paragraphs":
        n = a["num_paragraphs"]
        return [
            f"There should be {n} paragraphs. Paragraphs are separated with the markdown divider: ***",
            f"Write exactly {n} paragraphs, and separate them with the markdown divider ***.",
            f"Your answer must consist of {n} paragraphs separated from each other by ***.",
        ][v]
    if iid == "length_constraints:number_words":
        n, rel = a["num_words"], a["relation"]
        if rel == "less than":
            second = f"Keep your response under {n} words."
        else:
            second = f"Your response should be at least {n} words long."
        return [
            f"Answer with {rel} {n} words.",
            second,
            f"Use {rel_words(rel, True)} {n} words in your response.",
        ][v]
    if iid == "length_constraints:nth_paragraph_first_word":
        n, k, w = a["num_paragraphs"], a["nth_paragraph"], a["first_word"]
        return [
            f"There should be {n} paragraphs. Paragraphs and only paragraphs are separated with "
            f"each other by two new lines as if it was '\\n\\n' in python. "
            f"Paragraph {k} must start with word {w}.",
            f"Write {n} paragraphs separated by blank lines (two new lines), with no other blank "
            f'lines. The {ORDINALS[k]} paragraph must begin with the word "{w}".',
            f"Your answer should have exactly {n} paragraphs, separated from each other by two "
            f"line breaks. Start paragraph {k} with the word {w}.",
        ][v]
    if iid == "detectable_content:number_placeholders":
        n = a["num_placeholders"]
        ex = rng.choice(PLACEHOLDER_EXAMPLES)
        s = "" if n == 1 else "s"
        return [
            f"The response must contain at least {n} placeholder{s} represented by square "
            f"brackets, such as {ex}.",
            f"Include at least {n} placeholder{s} in square brackets, like {ex}.",
            f"Use at least {n} placeholder{s} written in square brackets (for example {ex}).",
        ][v]
    if iid == "detectable_content:postscript":
        m = a["postscript_marker"]
        return [
            f"At the end of your response, please explicitly add a postscript starting with {m}",
            f'End your answer with a postscript that begins with "{m}".',
            f"Add a postscript at the end of your response, starting with {m}",
        ][v]
    if iid == "detectable_format:number_bullet_lists":
        n = a["num_bullets"]
        pts = "bullet point" if n == 1 else "bullet points"
        return [
            f"Your answer must contain exactly {n} {pts}. Use the markdown bullet points such as:\n"
            "* This is point 1. \n* This is point 2",
            f"Give exactly {n} {pts} in markdown format, like:\n* First point\n* Second point",
            f'Use exactly {n} markdown {pts} (lines that start with "* ") in your answer.',
        ][v]
    if iid == "detectable_format:constrained_response":
        return [
            "Answer with one of the following options: "
            "('My answer is yes.', 'My answer is no.', 'My answer is maybe.')",
            'Your answer must contain exactly one of these phrases: "My answer is yes.", '
            '"My answer is no.", or "My answer is maybe."',
            "Reply with one of: My answer is yes. / My answer is no. / My answer is maybe.",
        ][v]
    if iid == "detectable_format:number_highlighted_sections":
        n = a["num_highlights"]
        s = "" if n == 1 else "s"
        return [
            f"Highlight at least {n} section{s} in your answer with markdown, i.e. *highlighted section*.",
            f"Use markdown to highlight at least {n} part{s} of your answer, for example *highlighted part*.",
            f"Mark at least {n} key phrase{s} with single asterisks, like *this one*.",
        ][v]
    if iid == "detectable_format:multiple_sections":
        s, n = a["section_spliter"], a["num_sections"]
        return [
            f"Your response must have {n} sections. Mark the beginning of each section with "
            f"{s} X, such as:\n{s} 1\n[content of section 1]\n{s} 2\n[content of section 2]",
            f"Divide your answer into {n} sections and start each one with {s} X "
            f"(for example: {s} 1, {s} 2).",
            f'Organize the response into {n} sections, each beginning with "{s}" and its number, '
            f"like {s} 1.",
        ][v]
    if iid == "detectable_format:json_format":
        return [
            "Entire output should be wrapped in JSON format. You can use markdown ticks such as ```.",
            "Format your whole response as valid JSON. You may wrap it in markdown ticks ```.",
            "Return the entire answer as JSON and nothing else.",
        ][v]
    if iid == "detectable_format:title":
        ex = rng.choice(TITLE_EXAMPLES)
        return [
            f"Your answer must contain a title, wrapped in double angular brackets, such as <<{ex}>>.",
            f"Give your response a title in double angular brackets, like <<{ex}>>.",
            f"Include a title wrapped in double angular brackets, for example <<{ex}>>.",
        ][v]
    if iid == "combination:two_responses":
        return [
            "Give two different responses. Responses and only responses should be separated by "
            "6 asterisk symbols: ******.",
            "Write two different versions of your answer and separate them with six asterisks: ******",
            "Provide two distinct responses, separated only by ****** (six asterisks).",
        ][v]
    if iid == "combination:repeat_prompt":
        return [
            "First repeat the request word for word without change, then give your answer (1. do "
            "not say any words or characters before repeating the request; 2. the request you "
            "need to repeat does not include this sentence)",
            "Before you answer, repeat the request above word for word without any change. Do not "
            "write anything before the repeated request, and do not repeat this sentence. Then "
            "give your answer.",
            "Start your reply by copying the request exactly as written (not this instruction), "
            "then answer it. Nothing may come before the copied request.",
        ][v]
    if iid == "startend:end_checker":
        p = a["end_phrase"]
        return [
            f"Finish your response with this exact phrase {p} No other words should follow this phrase."
            if p[-1] in ".?!" else
            f"Finish your response with this exact phrase {p}. No other words should follow this phrase.",
            f'End your answer with the exact phrase "{p}" and write nothing after it.',
            f'Your response must end with the words "{p}" with nothing after them.',
        ][v]
    if iid == "change_case:capital_word_frequency":
        n, rel = a["capital_frequency"], a["capital_relation"]
        return [
            f"In your response, words with all capital letters should appear {rel} {times(n)}.",
            f"Use {rel_words(rel, True)} {n} words written entirely in capital letters.",
            f"Words in ALL CAPITAL LETTERS should appear {rel_words(rel, True)} {times(n)} in your answer.",
        ][v]
    if iid == "change_case:english_capital":
        return [
            "Your entire response should be in English, and in all capital letters.",
            "Write your whole answer in English using only capital letters.",
            "Respond in English, in capital letters only.",
        ][v]
    if iid == "change_case:english_lowercase":
        return [
            "Your entire response should be in English, and in all lowercase letters. No capital "
            "letters are allowed.",
            "Write your answer in English using only lowercase letters; no capital letters at all.",
            "Respond entirely in lowercase English letters.",
        ][v]
    if iid == "punctuation:no_comma":
        return [
            "In your entire response, refrain from the use of any commas.",
            "Do not use any commas in your answer.",
            "Write your response without a single comma.",
        ][v]
    if iid == "startend:quotation":
        return [
            "Wrap your entire response with double quotation marks.",
            "Put your whole answer inside double quotation marks.",
            "Enclose the entire response in double quotes.",
        ][v]
    raise KeyError(iid)


# --------------------------------------------------------------------------------------------
# Base tasks and the topic/form split.
# --------------------------------------------------------------------------------------------


def topic_core(topic):
    """The topic without a leading article: the phrase that must not cross the split."""
    return re.sub(r"^(a|an|the) ", "", topic)


def build_base_tasks():
    """{side: {domain: {"topics": [...], "forms": [(text, flags)]}}}"""
    rng = random.Random(SEED)
    split = {side: {} for side in SIDES}
    for domain, spec in DOMAINS.items():
        topics = list(spec["topics"])
        rng.shuffle(topics)
        held = sorted(topics[:HELDOUT_TOPICS_PER_DOMAIN], key=spec["topics"].index)
        train = sorted(topics[HELDOUT_TOPICS_PER_DOMAIN:], key=spec["topics"].index)
        forms = [(text, set(flags.split())) for text, flags in spec["forms"]]
        split["train"][domain] = {"topics": train, "forms": [f for f in forms if "heldout" not in f[1]]}
        split["heldout"][domain] = {"topics": held, "forms": forms}
    return split


# --------------------------------------------------------------------------------------------
# Choosing instruction ids, base task and arguments.
# --------------------------------------------------------------------------------------------
STRUCTURAL = {
    "length_constraints:number_paragraphs", "length_constraints:nth_paragraph_first_word",
    "detectable_format:multiple_sections", "detectable_format:number_bullet_lists",
}


def ids_compatible(ids):
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if b in CONFLICTS[a] or a in CONFLICTS[b]:
                return False
    s = set(ids)
    if "language:response_language" in s and s & {
        "keywords:letter_frequency", "change_case:capital_word_frequency",
        "length_constraints:nth_paragraph_first_word",
    }:
        return False
    if "change_case:english_lowercase" in s and "detectable_format:multiple_sections" in s:
        return False  # every section splitter has a capital letter
    return True


def pick_ids(k, counts, rng):
    chosen = []
    for _ in range(k):
        cands = []
        for iid in IDS:
            if iid in chosen:
                continue
            if k > 1 and iid == "detectable_format:constrained_response":
                continue
            if not ids_compatible(chosen + [iid]):
                continue
            cands.append(iid)
        if not cands:
            return None
        low = min(counts.values())
        weights = [0.6 ** (counts[c] - low) for c in cands]  # towards equal counts per id
        chosen.append(rng.choices(cands, weights)[0])
    return chosen


def pick_task(side, split, ids, rng):
    s = set(ids)
    yesno = "detectable_format:constrained_response" in s
    need_no_comma = "combination:repeat_prompt" in s and "punctuation:no_comma" in s
    for _ in range(100):
        domain = rng.choice(list(DOMAINS))
        part = split[side][domain]
        topic = rng.choice(part["topics"])
        form, flags = rng.choice(part["forms"])
        if yesno != ("yesno" in flags):
            continue
        if "short" in flags and s & STRUCTURAL:
            continue
        text = form.format(t=topic)
        if need_no_comma and "," in text:
            continue
        return {"domain": domain, "topic": topic, "form": form, "flags": flags, "text": text}
    raise RuntimeError("no base task fits")


def word_in(word, text):
    return re.search(r"\b" + re.escape(word) + r"\b", text, flags=re.IGNORECASE) is not None


def int_pool(iid, kw, side):
    return INTS[(iid, kw)][SIDE_INDEX[side]]


def build_args(iid, side, task, ids, rng):
    si = SIDE_INDEX[side]
    short = "short" in task["flags"]
    low = task["text"].lower()
    if iid == "keywords:existence":
        n = rng.choices([1, 2, 3], [3, 5, 2])[0]
        pool = [w for w in KEYWORDS[si] if w not in low]
        return {"keywords": rng.sample(pool, n)}
    if iid == "keywords:frequency":
        rel = rng.choices(RELATIONS, [1, 3])[0]
        vals = int_pool(iid, "frequency", side)
        if rel == "less than":
            vals = [x for x in vals if x >= 2]
        pool = [w for w in KEYWORDS[si] if w not in low]
        return {"keyword": rng.choice(pool), "frequency": rng.choice(vals), "relation": rel}
    if iid == "keywords:forbidden_words":
        n = rng.choices([1, 2, 3], [3, 5, 2])[0]
        return {"forbidden_words": rng.sample(FORBIDDEN[si], n)}
    if iid == "keywords:letter_frequency":
        rel = rng.choice(RELATIONS)
        letters = LETTERS[si]
        vals = int_pool(iid, "let_frequency", side)
        if rel == "less than":
            letter = rng.choice([c for c in letters if c in LESS_THAN_LETTERS])
            vals = [x for x in vals if x >= 3]
        else:
            letter = rng.choice(letters)
            if letter in VERY_RARE_LETTERS:
                vals = [x for x in vals if x <= 5]
        return {"letter": letter, "let_frequency": rng.choice(vals), "let_relation": rel}
    if iid == "language:response_language":
        codes, weights = zip(*LANGUAGES[si])
        return {"language": rng.choices(codes, weights)[0]}
    if iid == "length_constraints:number_sentences":
        rel = "less than" if short else rng.choice(RELATIONS)
        vals = int_pool(iid, "num_sentences", side)
        if short:
            vals = [x for x in vals if x <= 8]
        return {"num_sentences": rng.choice(vals), "relation": rel}
    if iid == "length_constraints:number_paragraphs":
        return {"num_paragraphs": rng.choice(int_pool(iid, "num_paragraphs", side))}
    if iid == "length_constraints:number_words":
        rel = "less than" if short else rng.choice(RELATIONS)
        vals = int_pool(iid, "num_words", side)
        if short:
            vals = [x for x in vals if x <= 100]
        elif rel == "at least":
            vals = [x for x in vals if x >= 50]
        return {"num_words": rng.choice(vals), "relation": rel}
    if iid == "length_constraints:nth_paragraph_first_word":
        n = rng.choice(int_pool(iid, "num_paragraphs", side))
        nth = rng.choice([x for x in int_pool(iid, "nth_paragraph", side) if x <= n])
        return {"num_paragraphs": n, "nth_paragraph": nth, "first_word": rng.choice(FIRST_WORDS[si])}
    if iid == "detectable_content:number_placeholders":
        return {"num_placeholders": rng.choice(int_pool(iid, "num_placeholders", side))}
    if iid == "detectable_content:postscript":
        return {"postscript_marker": rng.choice(POSTSCRIPT_MARKERS[si])}
    if iid == "detectable_format:number_bullet_lists":
        return {"num_bullets": rng.choice(int_pool(iid, "num_bullets", side))}
    if iid == "detectable_format:number_highlighted_sections":
        return {"num_highlights": rng.choice(int_pool(iid, "num_highlights", side))}
    if iid == "detectable_format:multiple_sections":
        return {"section_spliter": rng.choice(SECTION_SPLITTERS[si]),
                "num_sections": rng.choice(int_pool(iid, "num_sections", side))}
    if iid == "combination:repeat_prompt":
        return {"prompt_to_repeat": task["text"]}
    if iid == "startend:end_checker":
        return {"end_phrase": rng.choice(END_PHRASES[si])}
    if iid == "change_case:capital_word_frequency":
        rel = rng.choice(RELATIONS)
        vals = int_pool(iid, "capital_frequency", side)
        if rel == "less than":
            vals = [x for x in vals if x >= 4]  # "I" is a capital word too
        return {"capital_frequency": rng.choice(vals), "capital_relation": rel}
    return {}


def required_strings(ids, args):
    """Texts a response has to contain, for the letter and forbidden-word rules."""
    out = []
    for iid, a in zip(ids, args):
        if iid == "keywords:existence":
            out += a["keywords"]
        elif iid == "keywords:frequency" and a["relation"] == "at least":
            out.append(a["keyword"])
        elif iid == "length_constraints:nth_paragraph_first_word":
            out.append(a["first_word"])
        elif iid == "startend:end_checker":
            out.append(a["end_phrase"])
        elif iid == "detectable_content:postscript":
            out.append(a["postscript_marker"])
        elif iid == "detectable_format:multiple_sections":
            out.append(a["section_spliter"])
        elif iid == "combination:repeat_prompt":
            out.append(a["prompt_to_repeat"])
    return out


def args_consistent(ids, args, task):
    """Extra rules that keep a combination satisfiable (on top of INSTRUCTION_CONFLICTS)."""
    A = dict(zip(ids, args))
    g = A.get
    words = g("length_constraints:number_words")
    sents = g("length_constraints:number_sentences")
    bullets = g("detectable_format:number_bullet_lists")
    sections = g("detectable_format:multiple_sections")
    nth = g("length_constraints:nth_paragraph_first_word")
    paras = g("length_constraints:number_paragraphs")
    caps = g("change_case:capital_word_frequency")
    letter = g("keywords:letter_frequency")
    lang = g("language:response_language")
    if words and words["relation"] == "less than":
        w = words["num_words"]
        if sents and sents["relation"] == "at least" and w < 12 * sents["num_sentences"]:
            return False
        if bullets and w < 12 * bullets["num_bullets"]:
            return False
        if sections and w < 25 * sections["num_sections"]:
            return False
        if nth and w < 25 * nth["num_paragraphs"]:
            return False
        if paras and w < 25 * paras["num_paragraphs"]:
            return False
        if caps and caps["capital_relation"] == "at least" and w < 3 * caps["capital_frequency"]:
            return False
    if words and words["relation"] == "at least" and sents and sents["relation"] == "less than":
        if words["num_words"] > 18 * (sents["num_sentences"] - 1):
            return False
    if sents and sents["relation"] == "less than":
        s = sents["num_sentences"]
        if bullets and s < bullets["num_bullets"] + 2:
            return False
        if sections and s < sections["num_sections"] + 2:
            return False
        if nth and s < nth["num_paragraphs"] + 2:
            return False
    if sections and "change_case:english_capital" in A and not sections["section_spliter"].isupper():
        return False
    if (sections and caps and caps["capital_relation"] == "less than"
            and sections["section_spliter"].isupper()):
        return False
    if lang and lang["language"] in NO_SPACE_LANGUAGES and (words or sents):
        return False
    if letter and letter["let_relation"] == "less than":
        if any(letter["letter"] in s.lower() for s in required_strings(ids, args)):
            return False
    if "keywords:existence" in A and "keywords:frequency" in A:
        if A["keywords:frequency"]["keyword"] in A["keywords:existence"]["keywords"]:
            return False
    return True


def ends_sentence(text):
    """Whether a text can be followed on the same line (a constraint that ends with its own
    argument, such as "... starting with P.P.S", or with an example block, gets a line break)."""
    return text.rstrip()[-1:] in (".", "?", "!") and "\n" not in text


def join_constraints(parts):
    """One line while every constraint so far is a plain sentence; line breaks after that."""
    out = parts[0]
    for p in parts[1:]:
        same_line = ends_sentence(out) and "\n" not in p
        out += (" " if same_line else "\n") + p
    return out


def assemble(task_text, descs, ids, rng):
    joined = join_constraints(descs)
    if "combination:repeat_prompt" not in ids and rng.random() < 1 / 6:
        sep = "\n\n" if "\n" in joined or not ends_sentence(descs[-1]) or rng.random() < 0.5 else " "
        return joined + sep + task_text
    sep = rng.choices([" ", "\n\n", "\n"], [5, 3, 1])[0]
    if "\n" in joined and sep == " ":
        sep = "\n\n"
    return task_text + sep + joined


def make_line(side, split, counts, rng):
    k = rng.choices([n for n, _ in N_CONSTRAINTS_WEIGHTS], [w for _, w in N_CONSTRAINTS_WEIGHTS])[0]
    ids = pick_ids(k, counts, rng)
    if ids is None:
        return None
    task = pick_task(side, split, ids, rng)
    for _ in range(50):
        args = [build_args(iid, side, task, ids, rng) for iid in ids]
        if not args_consistent(ids, args, task):
            continue
        descs = [describe(iid, a, rng) for iid, a in zip(ids, args)]
        # No forbidden word anywhere in the prompt (outside its own constraint).
        ok = True
        for j, iid in enumerate(ids):
            if iid == "keywords:forbidden_words":
                rest = " ".join([task["text"]] + [d for i, d in enumerate(descs) if i != j])
                if any(word_in(w, rest) for w in args[j]["forbidden_words"]):
                    ok = False
        if not ok:
            continue
        prompt = assemble(task["text"], descs, ids, rng)
        kwargs = [{key: a[key] for key in ARG_KEYS[iid]} for iid, a in zip(ids, args)]
        return {"prompt": prompt, "instruction_id_list": list(ids), "kwargs": kwargs, "task": task,
                "descs": descs}
    return None


def generate():
    split = build_base_tasks()
    files = {}
    for side, n, key0, seed in (("train", N_TRAIN, KEY_TRAIN, SEED + 1),
                                ("heldout", N_HELDOUT, KEY_HELDOUT, SEED + 2)):
        rng = random.Random(seed)
        counts = Counter({iid: 0 for iid in IDS})
        lines = []
        seen_prompts = set()
        while len(lines) < n:
            line = make_line(side, split, counts, rng)
            if line is None or line["prompt"] in seen_prompts:
                continue
            seen_prompts.add(line["prompt"])
            counts.update(line["instruction_id_list"])
            line["key"] = key0 + len(lines)
            lines.append(line)
        files[side] = lines
    return split, files


def to_jsonl(lines):
    out = []
    for ln in lines:
        obj = {"key": ln["key"], "prompt": ln["prompt"],
               "instruction_id_list": ln["instruction_id_list"], "kwargs": ln["kwargs"]}
        out.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------
# Self-check.
# --------------------------------------------------------------------------------------------


def check_kwargs(iid, kw):
    assert tuple(kw) == ARG_KEYS[iid], (iid, kw)
    for key, val in kw.items():
        if key in RELATION_KWARGS:
            assert val in RELATIONS, (iid, kw)
        elif key in ("keywords", "forbidden_words"):
            assert isinstance(val, list) and val and len(set(val)) == len(val), (iid, kw)
            assert all(isinstance(w, str) and re.fullmatch(r"[a-z]+", w) for w in val), (iid, kw)
        elif key in ("keyword", "first_word"):
            assert isinstance(val, str) and re.fullmatch(r"[a-z]+", val), (iid, kw)
        elif key == "letter":
            assert isinstance(val, str) and re.fullmatch(r"[a-z]", val), (iid, kw)
        elif key == "language":
            assert val in LANGUAGE_CODES and val != "en", (iid, kw)
        elif key == "section_spliter":
            assert isinstance(val, str) and re.fullmatch(r"[A-Za-z]+", val), (iid, kw)
        elif key == "postscript_marker":
            # Used as a regular expression (lower-cased) unless it is P.S. or P.P.S: letters,
            # dots (which then also match themselves) and a colon only.
            assert isinstance(val, str) and re.fullmatch(r"[A-Za-z.:]+", val), (iid, kw)
        elif key == "end_phrase":
            assert isinstance(val, str) and val == val.strip() and "," not in val, (iid, kw)
        elif key == "prompt_to_repeat":
            assert isinstance(val, str) and val, (iid, kw)
        else:
            assert isinstance(val, int) and not isinstance(val, bool) and val > 0, (iid, kw)
    if iid == "length_constraints:nth_paragraph_first_word":
        assert kw["nth_paragraph"] <= kw["num_paragraphs"] <= 5
    if iid == "length_constraints:number_words":
        assert kw["num_words"] <= 300
    if iid == "length_constraints:number_sentences":
        assert kw["num_sentences"] <= 12
    if iid == "length_constraints:number_paragraphs":
        assert kw["num_paragraphs"] <= 5


def self_check(split, files):
    train, held = files["train"], files["heldout"]
    # Pools are disjoint by construction; check anyway (and across pools).
    for name, (tr, he) in {"keywords": KEYWORDS, "forbidden": FORBIDDEN, "first words": FIRST_WORDS,
                           "end phrases": END_PHRASES, "postscript": POSTSCRIPT_MARKERS,
                           "splitters": SECTION_SPLITTERS, "letters": LETTERS}.items():
        assert not set(tr) & set(he), name
        assert len(set(tr)) == len(tr) and len(set(he)) == len(he), name
    words = KEYWORDS[0] + KEYWORDS[1] + FORBIDDEN[0] + FORBIDDEN[1] + FIRST_WORDS[0] + FIRST_WORDS[1]
    assert len(words) == len(set(words)), "a word is in two pools"
    assert not {c for c, _ in LANGUAGES[0]} & {c for c, _ in LANGUAGES[1]}
    for (iid, kw), (tr, he) in INTS.items():
        assert not set(tr) & set(he), (iid, kw)
    # Topics and base tasks.
    all_topics = [t for spec in DOMAINS.values() for t in spec["topics"]]
    assert len(all_topics) == len(set(all_topics))
    tr_topics = {t for d in split["train"].values() for t in d["topics"]}
    he_topics = {t for d in split["heldout"].values() for t in d["topics"]}
    assert not tr_topics & he_topics
    assert {ln["task"]["topic"] for ln in train} <= tr_topics
    assert {ln["task"]["topic"] for ln in held} <= he_topics
    tr_tasks = {ln["task"]["text"] for ln in train}
    he_tasks = {ln["task"]["text"] for ln in held}
    assert not tr_tasks & he_tasks
    held_only_forms = {f for spec in DOMAINS.values() for f, fl in spec["forms"] if "heldout" in fl.split()}
    assert not {ln["task"]["form"] for ln in train} & held_only_forms
    for topic in sorted(he_topics):
        pat = re.compile(r"\b" + re.escape(topic_core(topic)) + r"\b", re.IGNORECASE)
        hit = next((ln["key"] for ln in train if pat.search(ln["prompt"])), None)
        assert hit is None, f"held-out topic {topic!r} occurs in training prompt {hit}"
    for topic in sorted(tr_topics):
        pat = re.compile(r"\b" + re.escape(topic_core(topic)) + r"\b", re.IGNORECASE)
        hit = next((ln["key"] for ln in held if pat.search(ln["prompt"])), None)
        assert hit is None, f"training topic {topic!r} occurs in held-out prompt {hit}"
    # Lines: keys, kwargs, conflicts, argument values.
    keys = [ln["key"] for ln in train + held]
    assert len(keys) == len(set(keys))
    assert [ln["key"] for ln in train] == list(range(KEY_TRAIN, KEY_TRAIN + len(train)))
    assert [ln["key"] for ln in held] == list(range(KEY_HELDOUT, KEY_HELDOUT + len(held)))
    values = {side: {"str": set(), "int": set()} for side in SIDES}
    for side in SIDES:
        for ln in files[side]:
            ids, kws = ln["instruction_id_list"], ln["kwargs"]
            assert 1 <= len(ids) <= 3 and len(ids) == len(kws) and len(set(ids)) == len(ids)
            for i, a in enumerate(ids):
                for b in ids[i + 1:]:
                    assert b not in CONFLICTS[a] and a not in CONFLICTS[b], (ln["key"], a, b)
            assert ln["prompt"].isascii()
            for iid, kw in zip(ids, kws):
                check_kwargs(iid, kw)
                for key, val in kw.items():
                    if key in RELATION_KWARGS:
                        continue
                    if isinstance(val, int):
                        values[side]["int"].add((iid, key, val))
                    else:
                        for v in (val if isinstance(val, list) else [val]):
                            values[side]["str"].add(v)
                if iid == "combination:repeat_prompt":
                    assert ln["prompt"].startswith(kw["prompt_to_repeat"])
                    assert kw["prompt_to_repeat"] == ln["task"]["text"]
                    if "punctuation:no_comma" in ids:
                        assert "," not in kw["prompt_to_repeat"]
                if iid == "detectable_format:constrained_response":
                    assert len(ids) == 1 and "yesno" in ln["task"]["flags"]
                if iid == "keywords:forbidden_words":
                    own = ln["descs"][ids.index(iid)]
                    assert own in ln["prompt"]
                    others = ln["prompt"].replace(own, "", 1)
                    assert not any(word_in(w, others) for w in kw["forbidden_words"]), ln["key"]
    shared_str = values["train"]["str"] & values["heldout"]["str"]
    shared_int = values["train"]["int"] & values["heldout"]["int"]
    assert not shared_str, sorted(shared_str)
    assert not shared_int, sorted(shared_int)
    for side in SIDES:
        used = Counter(i for ln in files[side] for i in ln["instruction_id_list"])
        assert set(used) == set(IDS), (side, set(IDS) - set(used))
    n_base = len(tr_tasks) + len(he_tasks)
    assert n_base >= 400, n_base
    return {"train_base_tasks": len(tr_tasks), "heldout_base_tasks": len(he_tasks),
            "train_topics": len(tr_topics), "heldout_topics": len(he_topics)}


# --------------------------------------------------------------------------------------------
# README and counts.
# --------------------------------------------------------------------------------------------


def count_table(files):
    rows = []
    per = {side: Counter(i for ln in files[side] for i in ln["instruction_id_list"]) for side in SIDES}
    for iid in IDS:
        rows.append((iid, per["train"][iid], per["heldout"][iid]))
    return rows


def nconstraint_counts(lines):
    return Counter(len(ln["instruction_id_list"]) for ln in lines)


def readme(split, files, stats):
    tr, he = files["train"], files["heldout"]
    nt, nh = nconstraint_counts(tr), nconstraint_counts(he)
    lines = [
        "# IFEval-style instruction-following prompts",
        "",
        "Generated by `python3 scripts/gen_ifeval_prompts.py` (Python 3 standard library, fixed seed;",
        "rerunning it rewrites these three files byte for byte). For RL training of a small chat model",
        "(SmolLM2-135M-Instruct) on verifiable instructions and a held-out evaluation of it.",
        "",
        "## Format",
        "",
        "One JSON object per line, IFEval's own format (Zhou et al. 2023):",
        "",
        "```",
        '{"key": int, "prompt": str, "instruction_id_list": [str, ...], "kwargs": [{...}, ...]}',
        "```",
        "",
        "`kwargs[i]` belongs to `instruction_id_list[i]` and holds exactly the keyword arguments of",
        "that checker's `build_description` in Google's reference implementation (`{}` for the ids",
        "without arguments); integers are JSON integers, relations are `\"less than\"` or",
        "`\"at least\"`. Any IFEval checker can score a response with them. The 25 ids of the",
        "reference's `INSTRUCTION_DICT` are all used, and no line combines two ids that conflict in",
        "its `INSTRUCTION_CONFLICTS` (either direction).",
        "",
        "| file | prompts | keys | 1 / 2 / 3 constraints | base tasks | topics |",
        "|---|---|---|---|---|---|",
        f"| train.jsonl | {len(tr)} | {tr[0]['key']}-{tr[-1]['key']} | {nt[1]} / {nt[2]} / {nt[3]} "
        f"| {stats['train_base_tasks']} | {stats['train_topics']} |",
        f"| heldout.jsonl | {len(he)} | {he[0]['key']}-{he[-1]['key']} | {nh[1]} / {nh[2]} / {nh[3]} "
        f"| {stats['heldout_base_tasks']} | {stats['heldout_topics']} |",
        "",
        "A prompt is a base task (a chat request made from a task form and a topic, or a yes/no",
        "question for `detectable_format:constrained_response`) followed, or in about one prompt in",
        "six preceded, by its constraints, each worded as IFEval's `build_description` or one of two",
        "paraphrases. `combination:repeat_prompt`'s `prompt_to_repeat` is the base task exactly as it",
        "opens the prompt. None of the prompts comes from the public IFEval test set.",
        "",
        "## Split",
        "",
        "* Topics: ten domains of 34-36 topics each; a seeded shuffle gives 7 topics per domain to",
        "  the held-out file only. Task forms marked held-out only (two per domain and one yes/no",
        "  question form) never occur in training, so every held-out base task is new; the",
        "  generator checks that no held-out topic phrase occurs in any training prompt and the",
        "  other way round.",
        "* Arguments: each categorical pool and each integer range is split into disjoint training",
        "  and held-out values; only the relation strings are shared.",
        "",
        "| argument | train | held-out |",
        "|---|---|---|",
        f"| keywords (existence, frequency) | {len(KEYWORDS[0])} words | {len(KEYWORDS[1])} words |",
        f"| forbidden words | {len(FORBIDDEN[0])} words | {len(FORBIDDEN[1])} words |",
        f"| first words | {', '.join(FIRST_WORDS[0])} | {', '.join(FIRST_WORDS[1])} |",
        f"| end phrases | {' / '.join(END_PHRASES[0])} | {' / '.join(END_PHRASES[1])} |",
        f"| postscript markers | {', '.join(POSTSCRIPT_MARKERS[0])} | {', '.join(POSTSCRIPT_MARKERS[1])} |",
        f"| section splitters | {', '.join(SECTION_SPLITTERS[0])} | {', '.join(SECTION_SPLITTERS[1])} |",
        f"| letters | {''.join(LETTERS[0])} | {''.join(LETTERS[1])} |",
        f"| languages | {', '.join(c for c, _ in LANGUAGES[0])} | {', '.join(c for c, _ in LANGUAGES[1])} |",
    ]
    for (iid, kw), (a, b) in INTS.items():
        lines.append(f"| {iid.split(':')[1]} `{kw}` | {', '.join(map(str, a))} | {', '.join(map(str, b))} |")
    lines += [
        "",
        "The word lists (keywords, forbidden words) are in the generator.",
        "",
        "## Other rules",
        "",
        "* Arguments sized for a small model: at most 300 words, 12 sentences, 5 paragraphs,",
        "  sections or bullets; English is never the requested language; `less than` letter counts",
        "  only for letters a response can do without.",
        "* Combinations the conflict table allows but no response could satisfy are not drawn:",
        "  e.g. fewer than 30 words with 8 sentences or 4 sections, a section splitter with",
        "  capitals in an all-lowercase answer, a language with letter or capital-word counts,",
        "  word or sentence counts in Japanese or Thai, a `less than` letter that a required",
        "  keyword, first word, end phrase or marker contains.",
        "* Short forms (haiku, limerick, riddle, postcard, ...) get no paragraph, section or",
        "  bullet constraint and only `less than` length limits.",
        "* A forbidden word never occurs elsewhere in its prompt; a required keyword never occurs",
        "  in the base task; `repeat_prompt` with `no_comma` only repeats comma-free base tasks.",
        "* The ids are drawn towards equal counts within each file; `constrained_response`",
        "  prompts (yes/no questions) carry no other constraint, as in IFEval.",
        "",
        "`python3 scripts/gen_ifeval_prompts.py --checker DIR` (DIR: the `ifeval` directory of a",
        "copy of the reference checkers) additionally builds every instruction from its kwargs",
        "with the reference code and runs its checkers on the invented argument values.",
        "",
        "## Instructions per file",
        "",
        "| instruction id | train | held-out |",
        "|---|---|---|",
    ]
    for iid, a, b in count_table(files):
        lines.append(f"| {iid} | {a} | {b} |")
    table = count_table(files)
    lines.append(f"| total | {sum(r[1] for r in table)} | {sum(r[2] for r in table)} |")
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Optional: check against a copy of the reference checkers (run by hand).
# --------------------------------------------------------------------------------------------


def load_reference(ifeval_dir):
    ifeval_dir = Path(ifeval_dir)
    for name in ("langdetect", "nltk", "immutabledict"):
        try:
            importlib.import_module(name)
        except ImportError:
            stub = types.ModuleType(name)
            if name == "immutabledict":
                stub.immutabledict = lambda d: types.MappingProxyType(dict(d))
            if name == "langdetect":
                stub.LangDetectException = Exception
            sys.modules[name] = stub
    for pkg in ("if_verifiable", "if_verifiable.ifeval"):
        mod = types.ModuleType(pkg)
        mod.__path__ = []
        sys.modules[pkg] = mod
    loaded = {}
    for name in ("instructions_util", "instructions", "instructions_registry"):
        full = f"if_verifiable.ifeval.{name}"
        spec = importlib.util.spec_from_file_location(full, ifeval_dir / f"{name}.py")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[full] = mod
        setattr(sys.modules["if_verifiable.ifeval"], name, mod)
        spec.loader.exec_module(mod)
        loaded[name] = mod
    return loaded


def check_against_reference(ifeval_dir, files):
    ref = load_reference(ifeval_dir)
    reg, util = ref["instructions_registry"], ref["instructions_util"]
    assert set(reg.INSTRUCTION_DICT) == set(IDS)
    theirs = reg.conflict_make({k: set(v) for k, v in reg.INSTRUCTION_CONFLICTS.items()})
    assert {k: set(v) for k, v in theirs.items()} == CONFLICTS, "INSTRUCTION_CONFLICTS differ"
    assert dict(util.LANGUAGE_CODES) == LANGUAGE_CODES
    n = 0
    for side in SIDES:
        for ln in files[side]:
            for iid, kw in zip(ln["instruction_id_list"], ln["kwargs"]):
                checker = reg.INSTRUCTION_DICT[iid](iid)
                checker.build_description(**kw)
                got = checker.get_instruction_args() or {}
                assert list(got) == list(kw), (iid, got, kw)
                for key, val in kw.items():
                    g = got[key]
                    if isinstance(val, list):
                        assert sorted(g) == sorted(val), (iid, g, val)
                    else:
                        assert g == val, (iid, g, val)
                assert list(checker.get_instruction_args_keys()) == list(ARG_KEYS[iid])
                n += 1
    # The invented values work with the checkers' regular expressions.
    ins = ref["instructions"]
    for side in SIDES:
        si = SIDE_INDEX[side]
        for m in POSTSCRIPT_MARKERS[si]:
            c = ins.PostscriptChecker("p")
            c.build_description(postscript_marker=m)
            assert c.check_following(f"Some text.\n\n{m} One more thing.")
            assert not c.check_following("Some text without a postscript.")
        for s in SECTION_SPLITTERS[si]:
            c = ins.SectionChecker("s")
            c.build_description(section_spliter=s, num_sections=3)
            assert c.check_following(f"{s} 1\nAlpha.\n{s} 2\nBeta.\n{s} 3\nGamma.")
            assert not c.check_following(f"{s} 1\nAlpha.\n{s} 2\nBeta.")
        for p in END_PHRASES[si]:
            c = ins.EndChecker("e")
            c.build_description(end_phrase=p)
            assert c.check_following(f"Here is my answer. {p}")
            assert not c.check_following(f"{p} Here is my answer.")
        for w in FIRST_WORDS[si]:
            c = ins.ParagraphFirstWordCheck("f")
            c.build_description(num_paragraphs=2, nth_paragraph=2, first_word=w)
            assert c.check_following(f"One paragraph.\n\n{w.capitalize()}, the second one.")
        for w in KEYWORDS[si]:
            c = ins.KeywordChecker("k")
            c.build_description(keywords=[w])
            assert c.check_following(f"A {w.upper()} here.") and not c.check_following("Nothing.")
        for w in FORBIDDEN[si]:
            c = ins.ForbiddenWords("x")
            c.build_description(forbidden_words=[w])
            assert not c.check_following(f"A {w} here.") and c.check_following("Zzz.")
    for ln in files["train"] + files["heldout"]:
        for iid, kw in zip(ln["instruction_id_list"], ln["kwargs"]):
            if iid == "combination:repeat_prompt":
                c = ins.RepeatPromptThenAnswer("r")
                c.build_description(**kw)
                assert c.check_following(ln["prompt"][:len(kw["prompt_to_repeat"])] + "\n\nAnswer.")
    print(f"reference check: {n} instructions built from their kwargs; invented values pass the checkers")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checker", metavar="DIR",
                    help="optional: the ifeval directory of a copy of the reference checkers")
    ap.add_argument("--out", default=str(OUT_DIR))
    args = ap.parse_args()

    split, files = generate()
    split2, files2 = generate()
    assert to_jsonl(files["train"]) == to_jsonl(files2["train"])
    assert to_jsonl(files["heldout"]) == to_jsonl(files2["heldout"]), "not deterministic"
    stats = self_check(split, files)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "train.jsonl").write_text(to_jsonl(files["train"]))
    (out / "heldout.jsonl").write_text(to_jsonl(files["heldout"]))
    (out / "README.md").write_text(readme(split, files, stats))

    print(f"train: {len(files['train'])} prompts, {stats['train_base_tasks']} base tasks, "
          f"{stats['train_topics']} topics; held-out: {len(files['heldout'])} prompts, "
          f"{stats['heldout_base_tasks']} base tasks, {stats['heldout_topics']} topics")
    for side in SIDES:
        c = nconstraint_counts(files[side])
        print(f"{side}: constraints per prompt 1/2/3 = {c[1]}/{c[2]}/{c[3]}")
    print(f"{'instruction id':48s} {'train':>6s} {'heldout':>8s}")
    for iid, a, b in count_table(files):
        print(f"{iid:48s} {a:6d} {b:8d}")
    print("self-check passed: no topic, base task or argument value shared; kwargs, conflicts, keys ok")
    if args.checker:
        check_against_reference(args.checker, files)


if __name__ == "__main__":
    main()
