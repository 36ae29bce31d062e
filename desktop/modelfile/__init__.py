"""Facts about model files: the GGUF header, the chat style it implies, the memory it needs.

The ground floor shared by the engine and the library; it imports neither.
"""
