"""From catalog rows to what each channel needs.

Which rows to check at all, what each channel should show (projection: language, price,
stock), and the operations that take it there. Never calls a channel.
"""
