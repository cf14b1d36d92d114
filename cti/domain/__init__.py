"""The contact-centre domain: vocabulary, state machines and events. Imports no adapter."""
