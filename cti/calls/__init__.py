"""Call use cases: what happens when a call arrives, is answered, held, ended and wrapped up."""
