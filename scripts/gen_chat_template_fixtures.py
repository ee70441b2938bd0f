#!/usr/bin/env python3
"""Generate Tests/AlignDataTests/Fixtures/chat_templates.json: the goldens for the
Jinja chat-template engine (Sources/AlignData/Jinja).

Everything comes from transformers' own `apply_chat_template` (jinja2's
ImmutableSandboxedEnvironment as transformers configures it); no model is
downloaded. Tokenizers are the committed fixtures tok_smollm2.json, tok_llama3.json
and tok_gpt2.json loaded with PreTrainedTokenizerFast(tokenizer_file=...), some with
special tokens added (listed in the output so the Swift tests add the same ones).

Written:
  templates      name -> Jinja source, tokenizer, whether it has {% generation %}
  tokenizers     name -> base fixture, added special tokens, bos/eos
  cases          per template x conversation x add_generation_prompt: the rendered
                 text and ids, transformers' assistant mask for templates with
                 {% generation %} blocks, or the error message a template raises
  engine         small templates with a context and jinja2's output (or error)
Messages, tools and contexts are stored as JSON strings so key order survives.

Usage:
  bash scripts/run-python.sh reference scripts/gen_chat_template_fixtures.py
"""
import json
import tempfile
from pathlib import Path

import jinja2
import transformers
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "Tests" / "AlignDataTests" / "Fixtures"

# The templates ChatTemplate.jinja writes (Sources/AlignData/ChatTemplate.swift).
NATIVE = {
    "chatml": "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "llama3": "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "alpaca": "{% for message in messages %}{% if not loop.first %}{{ '\\n\\n' }}{% endif %}{% if message['role'] == 'system' %}{{ message['content'] }}{% elif message['role'] == 'user' %}{{ '### Instruction:\\n' + message['content'] }}{% elif message['role'] == 'assistant' %}{{ '### Response:\\n' + message['content'] + eos_token }}{% else %}{{ raise_exception('alpaca: unsupported role ' + message['role']) }}{% endif %}{% endfor %}{% if add_generation_prompt %}{% if messages %}{{ '\\n\\n' }}{% endif %}{{ '### Response:\\n' }}{% endif %}",
    "plain": "{% for message in messages %}{% if not loop.first %}{{ '\\n' }}{% endif %}{{ message['content'] }}{% if message['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}{% if add_generation_prompt and messages %}{{ '\\n' }}{% endif %}",
}

# SmolLM2-135M-Instruct's shipped chat_template (as recorded in tokenizer_expected.json).
SMOLLM2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

LLAMA2 = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"

MISTRAL = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"

ZEPHYR = """{% for message in messages %}
{% if message['role'] == 'user' %}
{{ '<|user|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'system' %}
{{ '<|system|>\n' + message['content'] + eos_token }}
{% elif message['role'] == 'assistant' %}
{{ '<|assistant|>\n'  + message['content'] + eos_token }}
{% endif %}
{% if loop.last and add_generation_prompt %}
{{ '<|assistant|>' }}
{% endif %}
{% endfor %}"""

GEMMA = "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}"

PHI3 = "{% for message in messages %}{% if message['role'] == 'system' %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}"

QWEN25 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(last_user=-1, tool_turns=0) %}
{%- for message in messages[::-1] %}
    {%- if ns.last_user == -1 and message.role == "user" %}
        {%- set ns.last_user = messages|length - 1 - loop.index0 %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- set ns.tool_turns = ns.tool_turns + 1 %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

LLAMA3X = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

# chatml with the assistant turns in {% generation %} blocks, written over several
# lines to exercise whitespace control around the new tag.
CHATML_GENERATION = """{%- for message in messages %}
    {{- '<|im_start|>' + message['role'] + '\\n' }}
    {%- if message['role'] == 'assistant' %}
        {% generation %}
        {{- message['content'] + '<|im_end|>' -}}
        {% endgeneration %}
        {{- '\\n' }}
    {%- else %}
        {{- message['content'] + '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}"""

# A template with a macro, content given as a string or as a list of parts, a
# filtered loop with loop.last, selectattr/map/join, and a default system prompt.
MACRO_PARTS = """{%- macro render_content(content) -%}
{%- if content is string -%}
{{ content }}
{%- else -%}
{{ content | selectattr('type', 'equalto', 'text') | map(attribute='text') | join('\\n') }}
{%- endif -%}
{%- endmacro -%}
{%- set system = messages | selectattr('role', 'equalto', 'system') | list -%}
<|im_start|>system
{% if system %}{{ render_content(system[0].content) | trim }}{% else %}You are a careful assistant.{% endif %}<|im_end|>
{% for m in messages if m.role != 'system' %}
<|im_start|>{{ m.role }}
{{ render_content(m.content) }}<|im_end|>
{% if loop.last and add_generation_prompt %}
<|im_start|>assistant
{% endif %}
{% endfor %}"""

TEMPLATES = {
    "chatml": (NATIVE["chatml"], "smollm2"),
    "llama3": (NATIVE["llama3"], "llama3"),
    "alpaca": (NATIVE["alpaca"], "gpt2"),
    "plain": (NATIVE["plain"], "gpt2"),
    "smollm2": (SMOLLM2, "smollm2"),
    "llama2": (LLAMA2, "gpt2_llama2"),
    "mistral": (MISTRAL, "gpt2_llama2"),
    "zephyr": (ZEPHYR, "gpt2_llama2"),
    "gemma": (GEMMA, "gpt2_gemma"),
    "phi3": (PHI3, "gpt2_phi3"),
    "qwen25": (QWEN25, "smollm2"),
    "llama3x": (LLAMA3X, "llama3"),
    "chatml_generation": (CHATML_GENERATION, "smollm2"),
    "macro_parts": (MACRO_PARTS, "smollm2"),
}

TOKENIZERS = {
    "smollm2": {"base": "smollm2", "special": [], "bos": "<|im_start|>", "eos": "<|im_end|>"},
    "llama3": {"base": "llama3", "special": [], "bos": "<|begin_of_text|>", "eos": "<|eot_id|>"},
    "gpt2": {"base": "gpt2", "special": [], "bos": "<|endoftext|>", "eos": "<|endoftext|>"},
    "gpt2_llama2": {"base": "gpt2", "special": ["<s>", "</s>"], "bos": "<s>", "eos": "</s>"},
    "gpt2_gemma": {"base": "gpt2", "special": ["<bos>", "<eos>", "<start_of_turn>", "<end_of_turn>"], "bos": "<bos>", "eos": "<eos>"},
    "gpt2_phi3": {"base": "gpt2", "special": ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"], "bos": "<|endoftext|>", "eos": "<|endoftext|>"},
}

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather — in °C",
    "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "City name"},
                                                    "unit": {"type": "string", "enum": ["c", "f"]}},
                   "required": ["city"]}}}]

CONVERSATIONS = [
    # 0: one exchange
    [{"role": "user", "content": "Hello there!"},
     {"role": "assistant", "content": "Hi! How can I help you today?"}],
    # 1: system prompt, two exchanges
    [{"role": "system", "content": "You are a terse assistant."},
     {"role": "user", "content": "What is 2+2?"},
     {"role": "assistant", "content": "4."},
     {"role": "user", "content": "And 3\u00d73?"},
     {"role": "assistant", "content": "9 \u2014 easy."}],
    # 2: unicode
    [{"role": "user", "content": "\u4f60\u597d\uff0c\u8bf7\u4ecb\u7ecd\u4e00\u4e0b\u4f60\u81ea\u5df1\u3002"},
     {"role": "assistant", "content": "\u6211\u662f\u4e00\u4e2a\u52a9\u624b\u3002\U0001F600 caf\u00e9 na\u00efve"}],
    # 3: whitespace-heavy content
    [{"role": "user", "content": "  Write fib in Python  \n"},
     {"role": "assistant", "content": "\n  def fib(n):\n\t    return n if n < 2 else fib(n-1) + fib(n-2)\n\n"},
     {"role": "user", "content": "Thanks!"},
     {"role": "assistant", "content": "  You're welcome.  "}],
    # 4: tool call (templates with tools only)
    [{"role": "user", "content": "What's the weather in Paris?"},
     {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
     {"role": "tool", "content": "{\"temperature\": 21.5, \"sky\": \"clear\"}"},
     {"role": "assistant", "content": "It is 21.5 \u00b0C and clear in Paris."}],
    # 5: content as a list of parts (macro_parts only)
    [{"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
     {"role": "user", "content": [{"type": "text", "text": "Describe"}, {"type": "image"}, {"type": "text", "text": "this picture."}]},
     {"role": "assistant", "content": "A cat on a mat."}],
    # 6: roles that do not alternate (templates that check raise_exception)
    [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}, {"role": "assistant", "content": "three"}],
]

# conversation index -> templates it is rendered with (default: 0-3 with every template)
SPECIAL_CONVERSATIONS = {
    4: ["qwen25", "llama3x"],
    5: ["macro_parts"],
    6: ["llama2", "mistral", "gemma"],
}

EXTRA = {"llama3x": {"date_string": "26 Jul 2024"}}
WITH_TOOLS = {"qwen25": [None, TOOLS], "llama3x": [None, TOOLS]}


def hf_tokenizer(spec):
    src = FIX / f"tok_{spec['base']}.json"
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "tokenizer.json"
        p.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
        tok = PreTrainedTokenizerFast(tokenizer_file=str(p), bos_token=spec["bos"], eos_token=spec["eos"])
    if spec["special"]:
        tok.add_tokens(spec["special"], special_tokens=True)
    return tok


def render_case(tok, name, source, conv_index, gen, tools):
    messages = CONVERSATIONS[conv_index]
    if gen:
        messages = messages[:-1]
    extra = EXTRA.get(name, {})
    has_generation = "{% generation %}" in source
    case = {"template": name, "conversation": conv_index, "add_generation_prompt": gen,
            "messages": json.dumps(messages, ensure_ascii=False),
            "tools": json.dumps(tools, ensure_ascii=False) if tools is not None else None,
            "extra": json.dumps(extra, ensure_ascii=False)}
    try:
        text = tok.apply_chat_template(messages, chat_template=source, tools=tools, tokenize=False,
                                       add_generation_prompt=gen, **extra)
    except Exception as e:  # the template's own raise_exception
        case["error"] = str(e)
        return case
    out = tok.apply_chat_template(messages, chat_template=source, tools=tools, tokenize=True, return_dict=True,
                                  add_generation_prompt=gen, return_assistant_tokens_mask=has_generation, **extra)
    ids = list(out["input_ids"])
    assert ids == tok(text, add_special_tokens=False)["input_ids"], (name, conv_index, gen)
    case["text"] = text
    case["ids"] = ids
    if has_generation:
        case["assistant_mask"] = list(out["assistant_masks"])
    return case


# Engine checks: (template, context) rendered by transformers' environment.
ENGINE = [
    ("ws_dash", "a  {{- 'b' -}}  c\n  {%- if true %} d {% endif -%}  \n e", {}),
    ("trim_blocks", "{% if true %}\nx\n{% endif %}\ny\n", {}),
    ("lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n  {{ 'v' }}\n\t{# c #}\nz", {}),
    ("lstrip_plus", "  {%+ if true %}x{% endif +%}\ny", {}),
    ("comment_dash", "a {#- note -#} b\n{# keep #}\nc", {}),
    ("crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("raw", "{% raw %}{{ not evaluated }}{% endraw %}!", {}),
    ("loop_vars", "{% for x in items %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{{ loop.previtem|default('-') }}|{{ loop.nextitem|default('-') }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("loop_filter_else", "{% for x in items if x > 1 %}{{ x }}/{{ loop.length }} {% else %}none{% endfor %}{% for x in [] %}x{% else %}empty{% endfor %}", {"items": [1, 2, 3]}),
    ("loop_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {"d": {"z": 1, "a": 2}}),
    ("loop_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 'o' %}{% for i in range(3) %}{{ x }}{% set x = i %}{{ x }}{% endfor %}|{{ x }}", {}),
    ("loop_cycle", "{% for i in range(4) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("namespace", "{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}", {}),
    ("if_elif", "{% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("set_block", "{% set body %}  hi {{ name }} {% endset %}[{{ body }}]{% set up | upper %}abc{% endset %}{{ up }}", {"name": "x"}),
    ("macro_call", "{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }} {{ greet(name='C') }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold{% endcall %}", {}),
    ("literals", "{{ 1 }} {{ 1.5 }} {{ -2 }} {{ 1e3 }} {{ 'a' 'b' }} {{ \"q'\" }} {{ True }} {{ false }} {{ none }} {{ [1, 'x', none, true] }} {{ {'a': 1, 'b': [2.0]} }}", {}),
    ("arith", "{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'ab' * 3 }} {{ [0] * 2 }} {{ 1.5 + 1 }} {{ 10 / 4 }} {{ 0.1 + 0.2 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ undefined_name ~ [1] }} {{ 'x' + 'y' }} {{ [1] + [2] }}", {}),
    ("compare", "{{ 1 < 2 }} {{ 2 <= 1 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ 1 != 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'cat' }}", {}),
    ("logic", "{{ true and 'x' }} {{ false or 'y' }} {{ not none }} {{ 0 or [] or 'z' }} {{ 'a' if x else 'b' }} {{ 'c' if not x }}|", {"x": 0}),
    ("precedence", "{{ 'a' + 'b' | upper }} {{ -3 | abs }} {{ not 1 == 2 }} {{ 'a' ~ 2 * 3 }} {{ 2 * 3 ~ 4 }} {{ 10 - -2 | abs }} {{ -2 ** 2 }}", {}),
    ("undefined", "[{{ missing }}][{{ missing is defined }}][{{ d.nokey }}][{{ d['nokey'] is undefined }}][{{ l[10] }}][{{ missing | default('dflt') }}][{{ '' | default('e', true) }}][{{ none | default('n') }}][{{ missing | length }}]", {"d": {"a": 1}, "l": [1]}),
    ("attr_vs_item", "{{ d.a }} {{ d['a'] }} {% for k, v in d.items() %}{{ k }}:{{ v }},{% endfor %} {{ d['items'] }} {{ d.get('a') }} {{ d.get('zz', 5) }} {{ d.keys()|list }} {{ d.values()|list }}", {"d": {"a": 1, "items": "I"}}),
    ("slices", "{{ s[1:3] }} {{ s[::-1] }} {{ s[-2:] }} {{ s[:-1] }} {{ l[::2] }} {{ l[1:] }} {{ l[-1] }} {{ l[::-1] }} {{ s[0] }} {{ l[5:9] }} {{ s[10:] }}|", {"s": "h\u00e9llo\U0001F600", "l": [1, 2, 3, 4, 5]}),
    ("str_methods", "{{ ' a b '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a  '.rstrip() }}|{{ 'a b  c'.split() }}|{{ 'a,b,,c'.split(',') }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'abc'.startswith('ab') }}|{{ 'abc'.endswith(('x', 'c')) }}|{{ 'aBc'.upper() }}|{{ 'aBc'.lower() }}|{{ 'hello wORLD'.title() }}|{{ 'hELLO'.capitalize() }}|{{ 'aaa'.replace('a', 'b', 2) }}|{{ '{} and {}'.format(1, 'x') }}|{{ 'a-b'.find('-') }}|{{ ','.join(['x', 'y']) }}|{{ 'x\\ny'.splitlines() }}", {}),
    ("filters_str", "{{ '  x  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'hello world-foo' | title }}|{{ 'hELLO' | capitalize }}|{{ 'ab' | upper }}{{ 'AB' | lower }}|{{ 'aaa' | replace('a', 'bb') }}|{{ 'a b c' | wordcount }}|{{ 'x' | center(5) }}|{{ '<a href=\"x\">&\\'</a>' | e }}|{{ 'abc' | reverse }}|{{ 42 | string }}|{{ 'abc' | list }}|{{ 'abc' | length }}", {}),
    ("filters_num", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 'y' | float }} {{ -4 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 3 | round }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(0, 'floor') }} {{ [1, 2, 3] | sum }} {{ [3, 1, 2] | max }} {{ [3, 1, 2] | min }}", {}),
    ("filters_list", "{{ l | first }} {{ l | last }} {{ l | length }} {{ l | count }} {{ l | join('-') }} {{ l | reverse | list }} {{ l | sort | list }} {{ l | sort(reverse=true) | list }} {{ ['b', 'A', 'a'] | sort | list }} {{ ['b', 'A', 'a'] | unique | list }} {{ l | batch(2) | list }} {{ l | map('string') | join }} {{ l | select('odd') | list }} {{ l | reject('odd') | list }} {{ l | select('divisibleby', 3) | list }}", {"l": [3, 1, 2, 6]}),
    ("filters_dicts", "{{ ms | map(attribute='role') | join(',') }} {{ ms | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ ms | rejectattr('role', 'equalto', 'user') | list | length }} {{ ms | selectattr('extra') | list | length }} {{ ms | selectattr('extra', 'defined') | list | length }} {{ ms | sort(attribute='content') | map(attribute='content') | join }} {% for k, v in d | dictsort %}{{ k }}{{ v }}{% endfor %} {% for k, v in d | dictsort(by='value', reverse=true) %}{{ k }}{{ v }}{% endfor %} {% for k, v in d | items %}{{ k }}{{ v }}{% endfor %} {{ ms | map(attribute='missing', default='-') | join }}", {"ms": [{"role": "user", "content": "b"}, {"role": "assistant", "content": "a", "extra": 1}], "d": {"b": 1, "a": 2}}),
    ("tojson", "{{ v | tojson }}|{{ v | tojson(indent=2) }}|{{ v | tojson(sort_keys=true) }}|{{ v | tojson(separators=(',', ':')) }}|{{ 'é\"\\\\\\n\\t\\u0001' | tojson }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson }}|{{ 1.0 | tojson }}|{{ none | tojson }}", {"v": {"z": [1, 2.5, True, None], "a": {"nested": "caf\u00e9 \U0001F600"}, "e": []}}),
    ("indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(2, blank=true) }}|{{ 'x\\ny' | indent('> ') }}", {}),
    ("tests", "{{ none is none }} {{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1 is integer }} {{ 1.0 is float }} {{ 'a' is string }} {{ {} is mapping }} {{ [] is sequence }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is equalto 'a' }} {{ 2 is eq 2 }} {{ 1 is lt 2 }} {{ 'x' is in 'xyz' }} {{ x is not defined }} {{ x is undefined }} {{ 'abc' is lower }} {{ none is sameas none }}", {}),
    ("globals", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} {{ dict(a=1, b='x') }} {{ namespace(a=1).a }}", {}),
    ("python_repr", "{{ ['it\\'s', \"q\\\"\", '\\n'] }} {{ {'k': none, 'b': false} }} {{ [1.0, 1e20, 1e-7, 0.1, -0.0, 123456789.0] }}", {}),
    ("raise_exception", "{% if x %}{{ raise_exception('Only ' ~ x ~ ' roles are supported!') }}{% endif %}", {"x": "user/assistant"}),
    ("unsafe_append", "{% set l = [1] %}{{ l.append(2) }}", {}),
    ("undefined_arith", "{{ nothing + 1 }}", {}),
    ("attr_of_undefined", "{{ nothing.attr }}", {}),
    ("none_attr", "[{{ n.attr }}]", {"n": None}),
    ("type_error", "{{ 1 + 'a' }}", {}),
    ("messages_style", "{%- for message in messages %}{%- if message.role == 'user' and message.content is string %}U:{{ message.content | trim }}{% elif message['role'] == 'assistant' %}A:{{ message.content.split('</think>')[-1].lstrip('\\n') }}{% endif %}\n{% endfor %}", {"messages": [{"role": "user", "content": " hi "}, {"role": "assistant", "content": "<think>x</think>\n\nok"}]}),
    ("joiner_and_with", "{% set j = joiner('; ') %}{% for x in [1, 2, 3] %}{{ j() }}{{ x }}{% endfor %} {% with a = 1, b = 2 %}{{ a + b }}{% endwith %}", {}),
    ("filter_block", "{% filter upper %}shout {{ 'it' }}{% endfilter %}", {}),
]


def render_engine(name, source, context):
    template = _compile_jinja_template(source)
    try:
        return {"name": name, "template": source, "context": json.dumps(context, ensure_ascii=False),
                "output": template.render(**context)}
    except Exception as e:
        return {"name": name, "template": source, "context": json.dumps(context, ensure_ascii=False),
                "error": f"{type(e).__name__}: {e}"}


def main():
    toks = {name: hf_tokenizer(spec) for name, spec in TOKENIZERS.items()}
    cases = []
    for name, (source, tok_name) in TEMPLATES.items():
        tok = toks[tok_name]
        for ci in range(len(CONVERSATIONS)):
            special = SPECIAL_CONVERSATIONS.get(ci)
            if special is not None and name not in special:
                continue
            for tools in WITH_TOOLS.get(name, [None]):
                if ci == 4 and tools is None:
                    continue
                for gen in (False, True):
                    cases.append({**render_case(tok, name, source, ci, gen, tools), "tokenizer": tok_name})
    out = {
        "transformers_version": transformers.__version__,
        "jinja2_version": jinja2.__version__,
        "tokenizers": TOKENIZERS,
        "templates": {name: {"source": src, "tokenizer": tok, "generation": "{% generation %}" in src}
                      for name, (src, tok) in TEMPLATES.items()},
        "cases": cases,
        "engine": [render_engine(n, s, c) for n, s, c in ENGINE],
    }
    path = FIX / "chat_templates.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=None, separators=(",", ":")) + "\n", encoding="utf-8")
    errors = sum(1 for c in cases if "error" in c)
    print(f"wrote {path.relative_to(ROOT)}: {len(cases)} cases ({errors} raising), {len(out['engine'])} engine checks, "
          f"{path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
