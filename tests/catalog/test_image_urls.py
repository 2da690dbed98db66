"""Image URLs in a catalog: ``validate`` refuses what no fetch may ever go to (a literal
loopback, link-local, private or reserved address, a user or password in the URL), with the
file, the line, the SKU and what to write instead. A host name is not resolved here: its
addresses are checked when the photo is fetched (tests/common/test_netsafe.py)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from syndicator.cli import app
from tests.catalog.test_rules import csv_catalog, only
from tests.conftest import WriteFile


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://169.254.169.254/latest/meta-data/rug.jpg", "169.254.169.254 is a link-local"),
        ("https://[::1]/rug.jpg", "::1 is a loopback address"),
        ("https://127.0.0.1/rug.jpg", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.1/rug.jpg", "10.0.0.1 is a private network address"),
        ("https://192.168.1.20:8443/rug.jpg", "192.168.1.20 is a private network address"),
        ("https://[fe80::1]/rug.jpg", "link-local"),
        ("https://[::ffff:127.0.0.1]/rug.jpg", "loopback"),
        ("https://2130706433/rug.jpg", "127.0.0.1 is a loopback"),
        ("https://localhost/rug.jpg", "localhost is this machine"),
        ("https://0.0.0.0/rug.jpg", "unspecified"),
        ("https://user:pass@cdn.example.org/rug.jpg", "user name or password"),
        ("https:///rug.jpg", "names no host"),
    ],
)
def test_an_image_url_no_fetch_may_go_to_is_refused_where_it_is_written(
    write: WriteFile, url: str, said: str
) -> None:
    problem = only(csv_catalog(write, f'R-1,,Tapis,Rug,rugs,450,1,"images/rug.jpg|{url}",'))
    assert (problem.line, problem.sku) == (2, "R-1")
    assert problem.message.startswith('image "https://')
    assert said in problem.message
    assert "public https host" in problem.message and "catalog's folder" in problem.message
    assert "pass" not in problem.message.replace("password", "")  # the password is never shown


def test_public_image_urls_still_pass(write: WriteFile) -> None:
    catalog = csv_catalog(
        write,
        'R-1,,Tapis,Rug,rugs,450,1,"https://cdn.example.org/r.jpg|https://93.184.215.14/r.jpg",',
    )
    assert catalog.problems == ()


def test_validate_names_file_line_and_sku_and_leaves_the_product_out(write: WriteFile) -> None:
    catalog = write(
        "atlas.yaml",
        """\
        cooperative: atlas-rugs
        currency: MAD
        products:
          - sku: RUG-1
            title: {fr: Tapis}
            category: rugs
            price: 450
            stock: 1
            images:
              - https://169.254.169.254/latest/meta-data/iam/rug.jpg
          - sku: RUG-2
            title: {fr: Tapis}
            category: rugs
            price: 450
            stock: 1
        """,
    )
    result = CliRunner().invoke(app, ["validate", str(catalog)])
    assert result.exit_code == 1, result.output
    assert (
        f'{catalog}:9: RUG-1: image "https://169.254.169.254/latest/meta-data/iam/rug.jpg" '
        "cannot be fetched: 169.254.169.254 is a link-local address"
    ) in " ".join(result.output.split())
    assert "left out until fixed: RUG-1" in result.output
