#!/usr/bin/env bash
# Runs the Sift GPU benchmark from an unpacked bundle and writes the figures to files:
#   answers      local GGUF generation (SmolLM2-135M-Instruct) through the whole answer pipeline, free text
#                ("after") and grammar-constrained claims ("claims"): time to first token p50/p99, ms per
#                output token, output tokens/s, answers with a citation; on CUDA, and on the CPU with --with-cpu
#   embeddings   the indexer's batch embedding of SciFact chunks (passages/s) through embed_server.py
#                (sentence-transformers on the GPU, standing in for TEI), and in-process ONNX on the CPU with --with-cpu
#
#   ./run-bench.sh [--with-cpu] [--out DIR] [--queries N] [--max-tokens M] [--passages N] [--cpu-passages N]
#                  [--threads T] [--embed-backend sentence-transformers|onnx] [--embed-device cuda|cpu]
#                  [--answer-device cuda|cpu|auto] [--port P] [--python PY]
#
# Defaults: --out ./figures (beside this script), 30 questions, 96 output tokens, all SciFact chunks on the
# GPU and 512 on the CPU, 4 CPU threads, sentence-transformers on cuda, answers on cuda. Figures:
# environment.txt, answer-<device>.{txt,json}, embed-<where>.{txt,json}, embed-server.log, summary.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$root/figures"; queries=30; max_tokens=96; passages=""; cpu_passages=512; threads=4
embed_backend=sentence-transformers; embed_device=cuda; answer_device=cuda; port=8089; python=python3; with_cpu=0
while [ $# -gt 0 ]; do
  case "$1" in
    --with-cpu) with_cpu=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --queries) queries="$2"; shift 2 ;;
    --max-tokens) max_tokens="$2"; shift 2 ;;
    --passages) passages="$2"; shift 2 ;;
    --cpu-passages) cpu_passages="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --embed-backend) embed_backend="$2"; shift 2 ;;
    --embed-device) embed_device="$2"; shift 2 ;;
    --answer-device) answer_device="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) echo "run-bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
node="$root/bin/node"
gguf="$root/models/HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf"
export SIFT_MODEL_STORE="$root/models"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "host: $(uname -srm)"
  echo "cpus: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "node: $("$node" --version)"
  if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/gpu: /'
  else
    echo "gpu: nvidia-smi not found"
  fi
  echo "embedding server asked: $embed_backend on $embed_device (embed_server.py, a stand-in for TEI)"
} | tee "$out/environment.txt"

answers() { # $1 = device
  echo "run-bench: answers on $1 ($queries questions, $max_tokens tokens)"
  "$node" "$root/app/bench-answer.mjs" --device "$1" --model "$gguf" --dataset "$root/data/scifact" \
    --queries "$queries" --max-tokens "$max_tokens" --threads "$threads" --variants after,claims --show \
    --json "$out/answer-$1.json" > "$out/answer-$1.txt" 2>&1 || { echo "run-bench: answers on $1 failed, see $out/answer-$1.txt" >&2; return 1; }
  grep -E '^(device|== |first token|model-written)' "$out/answer-$1.txt"
}

embeddings_remote() {
  echo "run-bench: embedding server ($embed_backend on $embed_device)"
  local model="$root/models/st-all-MiniLM-L6-v2"
  [ "$embed_backend" = onnx ] && model="$root/models/Xenova/all-MiniLM-L6-v2"
  "$python" "$root/embed_server.py" --model "$model" --backend "$embed_backend" --device "$embed_device" \
    --port "$port" > "$out/embed-server.log" 2>&1 &
  local server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    "$python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null && break
    kill -0 $server 2>/dev/null || { echo "run-bench: the embedding server died, see $out/embed-server.log" >&2; return 1; }
    sleep 1
  done
  # What the server really runs on (it falls back to the CPU when it cannot have CUDA, and says so).
  "$python" -c "import json,urllib.request; h=json.load(urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=5)); print('embedding server runs: ' + h['backend'])" \
    | tee -a "$out/environment.txt"
  "$node" "$root/app/bench-embed-passages.mjs" --url "http://127.0.0.1:$port" --dataset "$root/data/scifact" \
    --manifest "$root/models/manifest.json" --model-store "$root/models" ${passages:+--passages "$passages"} \
    --json "$out/embed-server.json" 2>&1 | tee "$out/embed-server.txt"
  kill $server 2>/dev/null || true
  trap - EXIT
}

embeddings_cpu() {
  echo "run-bench: in-process ONNX embedding on the CPU ($cpu_passages chunks, $threads threads)"
  "$node" "$root/app/bench-embed-passages.mjs" --local --threads "$threads" --passages "$cpu_passages" \
    --dataset "$root/data/scifact" --manifest "$root/models/manifest.json" --model-store "$root/models" \
    --json "$out/embed-cpu.json" 2>&1 | tee "$out/embed-cpu.txt"
}

status=0
answers "$answer_device" || status=1
[ "$with_cpu" = 1 ] && { answers cpu || status=1; }
embeddings_remote || status=1
[ "$with_cpu" = 1 ] && { embeddings_cpu || status=1; }

"$node" --input-type=module - "$out" > "$out/summary.md" <<'JS'
import { existsSync, readFileSync } from "node:fs";
const out = process.argv[2];
const read = (name) => (existsSync(`${out}/${name}`) ? JSON.parse(readFileSync(`${out}/${name}`, "utf8")) : undefined);
const lines = ["# Sift GPU benchmark", "", "```", readFileSync(`${out}/environment.txt`, "utf8").trim(), "```", ""];
lines.push("| answers | runs on | variant | answers | with a citation | first token p50 / p99 ms | ms per output token p50 | output tokens/s |", "|---|---|---|---|---|---|---|---|");
for (const device of ["cuda", "auto", "cpu"]) {
  const figures = read(`answer-${device}.json`);
  if (!figures) continue;
  const runs = figures.device.runs + (figures.device.gpus.length ? ` (${figures.device.gpus.join(", ")})` : "") + (figures.device.fallback ? ` fallback: ${figures.device.fallback}` : "");
  for (const [name, v] of Object.entries(figures.variants)) {
    lines.push(`| ${device} | ${runs} | ${name} | ${v.answers} | ${(100 * v.answersWithCitation).toFixed(0)} % | ${v.firstTokenMs.p50} / ${v.firstTokenMs.p99} | ${v.msPerOutputToken.p50} | ${v.outputTokensPerSecond?.toFixed(1) ?? "-"} |`);
  }
}
lines.push("", "| embeddings | chunks | seconds | passages/s |", "|---|---|---|---|");
const server = read("embed-server.json");
if (server?.remote) lines.push(`| ${readFileSync(`${out}/environment.txt`, "utf8").match(/embedding server runs: (.*)/)?.[1] ?? "embedding server"} (embed_server.py, standing in for TEI) | ${server.remote.passages} | ${server.remote.seconds.toFixed(2)} | ${server.remote.passagesPerSecond.toFixed(1)} |`);
const cpu = read("embed-cpu.json");
if (cpu?.localCpu) lines.push(`| in-process ONNX, CPU, ${cpu.localCpu.threads} threads | ${cpu.localCpu.passages} | ${cpu.localCpu.seconds.toFixed(2)} | ${cpu.localCpu.passagesPerSecond.toFixed(1)} |`);
console.log(lines.join("\n"));
JS
cat "$out/summary.md"
echo "run-bench: figures in $out"
exit $status
