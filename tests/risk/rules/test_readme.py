"""The README's rule examples compile as written (the section documents the language)."""

from __future__ import annotations

from pathlib import Path

from risk.rules import compile_rule

README = Path(__file__).resolve().parents[3] / "README.md"


def test_every_example_rule_of_the_readme_compiles():
    section = README.read_text().split("## Rules language", 1)[1]
    block = section.split("```text", 1)[1].split("```", 1)[0]
    rules = [line for line in block.strip().splitlines() if line.strip()]
    assert len(rules) >= 8
    for text in rules:
        compile_rule(text, {"trusted_cards": "card_fingerprint", "proxy_ranges": "ip"})
