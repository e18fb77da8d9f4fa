"""The medallion domains' local side: source feeds for the landing Volumes."""
