"""A registry over HTTP (docs/model.md §8): serve any registry, or drive one in any language.

- :mod:`sim.remote.wire`: the JSON form of every value crossing the wire, decoded strictly;
- :mod:`sim.remote.server`: a Starlette application serving any Python registry, and
  :func:`~sim.remote.server.serve` running it with uvicorn;
- :mod:`sim.remote.client`: :class:`~sim.remote.client.HttpRegistry`, the registry a world drives
  (model ``"http"``, options ``url``, ``timeout``, ``batch``, ``prefetch_after``);
- :mod:`sim.remote.command`: ``pushsim serve-registry``;
- ``openapi.yaml``: the protocol, for implementations in other languages.

The server and the client need the ``http`` extra (Starlette, uvicorn, httpx); importing this
package does not.
"""
