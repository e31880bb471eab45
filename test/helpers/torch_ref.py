# Reference side of the parity tests: a long-lived PyTorch process that executes snippets
# sent by test/helpers/torchRef.ts over stdin (one JSON request per line) and answers with
# the requested tensors, base64-encoded.
import base64, json, sys, traceback
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DT = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64,
      "int32": torch.int32, "uint8": torch.uint8, "bool": torch.bool,
      "float16": torch.float16, "bfloat16": torch.bfloat16, "int8": torch.int8, "int16": torch.int16}
NAME = {v: k for k, v in DT.items()}

def decode(spec):
    raw = base64.b64decode(spec["b64"])
    t = torch.frombuffer(bytearray(raw), dtype=DT[spec["dtype"]]) if raw else torch.empty(0, dtype=DT[spec["dtype"]])
    return t.reshape(spec["shape"]).clone()

def encode(t):
    if not isinstance(t, torch.Tensor):
        t = torch.tensor(t)
    t = t.detach().contiguous().cpu()
    return {"dtype": NAME[t.dtype], "shape": list(t.shape), "b64": base64.b64encode(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()).decode()}

torch.set_num_threads(int(__import__("os").environ.get("KDEP_REF_THREADS", "2")))
env = {"torch": torch, "nn": nn, "F": F, "np": np}
for line in sys.stdin:
    req = json.loads(line)
    try:
        ns = dict(env)
        for k, spec in req.get("inputs", {}).items():
            t = decode(spec)
            if k in req.get("requiresGrad", []):
                t.requires_grad_(True)
            ns[k] = t
        exec(req["code"], ns)
        out = [encode(eval(e, ns)) for e in req.get("outputs", [])]
        sys.stdout.write(json.dumps({"outputs": out}) + "\n")
    except Exception:
        sys.stdout.write(json.dumps({"error": traceback.format_exc()}) + "\n")
    sys.stdout.flush()
