"""jukinet.services"""
