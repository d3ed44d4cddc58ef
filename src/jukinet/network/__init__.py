"""The network between nodes: PKI, signed envelopes, delivery."""
