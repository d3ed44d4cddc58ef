"""jukinet.data"""
