"""The conversation transcript: messages, Markdown, code blocks, thinking, branches."""
