"""The page list of tests/routes.py keeps up with config.urls, also where no browser runs the
page test: a new route needs an entry, and an entry whose route is gone is stale."""

from tests.routes import NOT_PAGES, PAGES, POST_ONLY, is_page, route_name, routes


def test_every_route_is_listed_as_a_page_or_as_no_page():
    names = {route_name(*route) for route in routes()}
    pages = {name for name in names if is_page(name)}  # raises for a route neither list names
    assert pages == set(PAGES), f"PAGES names routes that are gone: {set(PAGES) - pages}"
    assert not (set(NOT_PAGES) | POST_ONLY) - names, "NOT_PAGES or POST_ONLY name a gone route"
