"""Event bus port and adapters: numbered per-stream events, replay, and explicit resync."""
