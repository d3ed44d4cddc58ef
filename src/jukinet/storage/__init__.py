"""jukinet.storage"""
