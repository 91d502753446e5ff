"""SplitMix64's finalizer (Steele, Lea, Flood, 2014): unrelated 64-bit values from nearby ones. The
reference prior samplers and the dropout keys derive their seeds with it."""

MASK64 = 2**64 - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def splitmix64(x: int) -> int:
    """The finalizer of a 64-bit state x."""
    x &= MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)
