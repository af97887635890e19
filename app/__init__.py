"""The composition root: the `infinipost-bot` command, which assembles the core, storage and the chat platforms."""
