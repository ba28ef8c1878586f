"""Check that a model's config and tokenizer load, and describe it (no weights are loaded).

python -m workers.ml.inspect_model path/or/hub-id
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def inspect_model(source: str) -> dict[str, Any]:
    """Load config and tokenizer for a Hugging Face id or a local directory; raise if either fails."""
    from transformers import AutoConfig, AutoTokenizer

    local = Path(source).expanduser()
    kwargs: dict[str, Any] = {"local_files_only": True} if local.exists() else {}
    ref = str(local) if local.exists() else source
    config = AutoConfig.from_pretrained(ref, **kwargs)
    tokenizer = AutoTokenizer.from_pretrained(ref, **kwargs)
    hidden = getattr(config, "hidden_size", None) or getattr(config, "n_embd", None)
    layers = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    return {
        "model_type": config.model_type,
        "architectures": list(getattr(config, "architectures", None) or []),
        "hidden_size": hidden,
        "num_layers": layers,
        "vocab_size": getattr(config, "vocab_size", None),
        "has_chat_template": bool(getattr(tokenizer, "chat_template", None)),
        "eos_token": tokenizer.eos_token,
        "pad_token": tokenizer.pad_token,
        "local": local.exists(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="A Hugging Face model id or a local directory.")
    args = parser.parse_args()
    print(json.dumps(inspect_model(args.source), indent=2))


if __name__ == "__main__":
    main()
