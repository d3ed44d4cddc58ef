"""jukinet.cli"""
