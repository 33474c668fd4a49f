#!/usr/bin/env python3
"""Writes experiments/paperSpecs.ts: each paper's claim and planned pass criterion, excerpted from the
reproduction specs in ../shared/papers/ (specs-01-22.md numbers papers 1-22; specs-23-45.md numbers papers
23-45 as 1-23). The report shows them in the sections of papers without a reproduction yet.
Run from the repository root: python3 scripts/extract-specs.py"""
import json, re, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
papers = root.parent / "shared" / "papers"

def clean(t, limit):
    t = re.sub(r"\*\*|`", "", t)
    t = re.sub(r"\[(CHK|paper|code|UNVERIFIED|paper\+code)[^\]]*\]", "", t)
    t = re.sub(r"\s+", " ", t).strip().lstrip(":* ").strip()
    return t if len(t) <= limit else t[: limit - 1].rsplit(" ", 1)[0] + " …"

out = {}
for fname, offset in [("specs-01-22.md", 0), ("specs-23-45.md", 22)]:
    text = (papers / fname).read_text()
    for m in re.finditer(r"^## (\d+)\. .*?(?=^## |\Z)", text, re.S | re.M):
        n = int(m.group(1)) + offset
        body = m.group(0)
        claim = re.search(r"\*\*1\.[^*]*\*\*(.*?)(?=\*\*2\.)", body, re.S)
        crit = re.search(r"\*\*PASS[^*]*\*\*(.*?)(?=\n\* Cost|\n\*\*4\.|\Z)", body, re.S)
        if claim:
            out[n] = {"claim": clean(claim.group(1), 600), "criterion": clean(crit.group(1), 700) if crit else ""}

lines = ["/**", " * Each paper's claim and planned pass criterion, excerpted from the reproduction specs", " * (../shared/papers/specs-*.md) by scripts/extract-specs.py: the report shows them for papers without a", " * reproduction yet. Generated; do not edit by hand.", " */", "export const PAPER_SPECS: Record<number, { claim: string; criterion: string }> = {"]
for n in sorted(out):
    lines.append(f"  {n}: {json.dumps(out[n], ensure_ascii=False)},")
lines.append("};")
(root / "experiments" / "paperSpecs.ts").write_text("\n".join(lines) + "\n")
print(f"{len(out)} papers", file=sys.stderr)
