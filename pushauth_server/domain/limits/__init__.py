"""Push-bombing defences: one pending challenge, a window limit with doubling delays, lockouts."""
