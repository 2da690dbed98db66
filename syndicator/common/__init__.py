"""Small pieces every room uses.

Problems with their file and line, safe YAML, logs and their one redactor, bulk work,
a web server in a thread, outbound requests held to public addresses.
"""
