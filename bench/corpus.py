"""Deterministic, offline corpus of realistic research-log entries.

Prose comes from two sources, mixed sentence by sentence:

* real English sentences harvested from the docstrings of a fixed list of
  Python standard-library modules (``inspect.getdoc``), which gives a large,
  varied vocabulary without any download;
* sentences generated from templates over an interpretability-research
  vocabulary (patching, SAEs, features, heads, logits, ...), so entries read
  like a research log and searches for research words hit realistic subsets.

Everything is driven by one ``random.Random(seed)``, so the same seed and the
same Python version give the same corpus.  Entries are written both in jrnl's
plain-text journal format and in jrnl's JSON export format (what
``upstack import jrnl`` reads).
"""
from __future__ import annotations

import datetime as dt
import importlib
import inspect
import json
import random
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field

# Pure-Python stdlib modules that import without side effects everywhere.
STDLIB_MODULES = """
abc argparse ast asyncio base64 bdb binascii bisect bz2 calendar cmd codecs
collections colorsys concurrent.futures configparser contextlib copy csv
dataclasses datetime decimal difflib dis doctest email email.message enum
filecmp fileinput fnmatch fractions ftplib functools getopt gettext glob gzip
hashlib heapq hmac html html.parser http.client http.cookies http.server
imaplib importlib inspect io ipaddress itertools json keyword linecache locale
logging logging.handlers lzma mailbox mimetypes multiprocessing numbers
operator optparse os pathlib pdb pickle pickletools pkgutil platform plistlib
poplib pprint profile pstats queue quopri random re reprlib sched secrets
selectors shelve shlex shutil signal smtplib socket socketserver sqlite3
ssl stat statistics string struct subprocess symtable sysconfig tarfile
tempfile textwrap threading timeit token tokenize trace traceback tracemalloc
types typing unittest unittest.mock urllib.parse urllib.request uuid warnings
wave weakref xml.dom.minidom xml.etree.ElementTree xmlrpc.client zipfile zipimport
""".split()  # noqa: SIM905

_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_GOOD_SENT = re.compile(r"^[A-Z][A-Za-z0-9 ,.;:'()/-]+[.!?]$")


def harvest_stdlib_sentences() -> list[str]:
    """Return sorted unique prose sentences from stdlib docstrings."""
    docs: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in STDLIB_MODULES:
            try:
                mod = importlib.import_module(name)
            except Exception:  # platform without that module: just skip it
                continue
            docs.append(inspect.getdoc(mod) or "")
            for attr in sorted(dir(mod)):
                if attr.startswith("_"):
                    continue
                obj = getattr(mod, attr, None)
                if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                    continue
                docs.append(inspect.getdoc(obj) or "")
                if inspect.isclass(obj):
                    for meth in sorted(vars(obj)):
                        if not meth.startswith("_") and inspect.isroutine(vars(obj)[meth]):
                            docs.append(inspect.getdoc(vars(obj)[meth]) or "")
    found: set[str] = set()
    for doc in docs:
        for para in doc.split("\n\n"):
            if ">>>" in para or "\n " in para or "::" in para:
                continue  # code samples and literal blocks
            for sent in _SENT_SPLIT.split(" ".join(para.split())):
                n = len(sent.split())
                if 5 <= n <= 32 and _GOOD_SENT.match(sent) and "e.g" not in sent:
                    found.add(sent)
    return sorted(found)


# --- interpretability-research vocabulary -----------------------------------
V = {
    "model": ["GPT-2 small", "GPT-2 medium", "Pythia-70M", "Pythia-160M", "Pythia-410M",
              "Gemma-2-2B", "Llama-3-8B", "TinyStories-33M", "the 2-layer attn-only model",
              "the toy model"],
    "tech": ["activation patching", "path patching", "attribution patching", "causal scrubbing",
             "mean ablation", "zero ablation", "resample ablation", "a linear probe",
             "the logit lens", "the tuned lens", "direct logit attribution",
             "a steering vector", "the SAE", "a transcoder", "integrated gradients"],
    "task": ["IOI", "greater-than", "docstring completion", "induction", "factual recall",
             "refusal", "sycophancy", "gendered pronoun", "acronym", "modular addition"],
    "head": ["name mover head", "backup name mover", "S-inhibition head", "induction head",
             "duplicate token head", "previous token head", "negative name mover",
             "copy suppression head"],
    "metric": ["logit difference", "KL divergence", "loss recovered", "accuracy",
               "probe accuracy", "reconstruction loss", "L0", "explained variance",
               "fraction of dead latents", "cosine similarity"],
    "thing": ["the residual stream", "the MLP output", "the attention pattern", "the query vector",
              "the OV circuit", "the QK circuit", "the unembedding", "the positional embedding",
              "layer norm scale", "the BOS token"],
    "feat": ["Python keywords", "closing brackets", "names of cities", "negation", "base64 strings",
             "German text", "legal boilerplate", "numbers in a list", "the end of a sentence",
             "capitalised names", "code comments", "past tense verbs", "DNA sequences"],
    "control": ["a different random seed", "a larger model", "the corrupted prompt set",
                "shuffled names", "a held-out template", "fewer training tokens",
                "a random direction of the same norm"],
    "mood": ["Not sure yet.", "This is more promising than I expected.", "Probably a dead end.",
             "Need to sanity-check the baseline first.", "Feels like progress, even if small.",
             "I was stuck on this most of the afternoon.", "Wrote it up for the weekly sync."],
}
TEMPLATES = [
    "Ran {tech} on {model} for the {task} task; {metric} recovered {pct}% of the clean run.",
    "Head L{l}H{h} in {model} behaves like a {head}: ablating it moves {metric} by {sm}.",
    "The SAE on layer {l} of {model} has {k}k latents, L0 near {l0} and {pct}% dead latents.",
    "Feature {fid} fires on {feat}, but also on {feat2}, so the label is too narrow.",
    "Tried {tech} again with {control}, and the effect on {metric} mostly survives.",
    "Patching {thing} at layer {l} restores {pct}% of the logit difference on {task}.",
    "The logits for the correct token jump once {thing} from layer {l} is patched in.",
    "Next step: check whether the {task} result holds with {control}.",
    "Mentor asked why {task} matters for the agenda; it tests whether circuits are reusable.",
    "Idea to prune: {tech} on {model} may be too noisy for heads smaller than layer {l}.",
    "Kill criterion: if {metric} stays under {sm} with {control}, drop the {task} direction.",
    "Learned that {thing} carries most of the signal for {task}, not the attention heads.",
    "Plotted {metric} per layer for {model}; the jump happens between layers {l} and {l2}.",
    "Compared {tech} with {tech2}; they disagree on head L{l}H{h}, which needs a closer look.",
    "Training the SAE for {k}k steps on {model} activations took {hrs} hours on one GPU.",
    "Spent time reading the {task} paper again to understand how {head}s were found.",
    "Attribution patching gives a quick map, then activation patching confirms the top heads.",
    "The {head} at L{l}H{h} attends from the final token to the indirect object name.",
    "Found {n} features that look monosemantic for {feat} in layer {l}.",
    "Steering with feature {fid} at strength {st} makes {model} talk about {feat}.",
    "The probe on {thing} reaches {pct}% accuracy, which may just be memorisation.",
    "{mood}",
]


@dataclass
class Entry:
    when: dt.datetime
    title: str
    body: str
    tags: list[str] = field(default_factory=list)

    def jrnl_text(self) -> str:
        return f"[{self.when:%Y-%m-%d %H:%M}] {self.title}\n{self.body}\n"

    def jrnl_json(self) -> dict:
        return {"title": self.title, "body": self.body, "date": f"{self.when:%Y-%m-%d}",
                "time": f"{self.when:%H:%M}", "tags": self.tags, "starred": False}


TAGS = ["#patching", "#ioi", "#sae", "#features", "#heads", "#probe", "#induction",
        "#ablation", "#steering", "#refusal", "#eval", "#idea", "#reading", "#mentor",
        "#stuck", "#learned", "#writeup", "#gpu", "#bug", "#pythia", "#gpt2", "#circuits"]
TAG_WEIGHTS = [1 / (i + 1) ** 0.8 for i in range(len(TAGS))]


class Generator:
    def __init__(self, seed: int = 1234):
        self.rng = random.Random(seed)
        self.stdlib = harvest_stdlib_sentences()
        self.short_stdlib = [s for s in self.stdlib if len(s.split()) <= 14]

    def research_sentence(self) -> str:
        r = self.rng
        fill = {k: r.choice(v) for k, v in V.items()}
        fill.update(tech2=r.choice(V["tech"]), feat2=r.choice(V["feat"]),
                    pct=r.randint(3, 99), l=r.randint(0, 11), l2=r.randint(12, 31),
                    h=r.randint(0, 11), sm=f"{r.uniform(0.05, 3.5):.2f}",
                    k=r.choice([4, 16, 32, 65]),
                    l0=r.randint(8, 120), fid=r.randint(100, 65000), hrs=r.randint(1, 30),
                    n=r.randint(2, 40), st=r.choice([2, 4, 8, 16, 40]))
        return r.choice(TEMPLATES).format(**fill)

    def sentence(self, p_research: float = 0.5) -> str:
        if self.rng.random() < p_research:
            return self.research_sentence()
        return self.rng.choice(self.stdlib)

    def entry(self, when: dt.datetime) -> Entry:
        r = self.rng
        title = self.research_sentence() if r.random() < 0.6 else r.choice(self.short_stdlib)
        target = int(r.triangular(30, 135, 55))
        sentences, words = [], 0
        while words < target:
            s = self.sentence()
            sentences.append(s)
            words += len(s.split())
        # 1-3 paragraphs
        cuts = sorted(r.sample(range(1, len(sentences)), min(len(sentences) - 1, r.randint(0, 2))))
        paras, prev = [], 0
        for c in cuts + [len(sentences)]:
            paras.append(" ".join(sentences[prev:c]))
            prev = c
        tags = sorted(set(r.choices(TAGS, TAG_WEIGHTS, k=r.randint(0, 3))))
        body = "\n\n".join(paras)
        if tags:
            body += "\n" + " ".join(tags)
        return Entry(when, title, body, tags)

    def entries(self, n: int, start=dt.datetime(2023, 1, 2), days: int = 730) -> list[Entry]:
        span = days * 24 * 60
        minutes = sorted(self.rng.randrange(span) for _ in range(n))
        return [self.entry(start + dt.timedelta(minutes=m)) for m in minutes]


def write_jrnl_text(entries: list[Entry], path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(e.jrnl_text() for e in entries))


def write_jrnl_json(entries: list[Entry], path) -> None:
    counts = Counter(t for e in entries for t in e.tags)
    doc = {"tags": dict(counts.most_common()), "entries": [e.jrnl_json() for e in entries]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)


def doc_frequency(entries: list[Entry], word: str) -> float:
    """Fraction of entries whose title or body contains ``word`` (case-insensitive)."""
    w = word.casefold()
    hits = sum(w in e.title.casefold() or w in e.body.casefold() for e in entries)
    return hits / max(1, len(entries))


if __name__ == "__main__":  # quick look: python bench/corpus.py
    g = Generator()
    print(len(g.stdlib), "stdlib sentences")
    es = g.entries(1000)
    print(es[0].jrnl_text())
    print(es[1].jrnl_text())
    text = [(e.title + " " + e.body).split() for e in es]
    vocab = Counter(w.lower().strip(".,;:()'") for ws in text for w in ws)
    print(len(vocab), "distinct words in 1000 entries;",
          sum(map(len, text)) / len(es), "words/entry")
