"""Words dropped from a search query unless part of a synonym phrase ("had a fall", "end of life")."""

from __future__ import annotations

# fmt: off
STOPWORDS = frozenset(
    (
        "a", "about", "am", "an", "and", "any", "are", "as", "at", "be", "been", "can",
        "could", "do", "does", "for", "from", "get", "got", "has", "have", "he", "her", "him",
        "his", "how", "i", "if", "in", "into", "is", "it", "its", "me", "my", "need",
        "needs", "of", "on", "or", "our", "please", "she", "should", "so", "some", "someone", "somebody",
        "than", "that", "the", "their", "them", "they", "this", "to", "was", "we", "what", "when",
        "where", "which", "who", "will", "with", "would", "you", "your", "just", "like", "want", "wants",
        "there", "after", "also", "being", "did", "doing", "still", "very", "really",
    )
)
# fmt: on
