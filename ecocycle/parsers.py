"""The API's JSON parser: a body nested deeper than any of our requests is refused as a 400.

Python's json module recurses once per level, so a body of 100,000 brackets raises
RecursionError (a 500), and one that parses only just still recurses again in every
serializer, renderer and audit entry that walks it. Our deepest request (a course with its
technologies) has four levels.
"""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _too_deep(data, limit: int) -> bool:
    # Iterative, so that measuring the depth cannot itself exhaust the stack.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            too_deep = _too_deep(data, MAX_DEPTH)
        except RecursionError:
            too_deep = True
        if too_deep:
            raise ParseError(_("The JSON body is nested too deeply: at most %(limit)s levels.")
                             % {"limit": MAX_DEPTH})
        return data
