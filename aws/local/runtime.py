"""The local sagemaker-runtime: invoke_endpoint answers JSON shaped like the JumpStart container of
the endpoint's model, found through its `sagemaker-sdk:jumpstart-model-id` tag, whose second part is
the task: ic/tc/spc {"probabilities", "labels", "predicted_label"}; od {"normalized_boxes",
"classes", "scores", "labels"}; *embedding {"embedding"}; eqa {"answer", "score", "start", "end"};
text2text, summarization, translation {"generated_text"}; llm*, textgeneration*, reasoning, vlm
[{"generated_text"}]; txt2img* {"generated_images": [base64 PNG], "prompt"}; anything else an
echo of what was received. An endpoint that is missing or not InService raises ValidationError
"Endpoint NAME of account 123456789012 not found.", as AWS does.
"""

import base64
import hashlib
import json
import random
import re
import struct
import zlib
from urllib.parse import unquote

from .core import _error
from .sagemaker import SERVING, _Life, _lives, _settle


def patches():
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    return [(SageMakerRuntimeResponse, "invoke_endpoint", _invoke_endpoint)]


def prepare():
    """Invocation bodies may be images: keep them bytes instead of moto's UTF-8 decoding."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    SageMakerRuntimeResponse.use_raw_body = True


IMAGENET_LABELS = ["tabby cat", "golden retriever", "espresso", "mountain bike", "lighthouse"]
COCO_LABELS = ["person", "dog", "bicycle", "car", "cup"]


def _invoke_endpoint(self):
    from moto.sagemaker.models import sagemaker_backends

    backend = sagemaker_backends[self.current_account][self.region]
    name = unquote(self.path.split("/")[2])
    _settle(backend, [name])
    endpoint = backend.endpoints.get(name)
    if endpoint is None or endpoint.endpoint_status not in SERVING:
        # AWS routes only to serving endpoints: one still Creating, Failed or Deleting is not found.
        raise _error("ValidationError", f"Endpoint {name} of account {self.current_account} not found.")
    life = _lives.get(endpoint) or _Life(model_id=None, variant=None)
    body = self.body if isinstance(self.body, bytes) else (self.body or "").encode()
    answer = _answer(life.model_id, body, self.headers.get("Content-Type"))
    headers = {"Content-Type": "application/json"}
    if life.variant:
        headers["x-Amzn-Invoked-Production-Variant"] = life.variant
    return 200, headers, json.dumps(answer)


def _answer(model_id, body, content_type=None):
    """What the JumpStart container serving `model_id` would answer to `body`, deterministically."""
    task = model_id.split("-")[1] if model_id and "-" in model_id else None
    payload = _payload(body)
    text = _text_in(payload)
    rng = random.Random(hashlib.sha256(body).digest())
    if task in ("ic", "tc", "spc"):
        labels = IMAGENET_LABELS if task == "ic" else ["LABEL_0", "LABEL_1"]
        probabilities = _probabilities(rng, len(labels))
        best = max(range(len(labels)), key=probabilities.__getitem__)
        return {"probabilities": probabilities, "labels": labels, "predicted_label": labels[best]}
    if task == "od":
        boxes = [_box(rng) for _ in range(2)]
        classes = [rng.randrange(len(COCO_LABELS)) for _ in boxes]
        return {"normalized_boxes": boxes, "classes": [float(c) for c in classes],
                "scores": sorted((round(rng.uniform(0.5, 0.99), 4) for _ in boxes), reverse=True),
                "labels": [COCO_LABELS[c] for c in classes]}
    if task and task.endswith("embedding"):
        texts = payload.get("text_inputs") if isinstance(payload, dict) else payload
        if isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts):
            return {"embedding": [_vector(t.encode()) for t in texts]}
        return {"embedding": _vector(body)}
    if task == "eqa":
        return _extractive_answer(payload)
    if task in ("text2text", "summarization", "translation"):
        return {"generated_text": _generated(task, text, model_id)}
    if task and (task.startswith(("llm", "textgeneration")) or task in ("reasoning", "vlm")):
        return [{"generated_text": _generated(task, text, model_id)}]
    if task and task.startswith("txt2img"):
        colour = hashlib.sha256(text.encode()).digest()[:3]
        return {"generated_images": [base64.b64encode(_png(colour)).decode()], "prompt": text}
    return {
        "model_id": model_id, "task": task,
        "received": {"content_type": content_type, "bytes": len(body),
                     "text": text[:200] if text else None},
        "note": "the local AWS has no canned answer for this task, so it says what it received",
    }


def _payload(body):
    """The request as JSON, else as text, else None (an image)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _text_in(payload):
    if isinstance(payload, str):
        return payload
    if isinstance(payload, list):
        return " ".join(filter(None, map(_text_in, payload)))
    if isinstance(payload, dict):
        if messages := payload.get("messages"):  # the chat (Messages API) form
            return _text_in(messages[-1].get("content") if isinstance(messages[-1], dict) else messages)
        for key in ("inputs", "text_inputs", "prompt", "text", "question", "content"):
            if payload.get(key):
                return _text_in(payload[key])
    return ""


def _probabilities(rng, n):
    weights = [rng.random() ** 3 + 0.01 for _ in range(n)]
    return [round(w / sum(weights), 4) for w in weights]


def _box(rng):
    """[x1, y1, x2, y2], each between 0 and 1, as the detectors' normalized_boxes."""
    (x1, x2), (y1, y2) = (sorted(round(rng.random(), 3) for _ in range(2)) for _ in range(2))
    return [x1, y1, x2, y2]


def _vector(seed, dimensions=384):
    rng = random.Random(hashlib.sha256(seed).digest())
    values = [rng.gauss(0, 1) for _ in range(dimensions)]
    norm = sum(v * v for v in values) ** 0.5
    return [round(v / norm, 6) for v in values]


def _generated(task, text, model_id):
    prompt = " ".join(text.split())
    if task == "summarization":
        words = (prompt.split(". ")[0] or "Nothing to summarise.").split()
        return " ".join(words[:30]).rstrip(".") + "."
    if task == "translation":
        return f"{prompt} (translated by the local AWS, which runs no model)"
    shown = prompt if len(prompt) <= 120 else prompt[:117] + "..."
    return (f"Here is an answer to \u201c{shown}\u201d from the local AWS, which stands in for "
            f"{model_id} without running it.")


def _extractive_answer(payload):
    """The context's sentence that shares most words with the question, as an extractive QA
    model would pick a span."""
    if isinstance(payload, list) and len(payload) == 2:  # application/list-text: [question, context]
        question, context = payload
    elif isinstance(payload, dict):
        question, context = payload.get("question", ""), payload.get("context", "")
    else:
        question, context = "", _text_in(payload)
    asked = set(re.findall(r"\w+", str(question).lower()))
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", str(context)) if s.strip()]
    if not sentences:
        return {"answer": "", "score": 0.0, "start": 0, "end": 0}
    overlap = [len(asked & set(re.findall(r"\w+", s.lower()))) for s in sentences]
    best = max(range(len(sentences)), key=overlap.__getitem__)
    answer = sentences[best].rstrip(".!?")
    start = str(context).find(answer)
    score = round(0.5 + 0.49 * overlap[best] / max(len(asked), 1), 4)
    return {"answer": answer, "score": score, "start": start, "end": start + len(answer)}


def _png(rgb, size=16):
    """A size x size PNG of one colour: enough for a page to show that an image came back."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + bytes(rgb) * size) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))

