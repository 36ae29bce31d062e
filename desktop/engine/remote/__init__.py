"""OpenAI-compatible servers (llama-server, vLLM, Ollama, LM Studio, exo) as engines."""

from desktop.engine.remote.engine import RemoteEngine
from desktop.engine.remote.servers import KeyStore, Server, ServerError, Servers

__all__ = ["KeyStore", "RemoteEngine", "Server", "ServerError", "Servers"]
