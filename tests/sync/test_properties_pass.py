"""One bad row never stops a cooperative (issue 14): generated catalogs, as members write
them and as they should not, through a whole pass against the three sandbox marketplaces.

Hypothesis writes one YAML catalog after another for the kit's cooperative (the generator of
tests/catalog/test_properties.py: odd and huge numbers, Arabic and Tamazight titles with
commas and quotes, variants, one shop's changes), beside the kit's four good products; each
is then synced, the next one on top of what the last left on the shops and in the store.
No exception may escape the pass, no shop may stop (a refusal is one listing's), and
nothing may fail on a failure of Syndicator's own. That every accepted product is planned
for every shop is tests/catalog/test_properties.py's property.
"""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from syndicator.catalog import load_catalog
from syndicator.common.problems import Unreadable
from syndicator.store.journal import query_journal
from syndicator.sync.reconcile import sync_once
from tests.catalog.test_properties import Items, as_yaml, products
from tests.connectors.kit import CATALOG, World
from tests.sync.test_reconcile import MARKETS, write_catalog

BUG = "this is a bug"
KIT_PRODUCTS = CATALOG.partition("products:\n")[2]  # the kit's four SKUs, as list items


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=products(), plain=st.booleans())
def test_generated_catalogs_go_through_a_whole_pass_without_an_exception(
    world: World, items: Items, plain: bool
) -> None:
    text = as_yaml(items, plain).replace("cooperative: atlas\n", "cooperative: atlas-rugs\n")
    text += KIT_PRODUCTS  # good products beside the generated ones: every pass has work
    write_catalog(world, text)
    path = world.root / "catalogs" / "atlas-rugs.yaml"
    try:
        accepted = {u.sku for u in load_catalog(path, channels=MARKETS).units()}
    except Unreadable:
        accepted = set()
    event("some products accepted" if accepted else "none accepted")
    # Orders are not what this is about (and Amazon's order search allows one pull in minutes)
    report = sync_once(world.config, world.store, timeout=5.0, confirm_delist=True, orders_from=())
    event("something sent" if any(c.done for c in report.channels) else "nothing sent")
    stopped = {c.channel: c.stopped for c in report.channels if c.stopped}
    assert not stopped, stopped  # no shop stopped: refusals are per listing
    with world.store.read() as conn:
        bugs = [e for e in query_journal(conn, limit=10_000) if BUG in (e.message or "")]
    assert not bugs, [(e.channel, e.sku, e.message) for e in bugs]
    if accepted:  # the pass read what the checks accept: no "cannot be read"
        assert not report.unreadable, report.unreadable
