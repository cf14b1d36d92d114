"""The router (ACD): decides where each contact waits and who is offered it."""
