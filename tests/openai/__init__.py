"""OpenAI-compatible servers on 127.0.0.1 for the remote-engine tests."""
