"""State store port and adapters: router state (contacts, agents, offers, timers), assigned atomically."""
