#!/usr/bin/env python3
"""A small OpenAI-compatible embeddings server, standing in for TEI where no TEI binary can be had.

    python3 embed_server.py --model DIR [--backend sentence-transformers|onnx] [--device cuda|cpu]
                            [--port 8089] [--name NAME] [--batch 64]

POST /v1/embeddings {"model", "input": str | [str], "encoding_format"?: "float"} answers
{"object": "list", "data": [{"object": "embedding", "index", "embedding"}], "model", "usage"}; GET /health
answers {"status": "ok", "backend", "device"}. Only the standard library serves HTTP.

Backends:
- sentence-transformers (the GPU host's): SentenceTransformer(DIR, device=...), normalised vectors;
- onnx (for a machine without PyTorch): onnxruntime + tokenizers on DIR/onnx/model.onnx and DIR/tokenizer.json,
  mean pooling over the attention mask, L2-normalised (what all-MiniLM-L6-v2's sentence-transformers
  pipeline does); CUDAExecutionProvider when --device cuda and onnxruntime has it.
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class SentenceTransformersBackend:
    def __init__(self, model_dir: str, device: str):
        import torch
        from sentence_transformers import SentenceTransformer

        if device == "cuda" and not torch.cuda.is_available():
            print("embed_server: CUDA asked for but torch sees no GPU: running on the CPU", file=sys.stderr)
            device = "cpu"
        self.device = device
        self.label = f"sentence-transformers on {device}" + (
            f" ({torch.cuda.get_device_name(0)})" if device == "cuda" else ""
        )
        self.model = SentenceTransformer(model_dir, device=device)

    def embed(self, texts: list, batch: int) -> list:
        vectors = self.model.encode(texts, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True)
        return vectors.tolist()


class OnnxBackend:
    def __init__(self, model_dir: str, device: str):
        import onnxruntime
        from tokenizers import Tokenizer

        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
                providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
            else:
                print("embed_server: onnxruntime has no CUDA provider: running on the CPU", file=sys.stderr)
                device = "cpu"
        self.device = device
        self.label = f"onnxruntime on {device}"
        root = Path(model_dir)
        self.session = onnxruntime.InferenceSession(str(root / "onnx" / "model.onnx"), providers=providers)
        self.inputs = {entry.name for entry in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=256)
        self.tokenizer.enable_padding()

    def embed(self, texts: list, batch: int) -> list:
        import numpy

        out = []
        for start in range(0, len(texts), batch):
            encoded = self.tokenizer.encode_batch(texts[start : start + batch])
            ids = numpy.array([e.ids for e in encoded], dtype=numpy.int64)
            mask = numpy.array([e.attention_mask for e in encoded], dtype=numpy.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = numpy.zeros_like(ids)
            hidden = self.session.run(None, feed)[0]
            weights = mask[..., None].astype(numpy.float32)
            pooled = (hidden * weights).sum(axis=1) / numpy.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= numpy.clip(numpy.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.extend(pooled.tolist())
        return out


def make_handler(backend, name: str, batch: int):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: the benchmark prints its own figures
            pass

        def reply(self, status: int, body: dict):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            if self.path == "/health":
                self.reply(200, {"status": "ok", "backend": backend.label, "device": backend.device})
            else:
                self.reply(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

        def do_POST(self):
            if self.path != "/v1/embeddings":
                self.reply(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
                texts = request["input"]
                texts = [texts] if isinstance(texts, str) else texts
                if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                    raise ValueError("input must be a string or a list of strings")
            except (ValueError, KeyError, TypeError) as error:
                self.reply(400, {"error": {"message": str(error), "type": "invalid_request_error"}})
                return
            with lock:
                vectors = backend.embed(texts, batch)
            tokens = sum(len(t.split()) for t in texts)
            self.reply(
                200,
                {
                    "object": "list",
                    "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                    "model": request.get("model", name),
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                },
            )

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="model folder (sentence-transformers or ONNX layout)")
    parser.add_argument("--backend", choices=["sentence-transformers", "onnx"], default="sentence-transformers")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--name", default="all-MiniLM-L6-v2")
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    backend = (SentenceTransformersBackend if args.backend == "sentence-transformers" else OnnxBackend)(
        args.model, args.device
    )
    server = ThreadingHTTPServer((args.host, args.port), make_handler(backend, args.name, args.batch))
    print(f"embed_server: {backend.label}, http://{args.host}:{args.port}/v1/embeddings", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
