"""jukinet.domain"""
