"""Asterisk over AMI: an asyncio client of our own and the telephony adapter."""
