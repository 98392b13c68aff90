"""A lock or build whose package index does not answer names that index (issue 24).

uv's stderr is the contract here (`builder/index_reach.py` quotes it); the functional test in
tests/functional/test_lock_unreachable_index.py runs the real uv against a closed port."""

from __future__ import annotations

import socket

import pytest

from layersmith.builder.index_reach import unreachable_index
from layersmith.builder.wheel_index import PyPIIndex
from layersmith.errors import EnvironmentProblem

REFUSED = """error: Failed to fetch: http://127.0.0.1:37999/simple/six/
  cause: error sending request for url (http://127.0.0.1:37999/simple/six/)
  cause: client error (Connect)
  cause: tcp connect error
  cause: Connection refused (os error 111)
"""
NO_DNS = """error: Request failed after 3 retries in 5.8s
  cause: Failed to fetch: https://pypi.org/simple/six/
  cause: error sending request for url (https://pypi.org/simple/six/)
  cause: client error (Connect)
  cause: dns error
  cause: failed to lookup address information: Name or service not known
"""
NO_WHEEL = ("error: No solution found when resolving dependencies:\n"
            "  cause: Because numpy==2.4.6 has no usable wheels and you require numpy==2.4.6, we can conclude "
            "that your requirements are unsatisfiable.\n")


def test_a_refused_index_is_named_with_the_variable_that_set_it() -> None:
    problem = unreachable_index(REFUSED, {"UV_INDEX_URL": "http://127.0.0.1:37999/simple"})
    assert problem is not None and problem.exit_code == 1
    assert problem.render() == (
        "cannot reach the package index http://127.0.0.1:37999/simple (from UV_INDEX_URL): Connection refused "
        "(os error 111); check the network (a proxy: HTTPS_PROXY), or set UV_DEFAULT_INDEX to an index this "
        "machine reaches")


def test_a_named_uv_index_entry_is_matched_by_its_url() -> None:
    problem = unreachable_index(REFUSED, {"UV_INDEX": "internal=http://127.0.0.1:37999/simple"})
    assert problem is not None and "http://127.0.0.1:37999/simple (from UV_INDEX)" in problem.render()


def test_pypi_unreachable_says_it_is_uvs_default() -> None:
    problem = unreachable_index(NO_DNS, {})
    assert problem is not None
    assert problem.render().startswith("cannot reach the package index https://pypi.org/simple (uv's default: "
                                       "none of UV_DEFAULT_INDEX, UV_INDEX_URL, UV_INDEX, UV_EXTRA_INDEX_URL is "
                                       "set): failed to lookup address information: Name or service not known; ")


def test_a_resolution_failure_is_not_a_network_problem() -> None:
    assert unreachable_index(NO_WHEEL, {}) is None
    assert unreachable_index("error: Failed to fetch: https://pypi.org/simple/x/\n  cause: HTTP status 404\n",
                             {}) is None


def test_pypis_json_api_out_of_reach_is_an_environment_problem_naming_the_url() -> None:
    with socket.socket() as sock:  # bound then released: nothing listens there afterwards
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/pypi/{{name}}/json"
    with pytest.raises(EnvironmentProblem) as err:
        PyPIIndex(url, timeout=5).files("Six")
    assert err.value.render().startswith(f"cannot reach PyPI's JSON API at http://127.0.0.1:{port}/pypi/six/json "
                                         "to look up Six: [Errno 111] Connection refused; check the network")
