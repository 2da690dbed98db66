"""The words of the trade as plain values.

Money and prices, languages, listing states, stock counts, orders, reviews, quotas: no
I/O, no clock; every room may use them.
"""
