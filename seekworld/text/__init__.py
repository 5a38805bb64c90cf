"""Text as the reward reads it: the canonical reading of policy text (`canonical`)."""
