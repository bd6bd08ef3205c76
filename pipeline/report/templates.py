# ruff: noqa: E501  (template text: a table row is one line of HTML or Markdown)
"""The report's two templates (Jinja2): a self-contained HTML page and its Markdown twin.

They live here as strings so the package needs no data files. The HTML page has inline CSS
and inline SVG only: no scripts, no web fonts, no links outside the page, so it opens from
disk on a machine without network and prints cleanly. Every transcript text goes through
Jinja2's autoescape in HTML and through the `md` filter in Markdown.
"""

from __future__ import annotations

SECTIONS = (
    ("summary", "Summary"),
    ("codes", "Themes and codes"),
    ("quotes", "Quotes"),
    ("frequency", "Code frequency"),
    ("cooccurrence", "Co-occurrence"),
    ("evaluation", "Evaluation"),
    ("review", "Review progress"),
    ("candidates", "Candidate new codes"),
    ("method", "How this report was made"),
)

CSS = """
:root { --ink: #1d1d1f; --muted: #5b5b66; --rule: #d8d8de; --band: #f5f6f8; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  "Noto Sans", "Noto Sans CJK TC", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei",
  "Heiti TC", "WenQuanYi Micro Hei", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 40px 0 10px; padding-top: 8px; border-top: 2px solid var(--ink); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p, li { max-width: 80ch; }
.muted, caption, .note { color: var(--muted); }
.note { font-size: 13px; }
nav ol { columns: 3; padding-left: 20px; margin: 8px 0 0; font-size: 14px; }
a { color: var(--accent); }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 13.5px; }
caption { text-align: left; font-size: 13px; padding-bottom: 4px; caption-side: top; }
th, td { padding: 4px 9px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { text-align: left; font-weight: 600; border-bottom: 1.5px solid var(--ink); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n { white-space: nowrap; }
th.n { font-weight: 600; min-width: 4.5em; }
table.codes td:first-child { min-width: 240px; }
tr.theme td { background: var(--band); font-weight: 600; }
tr.code td:first-child { padding-left: 22px; }
.wide { overflow-x: auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px;
  margin: 12px 0; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; }
.card b { display: block; font-size: 22px; }
figure { margin: 12px 0 18px; break-inside: avoid; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
figure.chart { max-width: 860px; }
@media (max-width: 900px) { nav ol { columns: 1; } }
blockquote { max-width: 90ch; margin: 8px 0 10px; padding: 6px 14px; border-left: 3px solid var(--accent);
  background: var(--band); break-inside: avoid; }
blockquote p { margin: 0 0 2px; }
blockquote footer { font-size: 13px; color: var(--muted); }
.code-quotes { margin-bottom: 18px; break-inside: avoid-page; }
.tag { display: inline-block; font-size: 11.5px; padding: 0 6px; border-radius: 8px;
  border: 1px solid var(--rule); color: var(--muted); }
.tag.variant { border-color: #E69F00; color: #8a5a00; }
.tag.new { border-color: #009E73; color: #00664b; }
.bar { height: 10px; background: var(--band); border: 1px solid var(--rule); border-radius: 5px;
  max-width: 420px; overflow: hidden; }
.bar span { display: block; height: 100%; background: #009E73; }
.warning { border-left: 3px solid #D55E00; padding: 4px 10px; background: #fff4ee; }
:lang(zh) { font-family: "Noto Sans CJK TC", "Noto Sans TC", "PingFang TC",
  "Microsoft JhengHei", "Heiti TC", "WenQuanYi Micro Hei", sans-serif; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  h2 { break-before: auto; break-after: avoid; }
  h3 { break-after: avoid; }
  table, figure, blockquote { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
  .wide { overflow: visible; }
}
"""

HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="precode">
<title>{{ r.title }}</title>
<style>{{ css }}</style>
</head>
<body>
<main>
<header>
<h1>{{ r.title }}</h1>
<p class="muted">Generated {{ r.generated }} by <code>precode report</code> · codebook
{{ r.summary.codebook }} · run created {{ r.summary.created }}</p>
<nav aria-label="Contents"><ol>
{% for id, title in sections %}<li><a href="#{{ id }}">{{ title }}</a></li>{% endfor %}
</ol></nav>
</header>
{% for w in r.warnings %}<p class="warning">{{ w }}</p>{% endfor %}

<section id="summary">
<h2>Summary</h2>
<div class="cards">
<div class="card"><b>{{ r.summary.sources }}</b>sources</div>
<div class="card"><b>{{ r.summary.participants }}</b>participants</div>
<div class="card"><b>{{ r.summary.segments }}</b>segments</div>
<div class="card"><b>{{ r.summary.coded_segments }}</b>segments with a code
({{ pct(r.summary.coded_segments, r.summary.segments) }})</div>
<div class="card"><b>{{ r.summary.codes }}</b>codes in {{ r.summary.themes }} themes</div>
<div class="card"><b>{{ r.summary.reviewed_segments }}</b>segments reviewed</div>
</div>
<p>Codes were suggested by precode ({{ r.summary.method }}, threshold
{{ r.summary.threshold }}, embeddings: {{ r.summary.model }}).
<strong>Counting rule:</strong> {{ r.rule }}.</p>
</section>

<section id="codes">
<h2>Themes and codes</h2>
<div class="wide">
<table class="codes">
<caption>Segments, sources and participants per theme and code{% if r.attributes %}; then,
per participant attribute, the participants with the code of those with the value
(segments in brackets){% endif %}.</caption>
<thead>
<tr><th rowspan="{{ 2 if r.attributes else 1 }}">Theme / code</th>
<th class="n" rowspan="{{ 2 if r.attributes else 1 }}">Segments</th>
<th class="n" rowspan="{{ 2 if r.attributes else 1 }}">Sources<br><span class="note">of {{ r.summary.sources }}</span></th>
<th class="n" rowspan="{{ 2 if r.attributes else 1 }}">Participants<br><span class="note">of {{ r.summary.participants }}</span></th>
{% for a in r.attributes %}<th colspan="{{ a['values']|length }}">{{ a.name|replace('_', ' ') }}</th>{% endfor %}
</tr>
{% if r.attributes %}<tr>{% for a in r.attributes %}{% for v in a['values'] %}
<th class="n">{{ v.value }} <span class="note">(n={{ v.n }})</span></th>{% endfor %}{% endfor %}</tr>{% endif %}
</thead>
<tbody>
{% for t in r.themes %}
<tr class="theme"><td>{{ t.name }}</td><td class="n">{{ t.segments }}</td><td class="n">{{ t.sources }}</td>
<td class="n">{{ t.participants }}</td>
{% for a in r.attributes %}{% for cell in t.by_attribute[a.name] %}<td class="n">{{ cell.participants }} ({{ cell.segments }})</td>{% endfor %}{% endfor %}</tr>
{% for c in t.codes %}
<tr class="code"><td>{{ c.name }} <span class="note">{{ c.id }}</span></td><td class="n">{{ c.segments }}</td>
<td class="n">{{ c.sources }}</td><td class="n">{{ c.participants }}</td>
{% for a in r.attributes %}{% for cell in c.by_attribute[a.name] %}<td class="n">{{ cell.participants }} ({{ cell.segments }})</td>{% endfor %}{% endfor %}</tr>
{% endfor %}
{% endfor %}
</tbody>
</table>
</div>
<p class="note">A theme's row counts the segments with any of its codes once.</p>
</section>

<section id="quotes">
<h2>Quotes</h2>
<p class="note">Up to {{ r.quotes_per_code }} quotes per code: segments of {{ r.quote_min_words }}
words or more first, confirmed in review first, then the highest-scoring suggestions, one per
source before a second from the same source. Quotes longer than {{ r.quote_max_chars }}
characters are shortened (…). Each code says how many of its segments are shown.</p>
{% for q in r.quotes %}
<div class="code-quotes">
<h3>{{ q.name }} <span class="note">{{ q.code }} · {{ q.theme }}</span></h3>
<p class="note">{{ q['items']|length }} of {{ q.total }} segment{{ '' if q.total == 1 else 's' }} shown.</p>
{% for item in q['items'] %}
<blockquote><p lang="{{ item.lang }}">“{{ item.text }}”</p>
<footer>{{ item.speaker }}{% if item.attributes %} ({{ item.attributes }}){% endif %}, {{ item.source }}{% if item.confirmed %} · confirmed in review{% elif item.score is not none %} · score {{ '%.2f'|format(item.score) }}{% endif %}</footer></blockquote>
{% endfor %}
</div>
{% endfor %}
</section>

<section id="frequency">
<h2>Code frequency</h2>
<figure>{{ r.frequency_svg|safe }}
<figcaption>Segments and sources with each code, in codebook order, coloured by theme.</figcaption></figure>
</section>

<section id="cooccurrence">
<h2>Co-occurrence</h2>
<p>How often two codes meet: on the same segment, and in the same speaker turn (a turn holds
several segments; {{ r.cooccurrence.turns }} turns in all). Frequent pairs may overlap in
meaning or describe one phenomenon from two sides.</p>
<figure class="chart">{{ r.cooccurrence.segment_svg|safe }}<figcaption>Segments carrying both
codes (the diagonal, each code with itself, is left blank; the frequency chart has those
counts).</figcaption></figure>
<figure class="chart">{{ r.cooccurrence.turn_svg|safe }}<figcaption>Speaker turns in which both
codes occur, on the same segment or on different segments of the turn.</figcaption></figure>
{% if r.cooccurrence.pairs %}
<table>
<caption>The most frequent pairs (at most {{ r.cooccurrence.max_pairs }}).</caption>
<thead><tr><th>Code</th><th>Code</th><th class="n">Turns</th><th class="n">Segments</th></tr></thead>
<tbody>{% for p in r.cooccurrence.pairs %}<tr><td>{{ p.a }}</td><td>{{ p.b }}</td><td class="n">{{ p.turns }}</td><td class="n">{{ p.segments }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}<p class="note">No two codes occur together.</p>{% endif %}
</section>

<section id="evaluation">
<h2>Evaluation</h2>
{% if r.evaluation %}{% set e = r.evaluation %}
<p>Agreement of {{ e.compared }}{% if e.detail %} ({{ e.detail }}){% endif %} on {{ e.segments }}
segments of {{ e.sources }} sources ({{ e.with_reference }} carry a gold code). Alignment:
{{ e.rule }}. From <code>evaluation.json</code>, {{ e.created }}.</p>
<table>
<caption>Agreement, overall. {{ e.interval_note }}</caption>
<thead><tr><th>Figure</th><th class="n">Value</th><th class="n">95% interval</th></tr></thead>
<tbody>{% for row in e.overall %}<tr><td>{{ row.figure }}</td><td class="n">{{ row.value }}</td><td class="n">{{ row.interval }}</td></tr>{% endfor %}</tbody>
</table>
<h3>Human baseline</h3>
{% if e.baseline_pairs %}
<table>
<caption>Agreement between each pair: coders with each other beside the machine with each coder.</caption>
<thead><tr><th>Pair</th><th class="n">F1</th><th class="n">kappa</th><th class="n">alpha</th><th class="n">alpha 95%</th><th class="n">AC1</th></tr></thead>
<tbody>{% for p in e.baseline_pairs %}<tr><td>{{ p.pair }}</td><td class="n">{{ p.f1 }}</td><td class="n">{{ p.kappa }}</td><td class="n">{{ p.alpha }}</td><td class="n">{{ p.alpha_ci }}</td><td class="n">{{ p.ac1 }}</td></tr>{% endfor %}</tbody>
</table>
{% endif %}
<p>{{ e.baseline_note }}.</p>
<p>{{ e.atlas_ti }} {{ e.unitizing_note }}</p>
<h3>Per code</h3>
<table>
<caption>n: segments with the code from the gold coder; given: from the compared side; |u-alpha: Krippendorff's binary unitizing alpha of the code's spans (ATLAS.ti's α-binary).</caption>
<thead><tr><th>Code</th><th class="n">n</th><th class="n">given</th><th class="n">precision</th><th class="n">recall</th><th class="n">F1</th><th class="n">kappa</th><th class="n">|u-alpha</th><th class="n">95% interval</th></tr></thead>
<tbody>{% for row in e.per_code %}<tr><td>{{ row.code }}</td><td class="n">{{ row.n }}</td><td class="n">{{ row.given }}</td><td class="n">{{ row.precision }}</td><td class="n">{{ row.recall }}</td><td class="n">{{ row.f1 }}</td><td class="n">{{ row.kappa }}</td><td class="n">{{ row.u_binary }}</td><td class="n">{{ row.u_binary_ci }}</td></tr>{% endfor %}</tbody>
</table>
{% if e.unitizing_themes %}<table>
<caption>Themes as semantic domains: |u-alpha of any of the theme's codes vs none, cu-alpha of which code where both sides coded.</caption>
<thead><tr><th>Theme</th><th class="n">|u-alpha</th><th class="n">cu-alpha</th></tr></thead>
<tbody>{% for row in e.unitizing_themes %}<tr><td>{{ row.theme }}</td><td class="n">{{ row.u_binary }}</td><td class="n">{{ row.cu }}</td></tr>{% endfor %}</tbody>
</table>{% endif %}
<h3>Threshold curve</h3>
{% if e.curve_svg %}<figure class="chart">{{ e.curve_svg|safe }}<figcaption>Precision, recall and F1 (micro) if
codes were suggested at each threshold.</figcaption></figure>{% else %}<p class="note">{{ e.sweep_note }}</p>{% endif %}
<p class="note">— marks an undefined figure (e.g. precision of a code never given).</p>
{% else %}
<p class="note">No evaluation yet: run <code>precode evaluate RUN --gold FILE --threshold 0.1:0.9:0.1</code>
and write the report again.</p>
{% endif %}
</section>

<section id="review">
<h2>Review progress</h2>
{% if r.review %}{% set v = r.review %}
<p>{{ v.reviewed }} of {{ v.total }} segments reviewed ({{ pct(v.reviewed, v.total) }});
{{ v.suggested_reviewed }} of the {{ v.with_suggestion }} segments with a suggested code.</p>
<div class="bar" role="img" aria-label="{{ pct(v.reviewed, v.total) }} reviewed"><span style="width: {{ '%.1f'|format(100 * v.share) }}%"></span></div>
<table>
<caption>Decisions in the log, by verdict and by coder.</caption>
<thead><tr>{% for x in v.verdicts %}<th class="n">{{ x.verdict }}</th>{% endfor %}</tr></thead>
<tbody><tr>{% for x in v.verdicts %}<td class="n">{{ x.n }}</td>{% endfor %}</tr></tbody>
</table>
<table>
<thead><tr><th>Coder</th><th class="n">Decisions</th><th class="n">Segments</th><th>Last decision</th></tr></thead>
<tbody>{% for c in v.coders %}<tr><td>{{ c.coder }}</td><td class="n">{{ c.decisions }}</td><td class="n">{{ c.segments }}</td><td>{{ c.last }}</td></tr>{% endfor %}</tbody>
</table>
<figure class="chart">{{ v.svg|safe }}<figcaption>Suggested codes confirmed, not confirmed and not yet
reviewed, and codes reviewers added that were not suggested.</figcaption></figure>
<table>
<thead><tr><th>Code</th><th class="n">Suggested</th><th class="n">Confirmed</th><th class="n">Not confirmed</th><th class="n">Not reviewed</th><th class="n">Added</th><th class="n">Confirmed share</th></tr></thead>
<tbody>{% for row in v.per_code %}<tr><td>{{ row.code }}</td><td class="n">{{ row.suggested }}</td><td class="n">{{ row.confirmed }}</td><td class="n">{{ row.not_confirmed }}</td><td class="n">{{ row.pending }}</td><td class="n">{{ row.added }}</td><td class="n">{{ row.rate }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}
<p class="note">No review decisions yet (<code>precode review RUN --coder NAME</code>).</p>
{% endif %}
</section>

<section id="candidates">
<h2>Candidate new codes</h2>
{% if r.candidates %}{% set d = r.candidates %}
<p>Clusters of segments no code fits, from <code>precode discover</code>
({{ d.counts.uncoded }} uncoded segments; {{ d.counts.filler_short }} too short and
{{ d.counts.filler_small_talk }} small talk left out; {{ d.counts.clustered }} clustered).
Finish them in <code>candidates.yaml</code>.{% if d.stale %} <strong>These candidates are
older than the run's segments.</strong>{% endif %}</p>
{% if d.rows %}
<table>
<thead><tr><th>Candidate</th><th class="n">Segments</th><th class="n">Sources</th><th>Keywords</th><th>Nearest code</th><th>Most central segment</th></tr></thead>
<tbody>{% for c in d.rows %}<tr><td>{{ c.id }}</td><td class="n">{{ c.size }}</td><td class="n">{{ c.sources }}</td><td>{{ c.keywords }}</td>
<td>{{ c.nearest }} <span class="note">{{ c.score }}</span> <span class="tag {{ c.verdict }}">{{ 'maybe a variant' if c.verdict == 'variant' else c.verdict }}</span></td>
<td>“{{ c.exemplar }}” <span class="note">{{ c.exemplar_by }}</span></td></tr>{% endfor %}</tbody>
</table>
{% else %}<p class="note">No candidates: no cluster was large enough.</p>{% endif %}
{% for n in d.notes %}<p class="note">{{ n }}</p>{% endfor %}
{% else %}
<p class="note">No discovery yet (<code>precode discover RUN</code>).</p>
{% endif %}
</section>

<section id="method">
<h2>How this report was made</h2>
<ul>
<li>Which codes a segment carries: {{ r.rule }}.</li>
<li>Participants are the non-interviewer speakers of each source; their attributes come from
the participants file given at ingest.{% if not r.attributes %} No attribute has values shared by
several participants, so codes are not broken down by attribute (set <code>report.attributes</code>).{% endif %}</li>
<li>Quotes: at most {{ r.quotes_per_code }} per code, shortened beyond {{ r.quote_max_chars }} characters.</li>
<li>Charts show code ids; the tables give their names.</li>
</ul>
</section>
</main>
</body>
</html>
"""

MARKDOWN = """# {{ r.title }}

Generated {{ r.generated }} by `precode report` · codebook {{ r.summary.codebook|md }} · run created {{ r.summary.created }}
{% for w in r.warnings %}
> **Warning:** {{ w|md }}
{% endfor %}
## Summary

| sources | participants | segments | with a code | codes | themes | reviewed |
|---:|---:|---:|---:|---:|---:|---:|
| {{ r.summary.sources }} | {{ r.summary.participants }} | {{ r.summary.segments }} | {{ r.summary.coded_segments }} ({{ pct(r.summary.coded_segments, r.summary.segments) }}) | {{ r.summary.codes }} | {{ r.summary.themes }} | {{ r.summary.reviewed_segments }} |

Codes were suggested by precode ({{ r.summary.method }}, threshold {{ r.summary.threshold }}, embeddings: {{ r.summary.model|md }}). **Counting rule:** {{ r.rule }}.

## Themes and codes

{% if r.attributes %}Per participant attribute: participants with the code of those with the value (segments in brackets).

{% endif %}| theme / code | segments | sources | participants |{% for a in r.attributes %}{% for v in a['values'] %} {{ a.name|md }}: {{ v.value|md }} (n={{ v.n }}) |{% endfor %}{% endfor %}
|---|---:|---:|---:|{% for a in r.attributes %}{% for v in a['values'] %}---:|{% endfor %}{% endfor %}
{% for t in r.themes %}| **{{ t.name|md }}** | **{{ t.segments }}** | **{{ t.sources }}** | **{{ t.participants }}** |{% for a in r.attributes %}{% for cell in t.by_attribute[a.name] %} {{ cell.participants }} ({{ cell.segments }}) |{% endfor %}{% endfor %}
{% for c in t.codes %}| {{ c.name|md }} (`{{ c.id }}`) | {{ c.segments }} | {{ c.sources }} | {{ c.participants }} |{% for a in r.attributes %}{% for cell in c.by_attribute[a.name] %} {{ cell.participants }} ({{ cell.segments }}) |{% endfor %}{% endfor %}
{% endfor %}{% endfor %}
## Quotes

Up to {{ r.quotes_per_code }} quotes per code (segments of {{ r.quote_min_words }} words or more first, confirmed in review first, then the highest-scoring suggestions, one per source first); quotes longer than {{ r.quote_max_chars }} characters are shortened (…).
{% for q in r.quotes %}
### {{ q.name|md }} (`{{ q.code }}`)

{{ q['items']|length }} of {{ q.total }} segment{{ '' if q.total == 1 else 's' }} shown.
{% for item in q['items'] %}
> “{{ item.text|md }}”\\
> — {{ item.speaker|md }}{% if item.attributes %} ({{ item.attributes|md }}){% endif %}, {{ item.source|md }}{% if item.confirmed %} · confirmed in review{% elif item.score is not none %} · score {{ '%.2f'|format(item.score) }}{% endif %}
{% endfor %}{% endfor %}
## Code frequency

![Segments and sources per code]({{ figures.frequency }})

## Co-occurrence

![Co-occurrence within segments]({{ figures.cooccurrence_segments }})
![Co-occurrence within turns]({{ figures.cooccurrence_turns }})
{% if r.cooccurrence.pairs %}
| code | code | turns | segments |
|---|---|---:|---:|
{% for p in r.cooccurrence.pairs %}| {{ p.a }} | {{ p.b }} | {{ p.turns }} | {{ p.segments }} |
{% endfor %}{% endif %}
## Evaluation
{% if r.evaluation %}{% set e = r.evaluation %}
Agreement of {{ e.compared|md }}{% if e.detail %} ({{ e.detail|md }}){% endif %} on {{ e.segments }} segments of {{ e.sources }} sources. Alignment: {{ e.rule|md }}. {{ e.interval_note|md }}

| figure | value | 95% interval |
|---|---:|---:|
{% for row in e.overall %}| {{ row.figure|md }} | {{ row.value }} | {{ row.interval }} |
{% endfor %}
{% if e.baseline_pairs %}| pair | F1 | kappa | alpha | alpha 95% | AC1 |
|---|---:|---:|---:|---:|---:|
{% for p in e.baseline_pairs %}| {{ p.pair|md }} | {{ p.f1 }} | {{ p.kappa }} | {{ p.alpha }} | {{ p.alpha_ci }} | {{ p.ac1 }} |
{% endfor %}{% endif %}
{{ e.baseline_note|md }}.

{{ e.atlas_ti|md }}{% if e.unitizing_note %} {{ e.unitizing_note|md }}{% endif %}

| code | n | given | precision | recall | F1 | kappa | \\|u-alpha | 95% interval |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
{% for row in e.per_code %}| {{ row.code }} | {{ row.n }} | {{ row.given }} | {{ row.precision }} | {{ row.recall }} | {{ row.f1 }} | {{ row.kappa }} | {{ row.u_binary }} | {{ row.u_binary_ci }} |
{% endfor %}{% if e.unitizing_themes %}
| theme | \\|u-alpha | cu-alpha |
|---|---:|---:|
{% for row in e.unitizing_themes %}| {{ row.theme }} | {{ row.u_binary }} | {{ row.cu }} |
{% endfor %}{% endif %}
{% if e.curve_svg %}![Precision, recall and F1 by threshold]({{ figures.threshold }}){% else %}{{ e.sweep_note|md }}{% endif %}
{% else %}
No evaluation yet: run `precode evaluate RUN --gold FILE --threshold 0.1:0.9:0.1`.
{% endif %}
## Review progress
{% if r.review %}{% set v = r.review %}
{{ v.reviewed }} of {{ v.total }} segments reviewed ({{ pct(v.reviewed, v.total) }}); {{ v.suggested_reviewed }} of the {{ v.with_suggestion }} segments with a suggested code.

| {% for x in v.verdicts %}{{ x.verdict }} | {% endfor %}
|{% for x in v.verdicts %}---:|{% endfor %}
| {% for x in v.verdicts %}{{ x.n }} | {% endfor %}

| coder | decisions | segments | last decision |
|---|---:|---:|---|
{% for c in v.coders %}| {{ c.coder|md }} | {{ c.decisions }} | {{ c.segments }} | {{ c.last|md }} |
{% endfor %}
![Review progress per code]({{ figures.review }})

| code | suggested | confirmed | not confirmed | not reviewed | added | confirmed share |
|---|---:|---:|---:|---:|---:|---:|
{% for row in v.per_code %}| {{ row.code }} | {{ row.suggested }} | {{ row.confirmed }} | {{ row.not_confirmed }} | {{ row.pending }} | {{ row.added }} | {{ row.rate }} |
{% endfor %}{% else %}
No review decisions yet.
{% endif %}
## Candidate new codes
{% if r.candidates %}{% set d = r.candidates %}
Clusters of segments no code fits, from `precode discover`; finish them in `candidates.yaml`.
{% if d.rows %}
| candidate | segments | sources | keywords | nearest code | most central segment |
|---|---:|---:|---|---|---|
{% for c in d.rows %}| {{ c.id }} | {{ c.size }} | {{ c.sources }} | {{ c.keywords|md }} | {{ c.nearest }} ({{ c.score }}, {{ c.verdict }}) | “{{ c.exemplar|md }}” ({{ c.exemplar_by|md }}) |
{% endfor %}{% else %}
No candidates.
{% endif %}{% else %}
No discovery yet (`precode discover RUN`).
{% endif %}
## How this report was made

- Which codes a segment carries: {{ r.rule }}.
- Participants are the non-interviewer speakers of each source, with the attributes of the participants file.
- Quotes: at most {{ r.quotes_per_code }} per code, shortened beyond {{ r.quote_max_chars }} characters.
"""
