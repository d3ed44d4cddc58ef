"""jukinet.seed"""
