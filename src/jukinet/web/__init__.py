"""jukinet.web"""
