#!/usr/bin/env python3
"""Golden IFEval verdicts from the reference checker, for the Swift port of IFEval's checks.

What it writes
--------------
    Tests/IFEvalTests/Fixtures/ifeval_goldens.jsonl

one compact JSON object per line:

    {"id": "edge-title-003", "source": "edge|random|model", "prompt": str,
     "instruction_id_list": [str, ...], "kwargs": [{...}, ...], "response": str,
     "strict": [bool per instruction], "loose": [bool per instruction]}

plus `"empty": true` on the cases whose response the reference treats as empty (see below).
Characters are written as themselves (ensure_ascii=False) except U+0085, U+2028 and U+2029,
which are escaped (\\u2028...) so that a reader splitting lines on any Unicode newline still sees
one case per line; control characters are escaped by JSON itself.

Run `bash scripts/gen_ifeval_goldens.sh [--answers PATH | --no-answers]` from the repository
root: it makes (once, cached) the pinned environment scripts/requirements/ifeval.txt and runs
this script in it. The output is the same on every run (fixed seeds, no clock, no hashing of
sets into the output).

The reference
-------------
if-verifiable 0.1.2 (PyPI), which packages Google's IFEval checks:
`if_verifiable.ifeval.instructions_registry.INSTRUCTION_DICT` (25 instruction ids) and
`if_verifiable.common.evaluate_instructions`, which this script calls for every case; `strict`
and `loose` are the `strict_pass` / `loose_pass` of the `InstructionResult`s it returns.
  * strict: the checker on the response after `strip_thinking` (Python str.strip(), and only the
    text after the first `</think>`; a response starting with `<think>` and no `</think>` is empty).
  * loose: any of 8 variants passes: the response, without its first line, without its last
    line, without both (each .strip()ped), and the four again with every `*` removed.
  * empty rule: when the stripped response is empty (Python's str.isspace whitespace: also
    U+00A0, U+2028, U+3000, \\x1c-\\x1f, ...), evaluate_instructions returns NO results; this
    script then writes all-false `strict`/`loose` lists of the right length and `"empty": true`.
  * kwargs: null values are dropped before `build_description(**kwargs)`. A checker given too few
    kwargs draws the rest with `random`; no case here lets it (every draw is trapped and is an
    error), so every verdict follows from the case alone.

Choices the reference leaves open (and how the port must match them)
-------------------------------------------------------------------
  * Sentences: `instructions_util.count_sentences` loads NLTK's trained English punkt model, and
    `nltk.word_tokenize` (used by change_case:capital_word_frequency) needs it too. No NLTK data
    can be had here, so both use NLTK 3.10.4's own Punkt algorithm with UNTRAINED (empty)
    parameters: no known abbreviations, collocations or sentence starters ("Dr. Smith arrived."
    is two sentences). Patched before anything is evaluated, and checked at start-up:
      instructions_util._get_sentence_tokenizer -> nltk.tokenize.punkt.PunktSentenceTokenizer()
      instructions_util.nltk.word_tokenize      -> nltk.word_tokenize(text, "english", False)
          with that tokenizer for the sentence split: [tok for sent in punkt.tokenize(text)
          for tok in NLTKWordTokenizer().tokenize(sent)]
  * Language detection: langdetect 1.0.9 with DetectorFactory.seed = 0 (each detect() reseeds
    its own random.Random(0), so a verdict does not depend on the order of the cases), its 55
    profiles loaded in sorted file-name order (langdetect itself takes os.listdir's order).
  * Python's own Unicode tables decide str.lower/upper/isupper/islower/strip and regex \\w, \\s,
    \\b and IGNORECASE; the summary prints the Python and Unicode versions (3.11, Unicode 14.0.0
    when this was written). A checker's `re` pattern is built from kwargs unescaped (keywords,
    forbidden words, postscript markers, section splitters are regular expressions).

Cases
-----
  edge    hand-written cases at each checker's decision boundary (counts exactly N, N-1, N+1,
          found by probing the reference checker itself), regex corner cases, Unicode (Python's
          str.lower/upper/isupper/islower/strip, \\w and \\s), empty and near-empty responses,
          <think> blocks, and a few response_language cases for each of the 30 language codes.
  random  responses assembled from pieces (sentences, bullets, *** or blank-line paragraphs,
          sections, highlights, placeholders, keywords, case changes, postscripts, end
          phrases, quotes, JSON, two responses, repeated prompts) under random.Random(20250611),
          for 1-3 mutually compatible instruction ids (INSTRUCTION_CONFLICTS, made symmetric),
          with kwargs drawn from the ranges build_description draws from; each instruction is
          aimed at pass or fail, often exactly at its threshold.
  model   real model answers: JSONL lines {"prompt", "instruction_id_list", "kwargs",
          "response"} from --answers PATH, default Tests/IFEvalTests/Fixtures/
          ifeval_model_answers.jsonl when that file exists (--no-answers skips it). They follow
          the edge and random cases in file order; model-00007 is the 7th non-blank line. A line
          the reference cannot evaluate (unknown id, kwargs that make a checker draw at random,
          a checker that throws) is skipped with a warning, and its id is missing. kwargs are
          written as given (null values included). Re-running with the same answers file
          reproduces the fixture byte for byte.
No prompt here comes from the public IFEval data set: the requests are written for this file.
"""

import argparse
import collections
import copy
import hashlib
import json
import logging
import os
import random
import re
import string
import sys
import time
import unicodedata

import nltk
import langdetect.detector_factory as langdetect_factory
from langdetect import DetectorFactory
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer

from if_verifiable.common import evaluate_instructions, strip_thinking
from if_verifiable.ifeval import instructions, instructions_util
from if_verifiable.ifeval.instructions_registry import INSTRUCTION_CONFLICTS, INSTRUCTION_DICT

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "Tests", "IFEvalTests", "Fixtures", "ifeval_goldens.jsonl")
DEFAULT_ANSWERS = os.path.join(ROOT, "Tests", "IFEvalTests", "Fixtures", "ifeval_model_answers.jsonl")
RANDOM_SEED = 20250611
N_RANDOM = 1500

# ----------------------------------------------------------------------------------------------
# The reference's open choices: untrained Punkt, seeded langdetect.
# ----------------------------------------------------------------------------------------------

_UNTRAINED_PUNKT = PunktSentenceTokenizer()
_WORD_TOKENIZER = NLTKWordTokenizer()
PATCH_CALLS = collections.Counter()


def _untrained_sentence_tokenizer():
    PATCH_CALLS["sentence_tokenizer"] += 1
    return _UNTRAINED_PUNKT


def _untrained_word_tokenize(text, language="english", preserve_line=False):
    """nltk.tokenize.word_tokenize of NLTK 3.10.4, with the untrained Punkt as sent_tokenize."""
    PATCH_CALLS["word_tokenize"] += 1
    sentences = [text] if preserve_line else _UNTRAINED_PUNKT.tokenize(text)
    return [token for sent in sentences for token in _WORD_TOKENIZER.tokenize(sent)]


def _init_langdetect():
    """langdetect's own init_factory, but with the profiles in sorted order (it takes os.listdir's
    order, which the file system decides; the order is the index order of every probability
    vector, so it can move a float sum and with it a borderline verdict)."""
    DetectorFactory.seed = 0
    d = langdetect_factory.PROFILES_DIRECTORY
    names = sorted(n for n in os.listdir(d) if not n.startswith(".") and os.path.isfile(os.path.join(d, n)))
    profiles = []
    for n in names:
        with open(os.path.join(d, n), encoding="utf-8") as f:
            profiles.append(f.read())
    factory = DetectorFactory()
    factory.load_json_profile(profiles)
    langdetect_factory._factory = factory


def install_patches():
    assert nltk.__version__ == "3.10.4", nltk.__version__
    instructions_util._get_sentence_tokenizer = _untrained_sentence_tokenizer
    instructions_util.nltk.word_tokenize = _untrained_word_tokenize
    _init_langdetect()


class RandomTrap:
    """Stands in for the `random` module inside the checkers: any draw is recorded."""

    def __init__(self, real):
        self._real = real
        self.calls = []

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if callable(attr):
            def traced(*args, **kwargs):
                self.calls.append(name)
                return attr(*args, **kwargs)
            return traced
        return attr


RANDOM_TRAP = RandomTrap(random)
instructions.random = RANDOM_TRAP
instructions_util.random = RANDOM_TRAP


def self_check():
    """The patches must be what the checkers call."""
    text = "Dr. Smith arrived."
    n = instructions_util.count_sentences(text)
    assert n == 2, f"untrained punkt should see 2 sentences in {text!r}, saw {n}"
    toks = instructions_util.nltk.word_tokenize(text)
    assert toks == ["Dr", ".", "Smith", "arrived", "."], toks
    before = dict(PATCH_CALLS)
    res, _ = evaluate_instructions(
        "DR. SMITH ARRIVED. He sat.",
        ["length_constraints:number_sentences", "change_case:capital_word_frequency"],
        [{"num_sentences": 3, "relation": "at least"},
         {"capital_frequency": 3, "capital_relation": "at least"}],
        "p", INSTRUCTION_DICT)
    assert [r.strict_pass for r in res] == [True, True], res
    assert PATCH_CALLS["sentence_tokenizer"] > before.get("sentence_tokenizer", 0)
    assert PATCH_CALLS["word_tokenize"] > before.get("word_tokenize", 0)
    import langdetect
    assert langdetect_factory._factory.get_lang_list() == sorted(langdetect_factory._factory.get_lang_list())
    a = langdetect.detect("Der Fluss fließt ruhig an der alten Mühle vorbei.")
    b = langdetect.detect("Der Fluss fließt ruhig an der alten Mühle vorbei.")
    assert a == b == "de", (a, b)
    assert not RANDOM_TRAP.calls, RANDOM_TRAP.calls


# ----------------------------------------------------------------------------------------------
# Registry facts.
# ----------------------------------------------------------------------------------------------

ALL_IDS = sorted(INSTRUCTION_DICT)
CONFLICTS = copy.deepcopy(INSTRUCTION_CONFLICTS)
for _k in list(CONFLICTS):  # conflict_make: symmetric, every id conflicts with itself
    for _o in list(CONFLICTS[_k]):
        CONFLICTS[_o].add(_k)
    CONFLICTS[_k].add(_k)
LANGS = list(instructions_util.LANGUAGE_CODES)  # registry order
WORDS = list(instructions_util.WORD_LIST)
REL = ("less than", "at least")


def compatible(new, ids):
    return all(new not in CONFLICTS[i] and i not in CONFLICTS[new] for i in ids)


_ALL_KWARG_KEYS = []


def all_kwarg_keys():
    """Every kwarg key any checker takes (what an IFEval record lists, null when unused)."""
    if _ALL_KWARG_KEYS:
        return _ALL_KWARG_KEYS
    keys = set()
    for iid, cls in INSTRUCTION_DICT.items():
        c = cls(iid)
        if iid == "combination:repeat_prompt":
            c.build_description(prompt_to_repeat="x")
        elif iid == "detectable_content:postscript":
            c.build_description(postscript_marker="P.S.")
        else:
            state = random.getstate()
            random.seed(0)
            try:
                c.build_description()
            finally:
                random.setstate(state)
        keys.update(c.get_instruction_args_keys())
    _ALL_KWARG_KEYS.extend(sorted(keys))
    return _ALL_KWARG_KEYS


# ----------------------------------------------------------------------------------------------
# Text material (written for this file).
# ----------------------------------------------------------------------------------------------

REQUESTS = [
    "Describe how a lighthouse keeper spends a winter evening.",
    "Write a short guide to repotting a cactus without getting hurt.",
    "Explain why bread dough rises to a curious ten-year-old.",
    "Give advice to someone starting to learn the cello at fifty.",
    "Summarize the rules of a made-up board game called Harbor Tides.",
    "Write a letter from a retired train conductor to his grandson.",
    "Describe a quiet market town on the morning after a festival.",
    "Explain how to plan a two-day hike for a beginner.",
    "Write a product description for a solar-powered kettle.",
    "Tell the story of a cat who guards a small library.",
    "Compare riding a bicycle in the rain with walking in the rain.",
    "Give tips for keeping a kitchen herb garden alive in winter.",
    "Write a speech for the opening of a community tool library.",
    "Describe the sounds of a harbor at dawn.",
    "Explain what a beekeeper checks during a spring inspection.",
    "Write a review of an imaginary restaurant that only serves soup.",
    "Describe a day in the life of a bridge painter.",
    "Explain how to fold a paper boat that actually floats.",
    "Write a note inviting neighbors to a street cleanup.",
    "Give a short history of an invented island called Merrow.",
    "Explain the difference between a lake and a pond.",
    "Write a diary entry of a sailor waiting for the wind.",
    "Describe how to brew tea the way a patient grandmother would.",
    "Write an announcement for a lost umbrella found at a bus stop.",
    "Explain how a small village library could raise money.",
    "Write a poem about the last tram of the night.",
    "Describe the job of a night-shift baker.",
    "Give a pep talk to a team that lost its first match.",
    "Explain how to care for a borrowed dog for one weekend.",
    "Write a short fable about a stubborn mountain goat.",
    "Describe a rainy afternoon in a secondhand bookshop.",
    "Explain how a windmill turns wind into flour.",
    "Write a welcome message for new members of a chess club.",
    "Describe the view from the top of an old clock tower.",
    "Give instructions for packing a suitcase for a week by the sea.",
    "Write an apology from a robot vacuum to a house plant.",
]

EN_SENTS = [
    "The harbor was quiet when the first boats came back.",
    "Gulls circled above the pier and called to each other.",
    "A thin fog rolled in from the open water.",
    "The keeper climbed the stairs to check the lamp.",
    "Fresh bread was cooling on the bakery windowsill.",
    "Children ran along the beach with their kites.",
    "Nobody expected the storm to pass so quickly.",
    "The old bridge creaked under the weight of the cart.",
    "She counted the jars of honey twice before closing the shop.",
    "Rain tapped softly against the library windows.",
    "The tram rattled past the empty square at midnight.",
    "He wrote every measurement in a small green notebook.",
    "Three bicycles leaned against the garden fence.",
    "The soup smelled of thyme and roasted onions.",
    "Morning light turned the river the color of copper.",
    "Our neighbors planted tulips along the narrow path.",
    "The clock tower rang nine times and then fell silent.",
    "Every shelf in the shop was covered with dusty maps.",
    "After lunch, the wind shifted and the sails filled.",
    "Honestly, the cactus needed less water than we thought.",
    "In winter, the herbs grow slowly, so be patient.",
    "First, soak the seeds overnight; then, plant them shallow.",
    "The cellist practiced scales, arpeggios, and long tones.",
    "If the dough is sticky, add flour, one spoon at a time.",
    "Yes, the ferry still runs on Sundays, but only twice.",
    "The market opened at dawn, and by noon it was crowded.",
    "Is the kettle already warm?",
    "What a lovely view from the tower!",
    "Dr. Lane checked the hives at 7 a.m. on Monday.",
    "The recipe calls for 2.5 cups of flour.",
    "We waited... and waited some more.",
    "The sign read \"Closed for the season.\"",
    "J. R. Hill painted the bridge in 1998.",
    "Mr. Ortiz keeps the keys at the U.S. post office.",
    "The library opens at 10 a.m. on weekdays.",
    "See the map, e.g. the one near the door.",
    "The boat is about 4.2 meters long.",
    "Why would anyone leave so early?",
]
EN_SIMPLE = [s for s in EN_SENTS if "," not in s and "." not in s[:-1] and "!" not in s[:-1]]

FILLER_WORDS = ("boats drift past the pier while gulls circle over the calm water and the town "
                "slowly wakes under a pale sky as bakers open their doors and carts roll along "
                "the cobbled lanes toward the market square where farmers set out baskets of "
                "apples pears and late plums").split()
SHORT_SENTS = ["Boats returned.", "Gulls called.", "The tide turned.", "Lamps were lit.",
               "Bread cooled.", "Rain stopped.", "The bell rang.", "Nets dried.", "Doors opened.",
               "The wind rose."]
CAPS_WORDS = ["NOTE", "ALWAYS", "CHECK", "TIDE", "TABLES", "FIRST", "VERY", "IMPORTANT", "NEVER",
              "RUSH", "KEEP", "CALM", "NASA", "BBC", "OK", "STOP", "LOOK", "LISTEN"]
BULLET_ITEMS = ["Check the weather before leaving.", "Pack a warm layer.",
                "Bring enough water for the day.", "Tell someone your route.",
                "Carry a paper map as a backup.", "Start early to avoid the heat.",
                "Keep snacks within easy reach.", "Rest before you feel tired.",
                "Leave the trail cleaner than you found it.", "Turn back if the fog thickens."]
HIGHLIGHTS = ["the morning tide", "a warm kitchen", "three quiet rules", "the old stone bridge",
              "fresh mint leaves", "a patient teacher", "the final whistle", "one clear goal",
              "the lighthouse lamp", "two spare batteries"]
PLACEHOLDERS = ["[name]", "[address]", "[date]", "[phone number]", "[city]", "[time]",
                "[company]", "[email]"]
TITLES = ["Harbor Notes", "A Quiet Morning", "The Cello at Fifty", "Rules of the Tide",
          "Soup Only", "Letters Home", "The Last Tram"]

# Two sentences per language code of the registry, plus Dutch and Chinese (detected, not asked).
LANG_TEXT = {
    "en": ["The river runs quietly past the old mill, and children play on its banks every summer afternoon.",
           "The bakery on the corner opens early, and the smell of fresh bread fills the whole street."],
    "es": ["El río pasa tranquilamente junto al viejo molino y los niños juegan en sus orillas cada tarde de verano.",
           "La panadería de la esquina abre temprano y el olor a pan recién hecho llena toda la calle."],
    "pt": ["O rio passa tranquilamente pelo velho moinho e as crianças brincam nas suas margens todas as tardes de verão.",
           "A padaria da esquina abre cedo e o cheiro de pão fresco enche a rua inteira."],
    "ar": ["يمر النهر بهدوء بجانب الطاحونة القديمة، ويلعب الأطفال على ضفافه كل مساء في الصيف.",
           "يفتح المخبز في الزاوية مبكرا، وتملأ رائحة الخبز الطازج الشارع كله."],
    "hi": ["नदी पुरानी चक्की के पास से चुपचाप बहती है और बच्चे हर गर्मी की शाम उसके किनारे खेलते हैं।",
           "कोने की बेकरी सुबह जल्दी खुलती है और ताज़ी रोटी की खुशबू पूरी गली में फैल जाती है।"],
    "fr": ["La rivière coule tranquillement près du vieux moulin et les enfants jouent sur ses rives chaque après-midi d'été.",
           "La boulangerie du coin ouvre tôt et l'odeur du pain frais remplit toute la rue."],
    "ru": ["Река тихо течёт мимо старой мельницы, и дети играют на её берегах каждый летний вечер.",
           "Пекарня на углу открывается рано, и запах свежего хлеба наполняет всю улицу."],
    "de": ["Der Fluss fließt ruhig an der alten Mühle vorbei, und die Kinder spielen jeden Sommernachmittag an seinem Ufer.",
           "Die Bäckerei an der Ecke öffnet früh, und der Duft von frischem Brot erfüllt die ganze Straße."],
    "ja": ["川は古い水車小屋のそばを静かに流れ、子どもたちは毎年夏の午後に川辺で遊びます。",
           "角のパン屋は朝早く開き、焼きたてのパンの香りが通り全体に広がります。"],
    "it": ["Il fiume scorre tranquillo accanto al vecchio mulino e i bambini giocano sulle sue rive ogni pomeriggio d'estate.",
           "La panetteria all'angolo apre presto e il profumo del pane fresco riempie tutta la strada."],
    "bn": ["নদীটি পুরনো কলের পাশ দিয়ে শান্তভাবে বয়ে যায় এবং শিশুরা প্রতি গ্রীষ্মের বিকেলে তার তীরে খেলা করে।",
           "কোণের বেকারিটি ভোরে খোলে এবং তাজা রুটির গন্ধে পুরো রাস্তা ভরে যায়।"],
    "uk": ["Річка тихо тече повз старий млин, і діти граються на її берегах щолітнього вечора.",
           "Пекарня на розі відчиняється рано, і запах свіжого хліба наповнює всю вулицю."],
    "th": ["แม่น้ำไหลผ่านโรงสีเก่าอย่างเงียบสงบ และเด็ก ๆ เล่นอยู่ริมฝั่งทุกบ่ายในฤดูร้อน",
           "ร้านขนมปังตรงหัวมุมเปิดแต่เช้า และกลิ่นขนมปังสดก็ลอยไปทั่วถนน"],
    "ur": ["دریا پرانی چکی کے پاس سے خاموشی سے بہتا ہے اور بچے ہر گرمی کی شام اس کے کنارے کھیلتے ہیں۔",
           "کونے کی بیکری صبح سویرے کھلتی ہے اور تازہ روٹی کی خوشبو پوری گلی میں پھیل جاتی ہے۔"],
    "ta": ["ஆறு பழைய ஆலையின் அருகே அமைதியாக ஓடுகிறது, குழந்தைகள் ஒவ்வொரு கோடை மாலையும் அதன் கரையில் விளையாடுகிறார்கள்.",
           "மூலையில் உள்ள பேக்கரி அதிகாலையில் திறக்கிறது, புதிய ரொட்டியின் மணம் தெரு முழுவதும் பரவுகிறது."],
    "te": ["నది పాత మిల్లు పక్కన నిశ్శబ్దంగా ప్రవహిస్తుంది, పిల్లలు ప్రతి వేసవి సాయంత్రం దాని ఒడ్డున ఆడుకుంటారు.",
           "మూలలోని బేకరీ ఉదయాన్నే తెరుచుకుంటుంది, తాజా రొట్టె వాసన వీధి అంతా వ్యాపిస్తుంది."],
    "bg": ["Реката тече тихо покрай старата мелница и децата играят на брега ѝ всеки летен следобед.",
           "Пекарната на ъгъла отваря рано и ароматът на пресен хляб изпълва цялата улица."],
    "ko": ["강은 오래된 방앗간 옆을 조용히 흐르고 아이들은 여름 오후마다 강가에서 놀아요.",
           "모퉁이 빵집은 아침 일찍 문을 열고 갓 구운 빵 냄새가 거리 전체에 퍼집니다."],
    "pl": ["Rzeka płynie spokojnie obok starego młyna, a dzieci bawią się na jej brzegach każdego letniego popołudnia.",
           "Piekarnia na rogu otwiera się wcześnie, a zapach świeżego chleba wypełnia całą ulicę."],
    "he": ["הנהר זורם בשקט ליד הטחנה הישנה, והילדים משחקים על גדותיו בכל אחר צהריים של קיץ.",
           "המאפייה בפינה נפתחת מוקדם, וריח הלחם הטרי ממלא את כל הרחוב."],
    "fa": ["رودخانه به آرامی از کنار آسیاب قدیمی می‌گذرد و کودکان هر بعدازظهر تابستان در کنار آن بازی می‌کنند.",
           "نانوایی سر کوچه صبح زود باز می‌شود و بوی نان تازه همه خیابان را پر می‌کند."],
    "vi": ["Dòng sông lặng lẽ chảy qua chiếc cối xay cũ và trẻ em chơi đùa trên bờ sông mỗi buổi chiều mùa hè.",
           "Tiệm bánh ở góc phố mở cửa từ sớm và mùi bánh mì mới nướng lan khắp con đường."],
    "ne": ["नदी पुरानो घट्टको छेउबाट शान्त भएर बग्छ र केटाकेटीहरू हरेक गर्मीको साँझ यसको किनारमा खेल्छन्।",
           "कुनाको बेकरी बिहानै खुल्छ र ताजा रोटीको बास्नाले पूरै सडक भरिन्छ।"],
    "sw": ["Mto unapita kimya karibu na kinu cha zamani na watoto hucheza kwenye kingo zake kila mchana wa kiangazi.",
           "Duka la mikate lililo kona hufunguliwa mapema na harufu ya mkate mpya hujaza mtaa mzima."],
    "kn": ["ನದಿ ಹಳೆಯ ಗಿರಣಿಯ ಪಕ್ಕದಲ್ಲಿ ಶಾಂತವಾಗಿ ಹರಿಯುತ್ತದೆ ಮತ್ತು ಮಕ್ಕಳು ಪ್ರತಿ ಬೇಸಿಗೆಯ ಸಂಜೆ ಅದರ ದಡದಲ್ಲಿ ಆಡುತ್ತಾರೆ.",
           "ಮೂಲೆಯ ಬೇಕರಿ ಬೆಳಿಗ್ಗೆ ಬೇಗನೆ ತೆರೆಯುತ್ತದೆ ಮತ್ತು ತಾಜಾ ಬ್ರೆಡ್‌ನ ವಾಸನೆ ಇಡೀ ಬೀದಿಯನ್ನು ತುಂಬುತ್ತದೆ."],
    "mr": ["नदी जुन्या गिरणीजवळून शांतपणे वाहते आणि मुले प्रत्येक उन्हाळ्याच्या संध्याकाळी तिच्या काठावर खेळतात.",
           "कोपऱ्यावरची बेकरी सकाळी लवकर उघडते आणि ताज्या पावाचा वास संपूर्ण रस्त्यात पसरतो."],
    "gu": ["નદી જૂની ઘંટી પાસેથી શાંતિથી વહે છે અને બાળકો દર ઉનાળાની સાંજે તેના કિનારે રમે છે.",
           "ખૂણા પરની બેકરી વહેલી સવારે ખૂલે છે અને તાજી બ્રેડની સુગંધ આખી શેરીમાં ફેલાય છે."],
    "pa": ["ਦਰਿਆ ਪੁਰਾਣੀ ਚੱਕੀ ਦੇ ਕੋਲੋਂ ਚੁੱਪਚਾਪ ਵਗਦਾ ਹੈ ਅਤੇ ਬੱਚੇ ਹਰ ਗਰਮੀ ਦੀ ਸ਼ਾਮ ਇਸ ਦੇ ਕੰਢੇ ਖੇਡਦੇ ਹਨ।",
           "ਕੋਨੇ ਵਾਲੀ ਬੇਕਰੀ ਸਵੇਰੇ ਜਲਦੀ ਖੁੱਲ੍ਹਦੀ ਹੈ ਅਤੇ ਤਾਜ਼ੀ ਰੋਟੀ ਦੀ ਖੁਸ਼ਬੂ ਪੂਰੀ ਗਲੀ ਵਿੱਚ ਫੈਲ ਜਾਂਦੀ ਹੈ।"],
    "ml": ["പുഴ പഴയ മില്ലിന്റെ അരികിലൂടെ ശാന്തമായി ഒഴുകുന്നു, കുട്ടികൾ എല്ലാ വേനൽക്കാല സായാഹ്നത്തിലും അതിന്റെ തീരത്ത് കളിക്കുന്നു.",
           "മൂലയിലെ ബേക്കറി അതിരാവിലെ തുറക്കുന്നു, പുതിയ റൊട്ടിയുടെ മണം തെരുവ് മുഴുവൻ നിറയുന്നു."],
    "fi": ["Joki virtaa hiljaa vanhan myllyn ohi, ja lapset leikkivät sen rannalla joka kesäiltapäivä.",
           "Kulman leipomo aukeaa aikaisin, ja tuoreen leivän tuoksu täyttää koko kadun."],
    "nl": ["De rivier stroomt rustig langs de oude molen en de kinderen spelen elke zomermiddag op de oever.",
           "De bakkerij op de hoek gaat vroeg open en de geur van vers brood vult de hele straat."],
    "zh": ["河水静静地流过古老的磨坊，孩子们每个夏天的下午都在河边玩耍。",
           "街角的面包店很早就开门了，新鲜面包的香味飘满了整条街。"],
}
assert set(LANGS) <= set(LANG_TEXT), set(LANGS) - set(LANG_TEXT)

# ----------------------------------------------------------------------------------------------
# Cases.
# ----------------------------------------------------------------------------------------------

SHORT = {iid: iid.split(":")[1] for iid in ALL_IDS}


def describe(ids, kwargs):
    """The instruction sentences of a prompt, as build_description writes them."""
    out = []
    for iid, kw in zip(ids, kwargs):
        c = INSTRUCTION_DICT[iid](iid)
        out.append(c.build_description(**{k: v for k, v in kw.items() if v is not None}))
    return out


def make_prompt(request, ids, kwargs):
    for iid, kw in zip(ids, kwargs):
        if iid == "combination:repeat_prompt":
            request = kw["prompt_to_repeat"]
    return " ".join([request] + describe(ids, kwargs))


class EdgeBook:
    def __init__(self):
        self.cases = []
        self.per = collections.Counter()
        self.req = 0

    def add(self, ids, kwargs, response, request=None):
        if isinstance(ids, str):
            ids, kwargs = [ids], [kwargs]
        tag = SHORT[ids[0]] if len(ids) == 1 else "combo"
        self.per[tag] += 1
        if request is None:
            request = REQUESTS[self.req % len(REQUESTS)]
            self.req += 1
        self.cases.append({
            "id": f"edge-{tag}-{self.per[tag]:03d}",
            "source": "edge",
            "prompt": make_prompt(request, ids, kwargs),
            "instruction_id_list": list(ids),
            "kwargs": [dict(kw) for kw in kwargs],
            "response": response,
        })


def check(iid, kw, text):
    """The reference checker's strict verdict on `text` (stripped, as evaluate_instructions does)."""
    c = INSTRUCTION_DICT[iid](iid)
    c.build_description(**kw)
    return bool(c.check_following(text.strip()))


def count_at_least(iid, kw, key, text, hi=2000):
    """Largest n with check(kw | {key: n}) true for an 'at least n' checker (the count it sees)."""
    lo_n = 0
    while lo_n < hi and check(iid, {**kw, key: lo_n + 1}, text):
        lo_n += 1
    return lo_n


def exact_count(iid, kw, key, text, hi=60):
    for n in range(0, hi):
        if check(iid, {**kw, key: n}, text):
            return n
    return None


def add_relation_boundary(book, iid, key, relkey, text, extra=None, both=True):
    """Cases at the threshold: 'at least' c and c+1, 'less than' c and c+1 (c = the count)."""
    extra = dict(extra or {})
    c = count_at_least(iid, {**extra, relkey: "at least"}, key, text)
    thresholds = [max(c, 1), c + 1]
    for n in thresholds:
        book.add(iid, {**extra, key: n, relkey: "at least"}, text)
        if both:
            book.add(iid, {**extra, key: n, relkey: "less than"}, text)
    return c


def edge_cases():
    b = EdgeBook()
    E = b.add

    # ---- empty and near-empty responses, <think> blocks --------------------------------------
    empties = ["", " ", "   \n\t  ", "\n\n", "\r\n", "\u00a0", "\u2028", "\u3000 \u2003", "\x1c\x1d\x1e\x1f",
               "\x0b\x0c", "\u0085", "<think>only a plan</think>", "<think>no end to this thought",
               "<think>a</think>\n   \n", "  <think>x</think>\u00a0"]
    combos = [["punctuation:no_comma"], ["keywords:forbidden_words"], ["language:response_language"],
              ["change_case:english_lowercase", "punctuation:no_comma"],
              ["length_constraints:number_words"], ["startend:quotation"],
              ["length_constraints:number_sentences"], ["detectable_format:number_bullet_lists"]]
    simple_kw = {"keywords:forbidden_words": {"forbidden_words": ["spot", "brush"]},
                 "language:response_language": {"language": "en"},
                 "length_constraints:number_words": {"num_words": 100, "relation": "less than"},
                 "length_constraints:number_sentences": {"num_sentences": 5, "relation": "less than"},
                 "detectable_format:number_bullet_lists": {"num_bullets": 0}}
    for i, text in enumerate(empties):
        ids = combos[i % len(combos)]
        E(ids, [simple_kw.get(x, {}) for x in ids], text)
    # Not empty for Python: zero-width space and BOM are not whitespace.
    E("punctuation:no_comma", {}, "\u200b")
    E("punctuation:no_comma", {}, "\ufeff")
    E("startend:quotation", {}, "\u200b\"\u200b")
    E("language:response_language", {"language": "en"}, "\u200b")
    # Text after the first </think> only.
    E("punctuation:no_comma", {}, "<think>hmm, commas here</think>No commas in the answer.")
    E("punctuation:no_comma", {}, "<think>plan</think>Answer, with a comma.")
    E("startend:quotation", {}, "</think>\"Quoted answer.\"")
    E("startend:quotation", {}, "<think>a</think>b</think>\"c\"")
    E("detectable_format:title", {}, "  <think>draft <<Not This>></think>  A plain answer.")
    E("detectable_format:title", {}, "<think>draft</think><<Kept Title>>\nBody text.")
    E("startend:end_checker", {"end_phrase": "Any other questions?"},
      "<think>Should I end with it? Any other questions?</think>")
    E("startend:end_checker", {"end_phrase": "Any other questions?"},
      "Here is the answer.\n<think>late thought</think>\nAny other questions?")

    # ---- keywords:existence ---------------------------------------------------------------------
    K = "keywords:existence"
    E(K, {"keywords": ["potato", "brush"]}, "I peeled a potato with a soft brush.")
    E(K, {"keywords": ["potato", "brush"]}, "I peeled a potato with a knife.")
    E(K, {"keywords": ["potato", "brush"]}, "Potatoes and BRUSHES everywhere.")
    E(K, {"keywords": ["spot"]}, "The spotted dog sat still.")
    E(K, {"keywords": ["spot"]}, "The s-p-o-t is hidden.")
    E(K, {"keywords": ["good morning"]}, "Good  morning to you.")
    E(K, {"keywords": ["good morning"]}, "GOOD MORNING to you.")
    E(K, {"keywords": ["good morning"]}, "Good\nmorning to you.")
    E(K, {"keywords": ["café"]}, "A CAFÉ on the corner.")
    E(K, {"keywords": ["café"]}, "A cafe\u0301 on the corner.")
    E(K, {"keywords": ["cafe"]}, "A café on the corner.")
    E(K, {"keywords": ["kelvin"]}, "Measured in \u212aelvin today.")
    E(K, {"keywords": ["straße"]}, "Die STRASSE ist lang.")
    E(K, {"keywords": ["straße"]}, "Die STRAẞE ist lang.")
    E(K, {"keywords": ["istanbul"]}, "İstanbul is a large city.")
    E(K, {"keywords": ["İstanbul"]}, "istanbul is a large city.")
    E(K, {"keywords": ["ısık"]}, "ISIK means light.")
    E(K, {"keywords": ["σοφία"]}, "ΣΟΦΊΑ means wisdom.")
    E(K, {"keywords": ["e.g."]}, "Take one, eXg, the blue one.")
    E(K, {"keywords": ["e.g."]}, "Take one, e.g. the blue one.")
    E(K, {"keywords": ["colou?r"]}, "What a lovely color.")
    E(K, {"keywords": ["1+1"]}, "We know that 11 is prime.")
    E(K, {"keywords": ["1+1"]}, "We know that 1+1 is two.")
    E(K, {"keywords": ["region", "trade"]}, "The region's tradeoffs.")
    E(K, {"keywords": ["region", "trade"]}, "The REGION has no commerce.")
    E(K, {"keywords": ["working", "welcome"]}, "You are welcome to keep working.")
    E(K, {"keywords": ["working", "welcome"]}, "Work is welcome.")
    E(K, {"keywords": ["medicine", "film"]}, "The filmmaker studied medicine.")
    E(K, {"keywords": ["medicine", "film"]}, "The f\u00adilm about medicine.")
    E(K, {"keywords": ["rock"]}, "ROCK\u00a0and roll.")
    E(K, {"keywords": ["rock", "tap"]}, "Ｒｏｃｋ and tap.")
    E(K, {"keywords": ["emoji"]}, "I love emoji 😀 a lot.")
    E(K, {"keywords": ["😀"]}, "I love emoji 😀 a lot.")
    E(K, {"keywords": ["growth", "lock"]}, "* growth\n* LOCK")

    # ---- keywords:frequency ---------------------------------------------------------------------
    K = "keywords:frequency"
    for text, kw in [
        ("The spot on the spot near the spot.", "spot"),
        ("Spot, SPOT, spot! Spotless spots.", "spot"),
        ("aaaa", "aa"),
        ("The region regional regions.", "region"),
        ("Trade trade\ntrade", "trade"),
        ("No keyword at all here.", "potato"),
        ("good morning, good  morning, Good Morning", "good morning"),
        ("İstanbul, istanbul, ISTANBUL", "istanbul"),
        ("café cafe\u0301 CAFÉ", "café"),
        ("walk walked walking walks sidewalk", "walk"),
        ("the the the the the the", "the"),
        ("mate Mate MATE mAtE matey", "mate"),
        ("\u212aey key KEY", "key"),
        ("steal, steal. steal? steal! steal; steal: steal", "steal"),
    ]:
        add_relation_boundary(b, K, "frequency", "relation", text, {"keyword": kw})
    E(K, {"keyword": " spot ", "frequency": 2, "relation": "at least"}, "a spot, a spot")
    E(K, {"keyword": "spot", "frequency": 2, "relation": "at least"}, "a spot, a spot")
    E(K, {"keyword": "e.g", "frequency": 2, "relation": "at least"}, "eXg and e.g here")

    # ---- keywords:forbidden_words ---------------------------------------------------------------
    K = "keywords:forbidden_words"
    for words, text in [
        (["spot"], "The dog sat on the spot."),
        (["spot"], "The spotted dog sat still."),
        (["spot"], "Hit the spot."),
        (["spot"], "SPOT!"),
        (["spot"], "It's spot's bowl."),
        (["spot"], "spot_light is a variable."),
        (["spot"], "spot-on answer."),
        (["spot"], "spot9 and 9spot."),
        (["spot"], "spotñ is not a word."),
        (["spot"], "ñspot is not a word."),
        (["spot"], "«spot» in quotes."),
        (["spot"], "a\u00a0spot\u00a0here"),
        (["spot"], "s\u200bpot with a zero-width space."),
        (["good morning"], "Good morning, friends."),
        (["good morning"], "Good  morning, friends."),
        (["good morning"], "A good mornings walk."),
        (["potato", "brush"], "Potatoes and brushes."),
        (["potato", "brush"], "Potato and brushes."),
        (["potato", "brush"], "Brush your teeth."),
        (["potato", "brush", "potato"], "Nothing to see."),
        (["café"], "Le CAFÉ est ouvert."),
        (["café"], "Le cafe\u0301 est ouvert."),
        (["cafe"], "Le café est ouvert."),
        (["straße"], "DIE STRASSE"),
        (["kelvin"], "273 \u212aelvin"),
        (["i"], "İ is a letter."),
        (["is"], "This is it."),
        (["is"], "This island."),
        (["don't"], "I DON'T know."),
        (["don't"], "I dont know."),
        (["region"], "region\nregion"),
        (["region"], "The REGION."),
        (["the"], "There is nothing."),
    ]:
        E(K, {"forbidden_words": words}, text)

    # ---- keywords:letter_frequency --------------------------------------------------------------
    K = "keywords:letter_frequency"
    for letter, text in [
        ("e", "Eerie eels eat everything."),
        ("E", "Eerie eels eat everything."),
        ("a", "A banana, a papaya, and an avocado."),
        ("i", "İİİ is the Turkish capital dotted I."),
        ("i", "ııı dotless letters only."),
        ("k", "\u212a\u212a\u212a Kelvin signs and a kayak."),
        ("e", "cafe\u0301 résumé éé ÉÉ"),
        ("s", "ſ long s, ß sharp s, SS."),
        ("z", "No such letter here."),
        ("o", "Ｏｏ fullwidth and oO plain."),
        ("t", "tttttttttt"),
        ("q", "Quick quiet quails quarrel quietly."),
        ("x", "X-ray, xylophone, box, fox, six."),
        ("n", "ñandú and n, N."),
        ("l", "Hello\tworld\nline\r\nlast"),
    ]:
        add_relation_boundary(b, K, "let_frequency", "let_relation", text, {"letter": letter})

    # ---- language:response_language -------------------------------------------------------------
    K = "language:response_language"
    for code in LANGS:
        native = LANG_TEXT[code]
        E(K, {"language": code}, native[0] + " " + native[1])
        E(K, {"language": code}, native[1])
        if code != "en":
            E(K, {"language": code}, LANG_TEXT["en"][0])
            E(K, {"language": code}, native[0] + "\n\n" + LANG_TEXT["en"][0] + " " + LANG_TEXT["en"][1])
    for code in ["en", "fr", "ja", "hi"]:
        E(K, {"language": code}, "12345 67890 !!!")
        E(K, {"language": code}, "😀 🎉 👍")
    E(K, {"language": "ja"}, LANG_TEXT["zh"][0])
    E(K, {"language": "ko"}, LANG_TEXT["ja"][1])
    E(K, {"language": "en"}, LANG_TEXT["nl"][0])
    E(K, {"language": "de"}, LANG_TEXT["nl"][1])
    E(K, {"language": "ru"}, LANG_TEXT["uk"][0])
    E(K, {"language": "uk"}, LANG_TEXT["ru"][0])
    E(K, {"language": "ne"}, LANG_TEXT["hi"][0])
    E(K, {"language": "hi"}, LANG_TEXT["mr"][0])
    E(K, {"language": "ur"}, LANG_TEXT["fa"][0])
    E(K, {"language": "es"}, "Hola.")
    E(K, {"language": "en"}, "OK")
    E(K, {"language": "en"}, "*" * 20)
    E(K, {"language": "en"}, "Thanks!\n" + LANG_TEXT["fr"][0])

    # ---- length_constraints:number_sentences ----------------------------------------------------
    K = "length_constraints:number_sentences"
    sentence_texts = [
        "Dr. Smith arrived.",
        "Mr. and Mrs. Brown left at 5 p.m. yesterday. They came back later.",
        "Pi is roughly 3.14. Euler's number is about 2.718.",
        "Wait... what happened? I don't know!? Maybe nothing.",
        "She said, \"It is late.\" Then she left. 'Fine.' he replied.",
        "J. R. R. Tolkien wrote many books. C. S. Lewis was his friend.",
        "The U.S.A. is large. The U.K. is smaller. e.g. this is an example, i.e. a sample.",
        "Visit example.com for details. Version 2.0 is out now.",
        "1. First item\n2. Second item\n3. Third item",
        "No punctuation here at all\nAnother line without a stop\nAnd a third",
        "Hello!!! Are you there??? Yes.",
        "He paid $4.50 at 10 a.m. It was cheap.",
        "Café au lait. Très bien! ¿Qué tal? Bien.",
        "今日は晴れです。明日は雨です。",
        "Well… I see. Okay.",
        "“Stop.” He stopped. (This is a note.) Done.",
        "# Title\n\n* First point.\n* Second point.\n\n**Bold sentence.** Normal one.",
        "St. Louis is a city. It lies on the Mississippi River. Prof. Lee lives there.",
        "And then... nothing. The end.",
        "Chapter 1. The Start. Chapter 2. The End.",
        "I saw a U.F.O. Then I went home.",
        "Is it? Yes! No. Maybe.",
        "a. b. c. d.",
        "The price rose 5%. Sales fell by 1.5 %. Why?",
        "end of line.\nnext starts lowercase. Next starts upper.",
        "Numbers like 1.000.000 and v1.2.3 stay. So do times like 10:30.",
        "He said \"Go!\" and went. She said 'Stop?' and stayed.",
        "Line one.\r\nLine two.\r\nLine three.",
        "Tabs\tbetween.\tWords here.",
        "ELLIPSIS.... FOUR DOTS. Two.. dots. End.",
        " ".join(EN_SIMPLE[:20]),
        "P.S. This is a postscript. P.P.S. So is this.",
        "Born in 1990. Died in 2050. Aged 60.",
        "Smith et al. wrote it. It was good.",
        "She was born on Jan. 5. It was cold.",
    ]
    for text in sentence_texts:
        add_relation_boundary(b, K, "num_sentences", "relation", text)

    # ---- length_constraints:number_paragraphs ---------------------------------------------------
    K = "length_constraints:number_paragraphs"
    para_texts = [
        "One.\n***\nTwo.\n***\nThree.",
        "One. *** Two. *** Three.",
        "One.***Two.***Three.",
        "***\nOne.\n***\nTwo.\n***",
        "One.\n***\n\n***\nTwo.",
        "One.\n\nTwo.\n\nThree.",
        "One.\n****\nTwo.",
        "One.\n* * *\nTwo.",
        "One.\n*****\nTwo.",
        "One.  ***  Two.",
        "One.\n\n***\n\nTwo.\n\n***\n\nThree.\n\n***\n\nFour.",
        "A***B***C***D***E",
        "******",
        "One.\n***",
        "  ***  One.",
        "One.\r\n***\r\nTwo.",
        "One.\t***\tTwo.",
        "One.\u00a0***\u00a0Two.",
        "One.\n***\n   \n***\nTwo.",
        "**bold** text.\n***\n*italic* text.",
        "One.\n***\nTwo.\n***\nThree.\n***\nFour.\n***\nFive.\n***\nSix.",
    ]
    for text in para_texts:
        n = exact_count(K, {}, "num_paragraphs", text)
        for m in sorted({max(n or 1, 1) - 1, max(n or 1, 1), max(n or 1, 1) + 1} - {0}):
            E(K, {"num_paragraphs": m}, text)

    # ---- length_constraints:number_words --------------------------------------------------------
    K = "length_constraints:number_words"
    word_texts = [
        "Don't stop believing.",
        "A well-known co-operative.",
        "Pi is 3.14 and e is 2.718.",
        "snake_case and camelCase",
        "naïve café résumé",
        "cafe\u0301s are nice",
        "日本語のテキスト",
        "emoji 😀 between 🎉 words",
        "U.S.A. and U.K.",
        "email me at a.b@c.de please",
        "ＦＵＬＬ width words",
        "word\u00a0word\u2028word",
        "١٢٣ and ४५६ digits",
        "ß ẞ ſ",
        "x²  and H₂O",
        " ".join(FILLER_WORDS[:40]),
        " ".join((FILLER_WORDS * 4)[:120]),
        "- one\n- two\n* three\n\n***\n\nSection 1 four",
        "Ⅻ Ⅳ roman numerals",
        "a_b_c d-e-f g.h.i",
    ]
    for text in word_texts:
        add_relation_boundary(b, K, "num_words", "relation", text)

    # ---- length_constraints:nth_paragraph_first_word --------------------------------------------
    K = "length_constraints:nth_paragraph_first_word"
    nth_cases = [
        ("Spot is here.\n\nSecond one.", 2, 1, "spot"),
        ("Spot is here.\n\nSecond one.", 2, 2, "second"),
        ("Spot is here.\n\nSecond one.", 3, 2, "second"),
        ("Spot is here.\n\nSecond one.", 1, 1, "spot"),
        ("\"Spot,\" she said.\n\nMore.", 2, 1, "spot"),
        ("'Spot' she said.\n\nMore.", 2, 1, "spot"),
        ("“Spot” she said.\n\nMore.", 2, 1, "spot"),
        ("*Spot* she said.\n\nMore.", 2, 1, "spot"),
        ("Spot-on, she said.\n\nMore.", 2, 1, "spot"),
        ("Spot-on, she said.\n\nMore.", 2, 1, "spot-on"),
        ("SPOT! she said.\n\nMore.", 2, 1, "SPOT"),
        ("spot's bowl.\n\nMore.", 2, 1, "spot"),
        ("spot's bowl.\n\nMore.", 2, 1, "spot's"),
        ("First.\n\n\nSpot second.", 2, 2, "spot"),
        ("First.\n\n\n\nSpot second.", 2, 2, "spot"),
        ("First.\n\n\n\nSpot second.", 3, 3, "spot"),
        ("\n\nFirst.\n\nSpot second.", 2, 2, "spot"),
        ("\n\nFirst.\n\nSpot second.", 2, 2, "first"),
        ("First.\r\n\r\nSpot second.", 2, 2, "spot"),
        ("First.\r\n\r\nSpot second.", 1, 1, "first."),
        ("First.\n \nSpot second.", 2, 2, "spot"),
        ("A.\n\nB.\n\nC.\n\nPotato salad.\n\nE.", 5, 4, "potato"),
        ("A.\n\nB.\n\nC.\n\nPotato salad.\n\nE.", 4, 4, "potato"),
        ("A.\n\nB.\n\nC.\n\nPotato salad.\n\nE.", 5, 5, "e"),
        ("   Indented first word.\n\nNext.", 2, 1, "indented"),
        ("Émile went home.\n\nNext.", 2, 1, "émile"),
        ("Émile went home.\n\nNext.", 2, 1, "Émile"),
        ("İstanbul is big.\n\nNext.", 2, 1, "istanbul"),
        ("Straße is long.\n\nNext.", 2, 1, "straße"),
        ("Wait?Really.\n\nNext.", 2, 1, "wait"),
        ("#Heading\n\nNext.", 2, 1, "#heading"),
        ("Word\u00a0next to nbsp.\n\nNext.", 2, 1, "word"),
        ("one\n\ntwo\n\nthree", 3, 3, "three"),
        ("one\n\ntwo\n\nthree\n\n", 3, 3, "three"),
        ("one\n\ntwo\n\nthree\n\n\n", 3, 3, "three"),
    ]
    for text, num, nth, word in nth_cases:
        E(K, {"num_paragraphs": num, "nth_paragraph": nth, "first_word": word}, text)

    # ---- detectable_content:number_placeholders -------------------------------------------------
    K = "detectable_content:number_placeholders"
    ph_texts = [
        "Dear [name], see you at [address].",
        "Empty [] counts.",
        "Nested [[a]] brackets.",
        "[a\nb] across a line.",
        "A [link](http://x.y) in markdown.",
        "No placeholders here.",
        "[one][two][three]",
        "[ ] [  ] [\t]",
        "Unclosed [ bracket and ] later.",
        "【fullwidth】 and ［wide］ brackets.",
        "[x] " * 6,
        "[first line\nsecond] [ok]",
        "]backwards[ and [proper]",
    ]
    for text in ph_texts:
        c = count_at_least(K, {}, "num_placeholders", text)
        for n in sorted({max(c, 1), c + 1}):
            E(K, {"num_placeholders": n}, text)

    # ---- detectable_content:postscript ----------------------------------------------------------
    K = "detectable_content:postscript"
    ps_texts = [
        "Body.\n\nP.S. Remember the tide.",
        "Body.\np.s. lower case.",
        "Body.\nP. S. spaced.",
        "Body.\nP.S without the last dot.",
        "Body. P.S. in the middle of a line.",
        "Body.\nPS: no dots.",
        "Body.\nP.P.S. Another note.",
        "Body.\nP.P.S Another note.",
        "Body.\nP. P. S. spaced.",
        "Body.\nPPS no dots.",
        "Body.\n  P.S. indented.",
        "Body.\n*P.S.* starred.",
        "No postscript at all.",
        "Body.\r\nP.S. crlf.",
        "Body.\nP.S.",
        "Body.\nNote: a custom marker.",
        "Body.\nNOTE: upper custom marker.",
        "Body.\nAddendum follows.",
        "Body.\nPSX looks close.",
    ]
    for text in ps_texts:
        for marker in ["P.S.", "P.P.S", "Note:", "PS:", "  P.S.  "]:
            E(K, {"postscript_marker": marker}, text)

    # ---- detectable_format:number_bullet_lists --------------------------------------------------
    K = "detectable_format:number_bullet_lists"
    bullet_texts = [
        "* one\n* two\n* three",
        "- one\n- two",
        "* one\n- two\n+ three",
        "**Bold line**\n* one",
        "*\nnext line",
        "*\n*\n*",
        "  * indented\n\t* tabbed",
        "---\nhorizontal rule above",
        "-5 degrees outside.\n- a bullet",
        "1. one\n2. two",
        "• unicode bullet\n• another",
        "*italic start* of a line\n* real",
        "* one\r\n* two\r\n",
        "Intro:\n\n* one\n\n* two\n\n\n* three",
        "text * not a bullet\ntext - not a bullet",
        "*one without space\n-two without space",
        "* " + "\n* ".join(BULLET_ITEMS[:5]),
        "\u00a0* nbsp indent\n\u2003- em space indent",
    ]
    for text in bullet_texts:
        n = exact_count(K, {}, "num_bullets", text)
        for m in sorted({max((n or 0) - 1, 0), n or 0, (n or 0) + 1}):
            E(K, {"num_bullets": m}, text)

    # ---- detectable_format:constrained_response -------------------------------------------------
    K = "detectable_format:constrained_response"
    for text in ["My answer is yes.", "My answer is no.", "My answer is maybe.",
                 "My answer is Yes.", "My answer is yes", "my answer is yes.",
                 "After thinking: My answer is no. Thanks.", "My  answer is no.",
                 "My answer is maybe!", "\"My answer is maybe.\"", "My answer is yes..",
                 "My answer is: yes.", "Answer: yes.", "My answer is yes.\nMy answer is no.",
                 "My answer is\nyes.", "My answer is yes\u00a0.", "My answer is no.\n\nP.S. sure",
                 "**My answer is yes.**", "My answer is *yes*.", "MY ANSWER IS NO.",
                 "Yes.\nMy answer is yes.", "Nope.", "My answer is noted."]:
        E(K, {}, text)

    # ---- detectable_format:number_highlighted_sections ------------------------------------------
    K = "detectable_format:number_highlighted_sections"
    hl_texts = [
        "*one* and *two*",
        "**bold** and *italic*",
        "**bold**",
        "* * empty ones ** and *** and ****",
        "*a*b*c*",
        "*across\nlines*",
        "* bullet\n* another bullet",
        "*  * spaces only",
        "***triple***",
        "_underscore_ and __double__",
        "*one*two*three*four*",
        "Normal **first** then *second* then ***third***.",
        "*ok*\n**also ok**\n* not *",
        "*\u00a0*",
        "*😀*",
    ]
    for text in hl_texts:
        c = count_at_least(K, {}, "num_highlights", text)
        for n in sorted({max(c, 1), c + 1}):
            E(K, {"num_highlights": n}, text)

    # ---- detectable_format:multiple_sections ----------------------------------------------------
    K = "detectable_format:multiple_sections"
    sec_texts = [
        "Section 1\nIntro.\nSection 2\nMore.",
        "SECTION 1\nIntro.\nSECTION 2\nMore.",
        "Section1 glued.\nSection2 glued.",
        "Sections 2 and 3 are mentioned.",
        "Section X\nNo digits.",
        "Section  1 two spaces.",
        "See Section 3 above and Section 4 below.",
        "section 1 lower.\nsection 2 lower.",
        "Section 1Section 2Section 3",
        "Section 12\nSection 13",
        "Section ١ Arabic digit.",
        "Section\t1 tab.\nSection\n2 newline.",
        "Part 1\nPart 2\nPart 3",
        "Day 1: arrive. Day 2: hike. Day 3: rest. Day 4: leave.",
        "PARAGRAPH 1\ntext\nPARAGRAPH 2\ntext",
        "Subsection 1\nSubsection 2",
        "Section 1 " + " ".join(f"Section {i}" for i in range(2, 7)),
    ]
    for text in sec_texts:
        for spl in ["Section", "SECTION", "Part", "Day", "PARAGRAPH"]:
            c = count_at_least(K, {"section_spliter": spl}, "num_sections", text)
            if c == 0 and spl not in ("Section", "SECTION"):
                continue
            for n in sorted({max(c, 1), c + 1}):
                E(K, {"section_spliter": spl, "num_sections": n}, text)
    E(K, {"section_spliter": " Section ", "num_sections": 2}, "Section 1 a Section 2 b")

    # ---- detectable_format:json_format ----------------------------------------------------------
    K = "detectable_format:json_format"
    for text in ['{"a": 1}', '```json\n{"a": 1}\n```', '```JSON\n{"a": 1}\n```', '```Json\n{"a": 1}\n```',
                 '```\n{"a": 1}\n```', '```jsonc\n{"a": 1}\n```', '```python\n{"a": 1}\n```',
                 '{"a": {"b": [1, 2, {"c": null}]}}', '{"a": 1,}', '[1, 2, 3,]', "{'a': 1}",
                 '{"a": NaN}', '{"a": Infinity, "b": -Infinity}', "42", '"just a string"', "true",
                 "null", "[]", "{}", '{"a": 1}{"b": 2}', 'Here is JSON: {"a": 1}',
                 '```json\n{"a": 1}\n```\nHope this helps.', '{"a": 1}\n```', '```json{"a": 1}```',
                 '\ufeff{"a": 1}', '{"a": "\\ud800"}', '{"a": "line\nbreak"}', '{"a": 1e400}',
                 '{"a": 01}', '{"a": 1, "a": 2}', '{"a": .5}', '{"a": +1}', '{"a": "\u00e9"}',
                 '  \n```json\n  [ "x" ]  \n```  \n', '```json\n```', '``` json\n{"a": 1}\n```',
                 '{"a": [1, 2, 3]', '{"text": "He said \\"hi\\""}', '{"a": 0x10}', "'single'",
                 '{"a":1}\u00a0', '\u00a0{"a":1}', '{\u00a0"a":1}', '{"a":\t1}', "-0", "1.5e-3",
                 '{"k": "v"}\n\n```', '```json\n{"nested": {"deep": {"deeper": {"deepest": []}}}}\n```']:
        E(K, {}, text)

    # ---- detectable_format:title ----------------------------------------------------------------
    K = "detectable_format:title"
    for text in ["<<Poem of Joy>>\nBody.", "<<>>\nBody.", "<< >>\nBody.", "<<<>>>\nBody.",
                 "<<>> and <<Real Title>> on one line.", "<<A\nB>> across lines.", "<Single>",
                 "Body with <<title>> in the middle.", "《Not ASCII》", "<<\u00a0>>", "<<\t>>",
                 "<<<<Deep>>>>", "<<Title>", "Title>>", "<<😀>>", "<<  padded  >>",
                 "<<a>><<b>>", "<<>><<>>", "<< >> << >>", "<<>>x>>", "<<x>>\n<<>>", "No title."]:
        E(K, {}, text)

    # ---- combination:two_responses --------------------------------------------------------------
    K = "combination:two_responses"
    for text in ["First answer.\n******\nSecond answer.", "Same.\n******\nSame.",
                 "Same.\n******\n  Same.  ", "******\nFirst.\n******\nSecond.",
                 "First.\n******\nSecond.\n******", "First.\n******\n******\nSecond.",
                 "First.************Second.", "First.*******Second.", "First.*****Second.",
                 "A\n******\nB\n******\nC", "Only one answer.", "******", "A ****** B",
                 "café\n******\ncafe\u0301", "A\n******\na", "  ******  A ****** B",
                 "A\n******\n\u00a0\n******\nB", "**A**\n******\n**B**", "A\r\n******\r\nB",
                 "A\n******\nB\n******\n  \n"]:
        E(K, {}, text)

    # ---- combination:repeat_prompt --------------------------------------------------------------
    K = "combination:repeat_prompt"
    req = "Write a short note about the harbor at dawn."
    for p, text in [
        (req, req + "\nThe harbor wakes slowly."),
        (req, req.upper() + "\nTHE HARBOR WAKES SLOWLY."),
        (req, "  \n" + req + " Answer follows."),
        (req + "  \n", req + " Answer follows."),
        (req, req.replace("short note", "short  note") + " Answer."),
        (req, req[:-1] + " Answer."),
        (req, "Sure! " + req + " Answer."),
        (req, "Sure!\n" + req + "\nAnswer."),
        (req, req),
        (req, "\"" + req + "\" Answer."),
        (req, req.replace(" ", "\u00a0") + " Answer."),
        (req, req.replace("\n", "\r\n") + " Answer."),
        ("Die Straße ist lang.", "DIE STRASSE IST LANG. Ja."),
        ("Die Straße ist lang.", "DIE STRAßE IST LANG. Ja."),
        ("İstanbul is big.", "istanbul is big. Yes."),
        ("İstanbul is big.", "İSTANBUL IS BIG. Yes."),
        ("istanbul is big.", "İSTANBUL IS BIG. Yes."),
        ("ΟΔΟΣ is Greek.", "οδος is greek. Yes."),
        ("ΟΔΟΣ is Greek.", "οδοσ is greek. Yes."),
        ("Visit the café.", "Visit the cafe\u0301. Okay."),
        ("Visit the café.", "VISIT THE CAFÉ. Okay."),
        ("Line one.\nLine two.", "Line one.\nLine two.\nAnswer."),
        ("Line one.\nLine two.", "Line one.\r\nLine two.\r\nAnswer."),
        ("Line one.\nLine two.", "Line one. Line two. Answer."),
        ("Ｆｕｌｌ width.", "ｆｕｌｌ WIDTH. ok"),
        ("\u212aelvin scale?", "kelvin scale? yes"),
    ]:
        E(K, {"prompt_to_repeat": p}, text, request=p)

    # ---- startend:end_checker -------------------------------------------------------------------
    K = "startend:end_checker"
    for phrase, text in [
        ("Any other questions?", "Hello. Any other questions?"),
        ("Any other questions?", "Hello. any other questions?"),
        ("Any other questions?", "Hello. Any other questions?  \n"),
        ("Any other questions?", "Hello. \"Any other questions?\""),
        ("Any other questions?", "Hello. Any other questions?\"\"\""),
        ("Any other questions?", "Hello. 'Any other questions?'"),
        ("Any other questions?", "Hello. “Any other questions?”"),
        ("Any other questions?", "Hello. Any other questions?."),
        ("Any other questions?", "Hello. Any other questions"),
        ("Any other questions?", "Hello. Any other questions?\u00a0"),
        ("Any other questions?", "Hello. Any other questions?\u200b"),
        ("Any other questions?", "Hello. Any  other questions?"),
        ("Any other questions?", "Any other questions?"),
        ("Any other questions?", "Any other questions?\nP.S. one more thing."),
        ("Is there anything else I can help with?", "Done. Is there anything else I can help with?"),
        ("Is there anything else I can help with?", "Done. IS THERE ANYTHING ELSE I CAN HELP WITH?"),
        ("Is there anything else I can help with?", "Done. Is there anything else I can help with?**"),
        ("Is there anything else I can help with?", "**Done. Is there anything else I can help with?**"),
        ("  Peace out.  ", "Bye. Peace out."),
        ("He said \"Bye\"", "Story. He said \"Bye\""),
        ("He said \"Bye\"", "Story. He said \"Bye"),
        ("Visit the café.", "Go. Visit the cafe\u0301."),
        ("Visit the café.", "Go. VISIT THE CAFÉ."),
        ("Die Straße.", "Go. DIE STRASSE."),
        ("İstanbul.", "Go. istanbul."),
        ("İstanbul.", "Go. İSTANBUL."),
        ("Let me know!", "Thanks.\r\nLet me know!\r\n"),
        ("Let me know!", "Thanks.\nLet me know!\n\n\n"),
    ]:
        E(K, {"end_phrase": phrase}, text)

    # ---- change_case:capital_word_frequency -----------------------------------------------------
    K = "change_case:capital_word_frequency"
    cap_texts = [
        "DON'T STOP. I CAN'T WAIT.",
        "The U.S.A. and the U.K. signed it.",
        "A&B went to R&D at AT&T.",
        "WELL-KNOWN facts about COVID-19 and the NHS.",
        "I think I am OK.",
        "HELLO, WORLD! THIS IS LOUD.",
        "Numbers 123 and 4.5 are not WORDS.",
        "ÉCOLE and ÜBER are CAPS; ß is not. STRAßE?",
        "Dr. SMITH met Mr. JONES at 5 P.M. yesterday.",
        "\"QUOTED\" words (PAREN) and [BRACKET] stuff.",
        "Email: JOHN@EXAMPLE.COM or visit WWW.SITE.ORG.",
        "It's JOHN'S car. THEY'RE HERE. Y'ALL COME.",
        "ΑΘΗΝΑ is Athens in GREEK; ИВАН is Russian.",
        "x-RAY, T-SHIRT, and e-MAIL.",
        "CAN'T… WON'T… SHAN'T!",
        " ".join(CAPS_WORDS),
        "OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK OK",
        "THE END.THE START.NO SPACE",
        "İSTANBUL and ISTANBUL and İstanbul.",
        "Ⅻ and ⅫⅣ and 𝐀𝐁𝐂 bold math.",
        "A1 B2 C3 4D 5e",
        "GONNA WANNA GIMME LEMME",
        "«ABC» „DEF“ ‘GHI’",
        "...ABC... ---DEF--- ***GHI***",
        "Section 1\n* FIRST point\n* SECOND point\n\n**BOLD** text",
        "\u00a0NBSP\u00a0SEPARATED\u00a0WORDS",
        "CAPS\tWITH\tTABS\nAND\nLINES",
        "I'M HERE. I'D GO. I'LL SEE. WE'VE DONE.",
        "$100 USD, 50% OFF, #1 HIT, @HOME",
    ]
    for text in cap_texts:
        add_relation_boundary(b, K, "capital_frequency", "capital_relation", text)

    # ---- change_case:english_capital / english_lowercase ----------------------------------------
    K = "change_case:english_capital"
    for text in ["HELLO WORLD, THIS IS A TEST OF THE WHOLE SYSTEM.", "HELLO world, this is a test.",
                 "12345", "123 ABC", "ÇA VA BIEN, MERCI BEAUCOUP MON AMI.",
                 "DIE STRAßE IST LANG UND BREIT.", "DIE STRASSE IST LANG UND BREIT.",
                 "ΚΑΛΗΜΕΡΑ ΣΕ ΟΛΟΥΣ ΤΟΥΣ ΦΙΛΟΥΣ.", "İSTANBUL IS A VERY BIG CITY IN TURKEY.",
                 "my title\nTHE REST OF THE ANSWER IS WRITTEN IN CAPITAL LETTERS.",
                 "THE ANSWER IS WRITTEN IN CAPITAL LETTERS.\nthanks",
                 "I LOVE PIZZA 🍕 VERY MUCH, ESPECIALLY ON FRIDAYS.",
                 "THE *BEST* ANSWER IS **THIS ONE** RIGHT HERE.", "!!!", "ⅫⅣ",
                 "<<MY TITLE>>\nTHE BODY IS HERE AND ALL OF IT IS IN CAPITALS.",
                 "THE RIVER RUNS QUIETLY PAST THE OLD MILL, AND CHILDREN PLAY ON ITS BANKS.",
                 "EL RÍO PASA TRANQUILAMENTE JUNTO AL VIEJO MOLINO.", "A", "OK",
                 "THE FLOOR IS 3ʳᵈ IN LINE.", "THE CAFÉ OPENS AT NINE IN THE MORNING.",
                 "HELLO WORLD THIS IS A TEST OF THE WHOLE SYSTEM ǅ", "ꞋSALTILLO SAYS HELLO TO EVERYONE."]:
        E(K, {}, text)
    K = "change_case:english_lowercase"
    for text in ["hello world, this is a test of the whole system.", "Hello world, this is a test.",
                 "123", "123 abc", "straße und fluss sind schön und breit.",
                 "ıstanbul is a very big city in turkey.", "i love café au lait in the morning.",
                 "καλημέρα σε όλους τους φίλους.", "My Title\nthe rest of the answer is lowercase.",
                 "the answer is lowercase.\nThanks", "hello 😀 world, how are you today?",
                 "p.s. lowercase postscript works fine.", "i think i am fine with this answer.",
                 "I think this is fine with this answer.", "the river runs quietly past the old mill, and children play.",
                 "el río pasa tranquilamente junto al viejo molino.", "a", "ok",
                 "the first ǆ digraph is lower.", "the ǅ digraph is titlecase.",
                 "the floor is 3ʳᵈ in line.", "numbers 1 2 3 and ⅻ small roman.",
                 "**bold** and *italic* in lowercase text.", "the end.\n\n<<title>>"]:
        E(K, {}, text)

    # ---- punctuation:no_comma -------------------------------------------------------------------
    K = "punctuation:no_comma"
    for text in ["No commas here.", "One, comma.", "Fullwidth，comma.", "Arabic، comma.",
                 "Ideographic、comma.", "1,000 dollars.", "Quote ‚low‘ comma.", "Single ‚",
                 "Semicolon; colon: dash — fine.", "comma at end,", ",", "Escaped \\, comma.",
                 "Small comma ﹐", "Reversed comma ⹁", "\ufe50"]:
        E(K, {}, text)

    # ---- startend:quotation ---------------------------------------------------------------------
    K = "startend:quotation"
    for text in ['"Wrapped."', '"', '""', '" "', '  "Wrapped with spaces."  ', '“Curly.”',
                 "'Single.'", '"Only start.', 'Only end."', '"Two"\n"lines"', '"Inner "quotes" ok."',
                 '\u00a0"nbsp around"\u00a0', '\u200b"zero width"', '""Double""', '«Guillemets»',
                 '"Multi\nline\nanswer."', '"Ends with newline"\n\n', '"😀"', '＂Fullwidth＂']:
        E(K, {}, text)

    # ---- multi-instruction edges ----------------------------------------------------------------
    E(["combination:two_responses", "length_constraints:number_words"],
      [{}, {"num_words": 6, "relation": "at least"}], "One two three.\n******\nFour five six.")
    E(["detectable_format:title", "change_case:english_capital"], [{}, {}],
      "<<Title>>\nTHIS ANSWER IS OTHERWISE IN CAPITAL LETTERS ALL THE WAY DOWN.")
    E(["detectable_format:title", "change_case:english_lowercase"], [{}, {}],
      "<<Title>>\nthis answer is otherwise in lowercase letters all the way down.")
    E(["startend:quotation", "detectable_content:postscript"], [{}, {"postscript_marker": "P.S."}],
      '"Body.\nP.S. inside the quotes."')
    E(["startend:end_checker", "detectable_content:postscript"],
      [{"end_phrase": "Any other questions?"}, {"postscript_marker": "P.S."}],
      "Body. Any other questions?\nP.S. later.")
    E(["detectable_format:number_bullet_lists", "detectable_format:number_highlighted_sections"],
      [{"num_bullets": 2}, {"num_highlights": 2}], "* *first* item\n* **second** item")
    E(["length_constraints:number_paragraphs", "detectable_format:number_highlighted_sections"],
      [{"num_paragraphs": 2}, {"num_highlights": 1}], "One *a*.\n***\nTwo.")
    E(["detectable_format:json_format", "keywords:existence"], [{}, {"keywords": ["potato"]}],
      '```json\n{"food": "potato"}\n```')
    E(["detectable_format:json_format", "keywords:forbidden_words"],
      [{}, {"forbidden_words": ["potato"]}], '{"food": "potatoes"}')
    E(["combination:repeat_prompt", "startend:end_checker"],
      [{"prompt_to_repeat": "Say hi."}, {"end_phrase": "Bye."}], "Say hi. Hi. Bye.", request="Say hi.")
    # IFEval-style kwargs: every key listed, null where unused.
    keys = all_kwarg_keys()

    def padded(kw):
        return {k: kw.get(k) for k in keys}
    E(["punctuation:no_comma", "length_constraints:number_sentences"],
      [padded({}), padded({"num_sentences": 2, "relation": "at least"})], "Dr. Smith arrived")
    E(["detectable_format:title"], [padded({})], "<<T>>")
    E(["keywords:letter_frequency"], [padded({"letter": "q", "let_frequency": 2, "let_relation": "less than"})],
      "A quiet quay.")
    E(["startend:end_checker"], [padded({"end_phrase": "Bye."})], "Good. Bye.")
    return b.cases


# ----------------------------------------------------------------------------------------------
# Random cases.
# ----------------------------------------------------------------------------------------------

def draw_kwargs(rng, iid, request):
    """Kwargs from the ranges and options build_description would draw from."""
    if iid == "keywords:existence":
        return {"keywords": rng.sample(WORDS, k=2)}
    if iid == "keywords:frequency":
        return {"keyword": rng.choice(WORDS), "frequency": rng.randint(1, 3), "relation": rng.choice(REL)}
    if iid == "keywords:forbidden_words":
        return {"forbidden_words": rng.sample(WORDS, k=2)}
    if iid == "keywords:letter_frequency":
        return {"letter": rng.choice(string.ascii_letters).lower(), "let_frequency": rng.randint(1, 10),
                "let_relation": rng.choice(REL)}
    if iid == "language:response_language":
        return {"language": rng.choice(LANGS)}
    if iid == "length_constraints:number_sentences":
        return {"num_sentences": rng.randint(1, 20), "relation": rng.choice(REL)}
    if iid == "length_constraints:number_paragraphs":
        return {"num_paragraphs": rng.randint(1, 5)}
    if iid == "length_constraints:number_words":
        return {"num_words": rng.randint(100, 500), "relation": rng.choice(REL)}
    if iid == "length_constraints:nth_paragraph_first_word":
        n = rng.randint(1, 5)
        return {"num_paragraphs": n, "nth_paragraph": rng.randint(1, n), "first_word": rng.choice(WORDS)}
    if iid == "detectable_content:number_placeholders":
        return {"num_placeholders": rng.randint(1, 4)}
    if iid == "detectable_content:postscript":
        return {"postscript_marker": rng.choice(("P.S.", "P.P.S"))}
    if iid == "detectable_format:number_bullet_lists":
        return {"num_bullets": rng.randint(1, 5)}
    if iid == "detectable_format:number_highlighted_sections":
        return {"num_highlights": rng.randint(1, 4)}
    if iid == "detectable_format:multiple_sections":
        return {"section_spliter": rng.choice(("Section", "SECTION")), "num_sections": rng.randint(1, 5)}
    if iid == "combination:repeat_prompt":
        return {"prompt_to_repeat": request}
    if iid == "startend:end_checker":
        return {"end_phrase": rng.choice(("Any other questions?", "Is there anything else I can help with?"))}
    if iid == "change_case:capital_word_frequency":
        return {"capital_frequency": rng.randint(1, 20), "capital_relation": rng.choice(REL)}
    return {}


def pick_ids(rng, primary):
    ids = [primary]
    for _ in range(rng.choice([0, 1, 1, 2, 2])):
        cands = [i for i in ALL_IDS if compatible(i, ids)]
        if not cands:
            break
        ids.append(rng.choice(cands))
    rng.shuffle(ids)
    return ids


def count_caps(text):
    return sum(1 for w in instructions_util.nltk.word_tokenize(text) if w.isupper())


class Body:
    """All random choices of one response, drawn up front; assemble() is then pure."""

    def __init__(self, rng, ids, kw, aim, request, lang):
        self.rng, self.ids, self.kw, self.aim, self.lang = rng, ids, kw, aim, lang
        has = lambda i: i in ids  # noqa: E731
        bank = EN_SENTS if lang == "en" else LANG_TEXT[lang]
        # paragraphs
        if has("length_constraints:number_paragraphs"):
            t = kw["length_constraints:number_paragraphs"]["num_paragraphs"]
            n_par = t if aim["length_constraints:number_paragraphs"] else rng.choice([t - 1, t + 1, t + 2])
            if n_par < 1:
                n_par = t + 1
            self.sep = rng.choice(["\n\n***\n\n", "\n***\n", " *** ", "***", "\n\n***\n"])
            self.par_star = True
        elif has("length_constraints:nth_paragraph_first_word"):
            t = kw["length_constraints:nth_paragraph_first_word"]["num_paragraphs"]
            n_par = t if aim["length_constraints:nth_paragraph_first_word"] or rng.random() < 0.4 \
                else rng.choice([t - 1, t + 1]) or t + 1
            self.sep = rng.choice(["\n\n", "\n\n", "\n\n\n", "\n\n \n\n"]) \
                if not aim["length_constraints:nth_paragraph_first_word"] else "\n\n"
            self.par_star = False
        else:
            n_par = rng.choice([1, 1, 2, 2, 3, 4])
            self.sep = rng.choice(["\n\n", "\n\n", "\n"])
            self.par_star = False
        per = [rng.randint(1, 2) for _ in range(n_par)]
        if has("length_constraints:number_sentences") or has("length_constraints:number_words"):
            per = [1] * n_par
        simple = EN_SIMPLE if lang == "en" else bank
        self.paras = []
        for k in per:
            sents = []
            for _ in range(k):
                pool = bank if (lang != "en" or rng.random() < 0.25) else simple
                sents.append(rng.choice(pool))
            self.paras.append(sents)
        # nth paragraph first word
        if has("length_constraints:nth_paragraph_first_word"):
            k = kw["length_constraints:nth_paragraph_first_word"]
            nth, word = k["nth_paragraph"], k["first_word"]
            if nth <= len(self.paras):
                if aim["length_constraints:nth_paragraph_first_word"]:
                    form = rng.choice([word, word.capitalize(), word.upper(), f'"{word.capitalize()}', f"{word},"])
                else:
                    form = rng.choice([rng.choice(WORDS).capitalize(), f"*{word}*", f"“{word}", word + "s", "The"])
                self.paras[nth - 1] = [f"{form} {self.paras[nth - 1][0][0].lower()}{self.paras[nth - 1][0][1:]}"] \
                    + self.paras[nth - 1][1:]
        # insertions: (paragraph index, sentence)
        ins = []

        def put(sentence):
            ins.append((rng.randrange(len(self.paras)), rng.randint(1, 3), sentence))  # never first
        if has("keywords:existence"):
            words = kw["keywords:existence"]["keywords"]
            keep = words if aim["keywords:existence"] else words[:-1] if rng.random() < 0.7 else []
            for w in keep:
                put(rng.choice([f"The {w} mattered most.", f"We talked about {w} for a while.",
                                f"{w.capitalize()} was on everyone's mind."]))
        if has("keywords:frequency"):
            k = kw["keywords:frequency"]
            f, rel, w = k["frequency"], k["relation"], k["keyword"]
            if rel == "at least":
                c = f + rng.choice([0, 0, 1]) if aim["keywords:frequency"] else f - 1
            else:
                c = f - 1 - rng.choice([0, 0, 1]) if aim["keywords:frequency"] else f + rng.choice([0, 0, 1])
            for _ in range(max(c, 0)):
                put(rng.choice([f"The {w} was there.", f"Think of the {w}.", f"{w.upper()} again."]))
        if has("keywords:forbidden_words") and not aim["keywords:forbidden_words"]:
            w = rng.choice(kw["keywords:forbidden_words"]["forbidden_words"])
            put(rng.choice([f"Mind the {w}.", f"{w.capitalize()}, they said.", f"A {w}s list.", f"The {w}-like shape."]))
        if has("detectable_content:number_placeholders"):
            n = kw["detectable_content:number_placeholders"]["num_placeholders"]
            c = n + rng.choice([0, 0, 1]) if aim["detectable_content:number_placeholders"] else n - 1
            for _ in range(max(c, 0)):
                put(f"Write to {rng.choice(PLACEHOLDERS)}.")
        if has("detectable_format:number_highlighted_sections"):
            n = kw["detectable_format:number_highlighted_sections"]["num_highlights"]
            c = n + rng.choice([0, 0, 1]) if aim["detectable_format:number_highlighted_sections"] else n - 1
            for _ in range(max(c, 0)):
                h = rng.choice(HIGHLIGHTS)
                put(rng.choice([f"Remember *{h}*.", f"Remember **{h}**.", f"*{h.capitalize()}* matters."]))
        elif rng.random() < 0.1:
            put(f"Remember *{rng.choice(HIGHLIGHTS)}*.")
        self.ins = ins
        # bullets
        self.bullets = None
        if has("detectable_format:number_bullet_lists"):
            n = kw["detectable_format:number_bullet_lists"]["num_bullets"]
            c = n if aim["detectable_format:number_bullet_lists"] else (n + 1 if n == 1 or rng.random() < 0.5 else n - 1)
        else:
            c = rng.choice([0] * 8 + [2, 3])
        if c:
            style = rng.choice(["* ", "- ", "mixed", "  * "])
            items = [BULLET_ITEMS[(rng.randrange(10) + j) % 10] for j in range(c)]
            self.bullets = (rng.randrange(len(self.paras)),
                            "\n".join((rng.choice(["* ", "- "]) if style == "mixed" else style) + it for it in items))
        # sections
        self.sections = None
        if has("detectable_format:multiple_sections"):
            k = kw["detectable_format:multiple_sections"]
            n, spl = k["num_sections"], k["section_spliter"]
            if aim["detectable_format:multiple_sections"]:
                c, word = n + rng.choice([0, 0, 1]), spl
            else:
                c, word = (n - 1, spl) if rng.random() < 0.6 else (n, spl.lower() if spl == "SECTION" else "Part")
            self.sections = (max(c, 0), word, rng.choice(["{w} {i}\n", "{w} {i}: ", "**{w} {i}**\n"]))
        # title, postscript, end phrase
        self.title = None
        if has("detectable_format:title"):
            self.title = (f"<<{rng.choice(TITLES)}>>" if aim["detectable_format:title"]
                          else rng.choice([None, "<<>>", f"<{rng.choice(TITLES)}>", "<< >>"]))
        elif rng.random() < 0.1:
            self.title = f"<<{rng.choice(TITLES)}>>"
        self.ps = None
        if has("detectable_content:postscript"):
            m = kw["detectable_content:postscript"]["postscript_marker"]
            if aim["detectable_content:postscript"]:
                mk = rng.choice(["P.S.", "p.s.", "P. S."] if m == "P.S." else ["P.P.S.", "P.P.S", "P. P. S."])
            else:
                mk = rng.choice([None, "PS:", "Note:"] + (["P.S"] if m == "P.S." else ["P.S."]))
            if mk:
                self.ps = f"{mk} {rng.choice(SHORT_SENTS)}"
        elif rng.random() < 0.1:
            self.ps = f"P.S. {rng.choice(SHORT_SENTS)}"
        self.end = None
        if has("startend:end_checker"):
            ph = kw["startend:end_checker"]["end_phrase"]
            if aim["startend:end_checker"]:
                self.end = rng.choice([ph, ph, ph.lower(), ph + '"'])
            else:
                self.end = rng.choice([None, ph + " " + rng.choice(SHORT_SENTS), ph.rstrip("?") + ".", ph + "."])
        # case and commas
        self.case = None
        if has("change_case:english_capital"):
            self.case = "upper" if aim["change_case:english_capital"] else rng.choice(["none", "upper_but_first", "upper_but_word"])
        elif has("change_case:english_lowercase"):
            self.case = "lower" if aim["change_case:english_lowercase"] else rng.choice(["none", "lower_but_last", "lower_but_word"])
        self.nocomma = None
        if has("punctuation:no_comma"):
            self.nocomma = "strip" if aim["punctuation:no_comma"] else "ensure"
        # wrappers
        self.repeat = None
        if has("combination:repeat_prompt"):
            if aim["combination:repeat_prompt"]:
                self.repeat = rng.choice([request, request, request.upper(), "  " + request])
                self.repeat_sep = rng.choice(["\n", " "] if has("length_constraints:nth_paragraph_first_word")
                                             else ["\n", "\n\n", " "])
            else:
                self.repeat = rng.choice(["Sure! " + request, request[:-1] + "!", request.replace(" ", "  ", 1), None])
                self.repeat_sep = "\n"
        # filler (tuned later)
        self.fill_words = 0
        self.fill_sents = 0
        self.fill_caps = 0

    def text(self):
        paras = [list(p) for p in self.paras]
        for pi, pos, s in self.ins:
            p = paras[pi]
            p.insert(min(pos, len(p)), s)
        blocks = [" ".join(p) for p in paras]
        if self.bullets:
            i, bl = self.bullets
            blocks[i] = blocks[i] + "\n" + bl
        if self.sections:
            c, word, fmt = self.sections
            while len(blocks) < c:
                blocks.append(SHORT_SENTS[len(blocks) % len(SHORT_SENTS)])
            for i in range(c):
                blocks[i] = fmt.format(w=word, i=i + 1) + blocks[i]
        fill = []
        if self.fill_sents:
            fill.append(" ".join(SHORT_SENTS[i % len(SHORT_SENTS)] for i in range(self.fill_sents)))
        if self.fill_words:
            ws = [FILLER_WORDS[i % len(FILLER_WORDS)] for i in range(self.fill_words)]
            fill.append(" ".join(ws).capitalize() + ".")
        if self.fill_caps:
            fill.append(" ".join(CAPS_WORDS[i % len(CAPS_WORDS)] for i in range(self.fill_caps)) + ".")
        if fill:
            blocks[-1] = blocks[-1] + " " + " ".join(fill)
        out = self.sep.join(blocks)
        brk = "\n" if "length_constraints:nth_paragraph_first_word" in self.ids else "\n\n"
        if self.title:
            out = self.title + brk + out
        if self.ps:
            out = out + brk + self.ps
        if self.end:
            out = out + " " + self.end
        if self.nocomma == "strip":
            out = out.replace(",", "")
        elif self.nocomma == "ensure" and "," not in out:
            out = "Well, " + out
        if self.case == "upper":
            out = out.upper()
        elif self.case == "upper_but_first":
            first, _, rest = out.partition("\n")
            out = first + "\n" + rest.upper() if rest else out
        elif self.case == "upper_but_word":
            out = out.upper().replace("THE ", "the ", 1)
        elif self.case == "lower":
            out = out.lower()
        elif self.case == "lower_but_last":
            head, _, last = out.rpartition("\n")
            out = head.lower() + "\n" + last if head else out
        elif self.case == "lower_but_word":
            out = out.lower() + " NASA"
        if self.repeat:
            out = self.repeat + self.repeat_sep + out
        return out


def random_response(rng, ids, kwargs, request):
    kw = dict(zip(ids, kwargs))
    aim = {i: rng.random() < 0.5 for i in ids}
    lang = "en"
    if "language:response_language" in ids:
        want = kw["language:response_language"]["language"]
        lang = want if aim["language:response_language"] else rng.choice(
            [c for c in LANGS if c != want] + ["en", "nl", "zh"])
    if "detectable_format:constrained_response" in ids:
        opt = rng.choice(instructions._CONSTRAINED_RESPONSE_OPTIONS)
        lead = " ".join(rng.sample(EN_SENTS, rng.randint(0, 2)))
        if aim["detectable_format:constrained_response"]:
            return rng.choice([opt, f"{lead} {opt}".strip(), f"{opt} {lead}".strip(), f"{lead}\n\n{opt}".strip()])
        bad = rng.choice([opt.lower(), opt.rstrip("."), opt.replace("is ", "is: "), opt.upper(),
                          opt.replace("My", "Our"), "My answer is " + opt.split()[-1].capitalize()])
        return f"{lead} {bad}".strip()

    def one_body(seed_rng):
        body = Body(seed_rng, ids, kw, aim, request, lang)
        tune(body)
        return body.text()

    def tune(body):
        if "length_constraints:number_sentences" in ids and rng.random() < 0.8:
            k = kw["length_constraints:number_sentences"]
            t, rel = k["num_sentences"], k["relation"]
            good = aim["length_constraints:number_sentences"]
            target = (t + rng.choice([0, 0, 1]) if good else t - 1) if rel == "at least" else \
                (t - 1 if good else t + rng.choice([0, 0, 1]))
            for _ in range(4):
                n = instructions_util.count_sentences(body.text())
                if n == target or body.fill_sents + target - n < 0:
                    break
                body.fill_sents += target - n
        if "length_constraints:number_words" in ids and rng.random() < 0.8:
            k = kw["length_constraints:number_words"]
            t, rel = k["num_words"], k["relation"]
            good = aim["length_constraints:number_words"]
            target = (t + rng.choice([0, 0, 3, 40]) if good else t - rng.choice([1, 1, 12])) if rel == "at least" else \
                (t - rng.choice([1, 1, 12]) if good else t + rng.choice([0, 0, 3]))
            for _ in range(6):
                n = instructions_util.count_words(body.text())
                if n == target or body.fill_words + target - n < 0:
                    break
                body.fill_words += target - n
        elif rng.random() < 0.15:
            body.fill_words = rng.randint(20, 120)
        if "change_case:capital_word_frequency" in ids and rng.random() < 0.85:
            k = kw["change_case:capital_word_frequency"]
            t, rel = k["capital_frequency"], k["capital_relation"]
            good = aim["change_case:capital_word_frequency"]
            target = (t + rng.choice([0, 0, 2]) if good else t - 1) if rel == "at least" else \
                (t - 1 if good else t + rng.choice([0, 0, 1]))
            for _ in range(4):
                n = count_caps(body.text())
                if n == target or body.fill_caps + target - n < 0:
                    break
                body.fill_caps += target - n

    if "combination:two_responses" in ids:
        first = one_body(rng)
        if aim["combination:two_responses"]:
            second = one_body(rng)
            if second.strip() == first.strip():
                second = second + " " + rng.choice(SHORT_SENTS)
            sep = rng.choice(["\n\n******\n\n", "\n******\n", " ****** ", "******"])
            out = first + sep + second
            if rng.random() < 0.15:
                out = "******\n" + out
        else:
            how = rng.choice(["same", "three", "five", "empty_mid", "none"])
            if how == "same":
                out = first + "\n******\n" + first
            elif how == "three":
                out = first + "\n******\n" + one_body(rng) + "\n******\n" + rng.choice(SHORT_SENTS)
            elif how == "five":
                out = first + "\n*****\n" + one_body(rng)
            elif how == "empty_mid":
                out = first + "\n******\n\n******\n" + one_body(rng)
            else:
                out = first
    else:
        out = one_body(rng)

    if "detectable_format:json_format" in ids:
        paras = [p for p in re.split(r"\n\n+", out) if p.strip()]
        obj = {"title": rng.choice(TITLES), "paragraphs": paras}
        js = json.dumps(obj, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 2]))
        if aim["detectable_format:json_format"]:
            out = rng.choice([js, f"```json\n{js}\n```", f"```\n{js}\n```", f"```JSON\n{js}\n```"])
        else:
            bad = rng.choice([js[:-1], js.replace('"title"', "'title'"), js[:-1] + ",}" if js.endswith("}") else js + ",",
                              f"Here is the JSON:\n{js}", f"```json\n{js}\n```\nLet me know."])
            out = bad
    if "startend:quotation" in ids:
        q = ('"', '"') if aim["startend:quotation"] else rng.choice([None, ("“", "”"), ('"', ""), ("'", "'")])
        if q:
            out = q[0] + out + q[1]
    return out


def random_cases(n_cases):
    rng = random.Random(RANDOM_SEED)
    cases = []
    for n in range(n_cases):
        primary = ALL_IDS[n % len(ALL_IDS)]
        ids = pick_ids(rng, primary)
        request = rng.choice(REQUESTS)
        kwargs = [draw_kwargs(rng, i, request) for i in ids]
        response = random_response(rng, ids, kwargs, request)
        if rng.random() < 0.1:  # IFEval-record style: every kwarg key, null when unused
            keys = all_kwarg_keys()
            kwargs_out = [{k: kw.get(k) for k in keys} for kw in kwargs]
        else:
            kwargs_out = kwargs
        if rng.random() < 0.03:
            response = response.replace("\n", "\r\n")
        cases.append({
            "id": f"random-{n + 1:04d}",
            "source": "random",
            "prompt": make_prompt(request, ids, kwargs),
            "instruction_id_list": ids,
            "kwargs": kwargs_out,
            "response": response,
        })
    return cases


# ----------------------------------------------------------------------------------------------
# Model answers.
# ----------------------------------------------------------------------------------------------

def model_cases(path):
    """The answers file's records in order; model-N is its N-th record (blank lines not counted)."""
    cases, skipped = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            n = len(cases) + len(skipped) + 1
            try:
                rec = json.loads(line)
                case = {
                    "id": f"model-{n:05d}",
                    "source": "model",
                    "prompt": rec["prompt"],
                    "instruction_id_list": list(rec["instruction_id_list"]),
                    "kwargs": list(rec["kwargs"]),  # as given: the reference reads them as they are
                    "response": rec["response"],
                    "_line": lineno,
                }
            except (ValueError, KeyError, TypeError) as e:
                skipped.append((lineno, f"model-{n:05d}", f"unreadable record: {type(e).__name__}: {e}"))
                continue
            cases.append(case)
    return cases, skipped


# ----------------------------------------------------------------------------------------------
# Evaluation and output.
# ----------------------------------------------------------------------------------------------

def evaluate(case):
    ids, kwargs = case["instruction_id_list"], case["kwargs"]
    unknown = [i for i in ids if i not in INSTRUCTION_DICT]
    if unknown:
        raise ValueError(f"unknown instruction ids {unknown}")
    RANDOM_TRAP.calls.clear()
    results, _ = evaluate_instructions(case["response"], ids, kwargs, case["prompt"], INSTRUCTION_DICT)
    if RANDOM_TRAP.calls:
        raise ValueError(f"a checker drew at random ({RANDOM_TRAP.calls}): its kwargs are incomplete")
    empty = not strip_thinking(case["response"]).strip()
    if empty:
        assert results == [], results
        return [False] * len(ids), [False] * len(ids), True
    assert [r.instruction_id for r in results] == ids, (results, ids)
    return [r.strict_pass for r in results], [r.loose_pass for r in results], False


def dump(obj):
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace("\u0085", "\\u0085")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--answers", help="model answers, JSONL of {prompt, instruction_id_list, kwargs, "
                    "response} (default: %s if it exists)" % os.path.relpath(DEFAULT_ANSWERS, ROOT))
    ap.add_argument("--no-answers", action="store_true", help="write no model cases")
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    t0 = time.time()
    logging.disable(logging.CRITICAL)  # langdetect failures are logged by the checkers; verdicts unchanged
    install_patches()
    self_check()

    answers = None if args.no_answers else (args.answers or (DEFAULT_ANSWERS if os.path.exists(DEFAULT_ANSWERS) else None))
    edge = edge_cases()
    rand = random_cases(N_RANDOM)
    model, skipped = model_cases(answers) if answers else ([], [])

    rows = []
    for case in edge + rand + model:
        try:
            strict, loose, empty = evaluate(case)
        except Exception as e:  # noqa: BLE001
            if case["source"] != "model":
                raise RuntimeError(f"case {case['id']} failed: {type(e).__name__}: {e}") from e
            skipped.append((case["_line"], case["id"], f"{type(e).__name__}: {e}"))
            continue
        row = {k: case[k] for k in ("id", "source", "prompt", "instruction_id_list", "kwargs", "response")}
        row["strict"], row["loose"] = strict, loose
        if empty:
            row["empty"] = True
        rows.append(row)
    ids = collections.Counter(r["id"] for r in rows)
    assert all(v == 1 for v in ids.values()), [k for k, v in ids.items() if v > 1]

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    data = "".join(dump(r) + "\n" for r in rows).encode("utf-8")
    with open(args.out, "wb") as f:
        f.write(data)

    # ---- summary -----------------------------------------------------------------------------
    per = {i: collections.Counter() for i in ALL_IDS}
    for r in rows:
        for iid, s, lo in zip(r["instruction_id_list"], r["strict"], r["loose"]):
            c = per[iid]
            c["n"] += 1
            c[r["source"]] += 1
            c["st"] += s
            c["lt"] += lo
            if r["source"] == "random":
                c["rst"] += s
    print(f"{'instruction id':45s} {'cases':>5s} {'edge':>5s} {'rand':>5s} {'model':>5s}  "
          f"{'strict T/F':>11s}  {'loose T/F':>11s}  {'random strict T/F':>17s}")
    for iid in ALL_IDS:
        c = per[iid]
        print(f"{iid:45s} {c['n']:5d} {c['edge']:5d} {c['random']:5d} {c['model']:5d}  "
              f"{c['st']:5d}/{c['n'] - c['st']:<5d}  {c['lt']:5d}/{c['n'] - c['lt']:<5d}  "
              f"{c['rst']:11d}/{c['random'] - c['rst']:<5d}")
    tot = sum(c["n"] for c in per.values())
    st = sum(c["st"] for c in per.values())
    lt = sum(c["lt"] for c in per.values())
    src = collections.Counter(r["source"] for r in rows)
    print(f"{'all (response, instruction) pairs':45s} {tot:5d} {'':17s}  {st:5d}/{tot - st:<5d}  {lt:5d}/{tot - lt:<5d}")
    print(f"cases: {len(rows)} (edge {src['edge']}, random {src['random']}, model {src['model']}); "
          f"empty responses: {sum(1 for r in rows if r.get('empty'))}")
    if answers:
        print(f"model answers: {os.path.relpath(answers, ROOT) if answers.startswith(ROOT) else answers}; "
              f"skipped lines: {len(skipped)}")
        for line, cid, why in sorted(skipped)[:50]:
            print(f"  skipped line {line} ({cid}): {why}", file=sys.stderr)
    print(f"reference: if-verifiable 0.1.2, nltk {nltk.__version__} (untrained punkt), langdetect seed 0; "
          f"Python {sys.version.split()[0]} (Unicode {unicodedata.unidata_version})")
    print(f"wrote {os.path.relpath(args.out, ROOT) if os.path.abspath(args.out).startswith(ROOT) else args.out}: "
          f"{len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}, {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
