"""Telephony port and adapters (sim now; Twilio and Asterisk in their own packages)."""
